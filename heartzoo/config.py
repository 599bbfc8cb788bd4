"""Validated configuration: one file describes one zoo model end to end. Every section forbids unknown
keys: a typo is an error naming the file, the field and what is allowed, not a setting silently ignored."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .data.augment import AugmentConfig
from .data.splits import ValidationSplit
from .errors import ConfigError
from .io import read_mapping
from .legacy import from_schema_1
from .meta import NAME_PATTERN, VERSION_PATTERN
from .preprocess import InputSpec
from .validation import describe_errors, plain_path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AFBeats(_Strict):
    """Beats in atrial fibrillation, unlabelled, trained on as "not S" (`heartzoo.training.af_beats`)."""

    sources: list[Literal["cinc2017", "aftdb"]] = Field(
        ["cinc2017", "aftdb"], min_length=1, description="CinC 2017's training-split AF recordings, aftdb."
    )
    share: float = Field(0.1, gt=0, le=0.5, description="Share of each training batch drawn from them.")


class DataConfig(_Strict):
    train: list[str] = Field(
        ["mitdb:DS1"],
        min_length=1,
        description="Training records, as DATABASE:SET or DATABASE:RECORD (e.g. [mitdb:DS1, svdb:all]); the "
        "validation patients are drawn from all of them. mitdb's DS2 is the test and never trains.",
    )
    protocol: Literal["inter-patient", "leaky-random-beat", "patient-deal"] = Field(
        "inter-patient",
        description="inter-patient: DS1 train, DS2 test (de Chazal 2004). leaky-random-beat: random beats, the "
        "same patients in train and test (only to compare with papers). patient-deal (window tasks): the "
        "patients of `train` dealt into test, validation and training, stratified by class.",
    )
    test_fraction: float = Field(0.25, gt=0, lt=0.5, description="patient-deal: the test's share of windows.")
    exclude_paced: bool = Field(True, description="Leave out the paced records 102, 104, 107, 217.")
    validation: ValidationSplit = Field(ValidationSplit(), description="The validation patients.")
    leaky_test_fraction: float = Field(
        0.2, gt=0, lt=1, description="Test share for the leaky random-beat split."
    )
    af_beats: AFBeats | None = Field(
        None, description="Also train on AF beats of wearable recordings, with the label 'any class but S'."
    )
    window_hop: float | None = Field(
        None,
        gt=0,
        le=1,
        description="Tasks labelled per recording (af-4): the training windows' hop, as a share of the frame "
        "(0.5: each window overlaps the next by half), so training sees more crops of each recording; "
        "validation and test keep the non-overlapping windows the card's aggregation reads. None: "
        "non-overlapping.",
    )
    extra_leads: bool = Field(
        False,
        description="Beat tasks: training also reads each training record's other leads (mitdb's V1, V2, V4, V5; "
        "svdb's ECG2) as extra views of the same beats, with their labels and RR intervals, so the model "
        "learns beats as other leads and devices show them. Validation and tests read the input's lead alone.",
    )
    shards: str | None = Field(
        None,
        description="A folder of shards prepared from `train` (`heartzoo data shard`): training streams its "
        "beats (or af-4's windows) from there, in flat memory, instead of loading them (the validation "
        "records' rows are left out and validated in memory).",
    )

    @field_validator("shards")
    @classmethod
    def _plain_shards(cls, shards: str | None) -> str | None:
        return None if shards is None else plain_path(shards, "a folder of shards (e.g. shards/beat-3)")

    @field_validator("train")
    @classmethod
    def _known_sources(cls, train: list[str]) -> list[str]:
        from .data.databases import resolve

        for source in train:
            resolve(source)  # a ValueError names what is allowed
        if len(set(train)) != len(train):
            raise ValueError("a source is listed twice")
        return train

    @model_validator(mode="after")
    def _protocol_fits(self) -> DataConfig:
        from .data.splits import data_problem

        if (problem := data_problem(self)) is not None:
            raise ValueError(problem)
        return self


class ModelConfig(_Strict):
    arch: str = Field(..., description="Architecture name from the registry (`heartzoo models`).")
    params: dict[str, Any] = Field(
        {},
        description="Builder parameters; unknown ones are an error. With input.rr_features every architecture "
        "also takes rr_head: a hidden ReLU layer of that many units joining the RR features to the waveform's "
        "before the classifier (0, the default: the classifier is linear in the two); and s_timing: a branch "
        "of that many ReLU units that reads the odds of S against N from the RR features alone (tasks whose "
        "first classes are N and S).",
    )
    comparison: bool = Field(
        False,
        description="Trained on the common recipe to compare architectures: the zoo lists it with them, an "
        "EfficientNetV2 too (otherwise listed as a teacher).",
    )

    @field_validator("arch")
    @classmethod
    def _registered(cls, arch: str) -> str:
        # checked here, before a run folder exists, not when the model is first built
        from .models import get_architecture

        try:
            get_architecture(arch)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        return arch

    @model_validator(mode="after")
    def _known_params(self) -> ModelConfig:
        from .models import get_architecture
        from .models.registry import RR_HEAD, S_TIMING

        allowed = {*get_architecture(self.arch).params(), RR_HEAD, S_TIMING}
        unknown = sorted(set(self.params) - set(allowed))
        if unknown:
            import difflib

            close = [difflib.get_close_matches(u, allowed, n=1) for u in unknown]
            hints = [
                f"{u!r} (did you mean {c[0]!r}?)" if c else repr(u)
                for u, c in zip(unknown, close, strict=True)
            ]
            # "params: ..." names the field itself (validation.describe_errors reads the prefix)
            raise ValueError(
                f"params: unknown parameter(s) {', '.join(hints)} of {self.arch}; allowed: "
                f"{', '.join(sorted(allowed))}"
            )
        return self


class BalanceConfig(_Strict):
    method: Literal["none", "sampling", "class_weight"] = Field(
        "sampling", description="How the rare classes are given weight."
    )
    power: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Class c is drawn (or weighted) in proportion to n_c^power: 0 = fully balanced, 1 = as is.",
    )
    patient_power: float = Field(
        1.0,
        ge=0,
        le=1,
        description="Within class c, patient p is drawn in proportion to n_cp^patient_power (sampling only): "
        "1 = every beat alike (a patient with thousands of S beats fills most of the S draws), 0 = every "
        "patient alike.",
    )

    @model_validator(mode="after")
    def _patients_need_sampling(self) -> BalanceConfig:
        if self.patient_power != 1.0 and self.method != "sampling":
            raise ValueError(f"patient_power {self.patient_power} needs method: sampling, not {self.method}")
        return self


class LossConfig(_Strict):
    name: Literal["crossentropy", "focal"] = Field("crossentropy", description="The training loss.")
    gamma: float = Field(2.0, ge=0, description="Focal loss focusing parameter.")
    label_smoothing: float = Field(0.0, ge=0, lt=1, description="Label mass spread over all classes.")


class TrainConfig(_Strict):
    epochs: int = Field(30, ge=1, description="Most epochs; early stopping may end sooner.")
    batch_size: int = Field(256, ge=1, description="Frames per training step.")
    steps_per_epoch: int | None = Field(None, ge=1, description="Default: training frames / batch size.")
    learning_rate: float = Field(3e-3, gt=0, description="Peak AdamW learning rate, then cosine decay.")
    weight_decay: float = Field(1e-4, ge=0, description="AdamW decoupled weight decay.")
    warmup_epochs: float = Field(1.0, ge=0, description="Linear warm-up from learning_rate / 10.")
    balance: BalanceConfig = Field(BalanceConfig(), description="How the rare classes get weight.")
    loss: LossConfig = Field(LossConfig(), description="The loss and its parameters.")
    patience: int = Field(8, ge=1, description="Epochs without a better validation macro-F1 before stopping.")
    ema: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Momentum of an average of the weights over steps (e.g. 0.998): "
        "validation, selection and the saved model use it; default: the last step's weights.",
    )
    seed: int = Field(0, description="Seed of weights, sampling, augmentation; ensembles add 1, 2, ...")
    max_train_frames: int | None = Field(
        None, ge=1, description="Train on a seeded subset (tests, quick runs); default: all."
    )


class LoggingConfig(_Strict):
    tensorboard: bool = Field(False, description="Write TensorBoard logs to <run>/tensorboard.")
    mlflow: bool = Field(
        False, description="Log to MLflow; default store: <run>/mlruns (a local file store)."
    )
    mlflow_tracking_uri: str | None = Field(
        None, description="A database or server instead of the file store."
    )
    epoch_weights: bool = Field(
        False,
        description="Keep every epoch's validated weights in <run>/epochs/, to compare selection "
        "rules afterwards without training again (studies/selection_rules.py).",
    )


class DistillConfig(_Strict):
    teacher: str = Field(
        ...,
        description="The trained teacher: a zoo model NAME@vN (the local zoo, else downloaded), or a run "
        "folder (model.keras + config.json), without '..'.",
    )

    @field_validator("teacher")
    @classmethod
    def _plain_path(cls, teacher: str) -> str:
        # a config is data too: it names a zoo model or a run folder, and may not climb out of one
        if "@" in teacher:
            name, _, version = teacher.partition("@")
            if re.fullmatch(NAME_PATTERN, name) and re.fullmatch(VERSION_PATTERN, version):
                return teacher
            raise ValueError("a zoo teacher is NAME@vN, e.g. beat-3-efficientnetv2-sm@v1")
        return plain_path(teacher, "a zoo model NAME@vN or a run folder (e.g. runs/NAME)")

    @property
    def zoo_ref(self) -> tuple[str, str] | None:
        """(name, version) when the teacher is a zoo model, None for a run folder."""
        if "@" not in self.teacher:
            return None
        name, _, version = self.teacher.partition("@")
        return name, version

    temperature: float = Field(4.0, gt=0, description="Softmax temperature of the soft targets.")
    alpha: float = Field(
        0.7, ge=0, le=1, description="Weight of the soft-target loss; 1 - alpha on the labels."
    )


class ChannelPruneConfig(_Strict):
    keep: float = Field(0.5, gt=0, le=1, description="Share of the prunable channels kept in every group.")
    criterion: Literal["bn_scale", "l1"] = Field(
        "bn_scale", description="Batch-norm |gamma| or filter L1 norm."
    )
    finetune_epochs: int = Field(8, ge=1, description="Epochs of fine-tuning the thinner model.")
    learning_rate: float = Field(1e-3, gt=0, description="Peak learning rate of the fine-tuning.")
    select: Literal["best", "last"] = Field(
        "best", description="The fine-tune's epoch kept: best on validation, or the last (no early stop)."
    )


class MagnitudePruneConfig(_Strict):
    sparsity: float = Field(0.5, gt=0, lt=1, description="Final share of zero weights (polynomial schedule).")
    epochs: int = Field(4, ge=1, description="Epochs of pruning while fine-tuning.")
    learning_rate: float = Field(5e-4, gt=0, description="Adam learning rate of the pruning epochs.")


class QATConfig(_Strict):
    epochs: int = Field(
        3, ge=1, description="Epochs of quantization-aware fine-tuning (tfmot, tf_keras twin)."
    )
    learning_rate: float = Field(1e-4, gt=0, description="Adam learning rate of the fine-tuning.")


class CompressConfig(_Strict):
    distill: DistillConfig | None = Field(None, description="Learn from a teacher's soft targets too.")
    channel_prune: ChannelPruneConfig | None = Field(None, description="Structured channel pruning.")
    magnitude_prune: MagnitudePruneConfig | None = Field(None, description="tfmot magnitude pruning.")
    qat: QATConfig | None = Field(None, description="Quantization-aware fine-tuning before export.")


class ExportConfig(_Strict):
    max_f1_drop: float = Field(
        0.01, ge=0, le=1, description="Largest allowed int8-vs-float DS2 macro-F1 drop (0.01 = 1 point)."
    )
    calibration_frames: int = Field(
        600, ge=10, description="Class-stratified training frames for int8 calibration."
    )
    verify_frames: int = Field(1000, ge=1, description="DS2 frames run in both LiteRT and TFLM, bit-exact.")
    int8_runtime: Literal["tflm", "litert"] = Field(
        "tflm",
        description="Runtime of the int8 test metrics: tflm (the microcontroller interpreter, every frame) "
        "or litert (LiteRT's optimized kernels, for models too slow for TFLM on the host; TFLM then runs "
        "the verify_frames, still bit-exact with LiteRT's reference kernels).",
    )
    stage: Literal["last", "best_validation"] = Field(
        "last",
        description="The stage of the run that is exported and published: the last (every compression step "
        "applied) or best_validation, the stage with the highest validation macro-F1 (the later one on a tie), "
        "e.g. the distilled model where its channel-pruned fine-tune validates worse. A model-selection choice "
        "made on the validation patients; an ensemble's members each choose theirs so.",
    )
    aggregation: Literal["mean", "mean+max"] = Field(
        "mean",
        description="Tasks labelled per recording (af-4): how a recording's windows make its class. mean: the "
        "argmax of their mean probabilities; mean+max: a logistic map of the log of their mean and largest "
        "probabilities, fitted at export on the validation recordings (heartzoo.evaluation.aggregation) and "
        "carried in the firmware contract.",
    )
    shrink: bool = Field(
        True,
        description="Write the .tflite without what TFLM and LiteRT never read (tensor names but the inputs', "
        "metadata, signature defs, empty buffers) and with equal vectors and tables stored once "
        "(heartzoo.export.shrink): the same weights and bit-identical outputs in fewer bytes of flash.",
    )


class EnsembleConfig(_Strict):
    """K copies of the recipe, averaged into one model: differing in their training seed, or also in the
    fold of the training data each holds out."""

    members: int = Field(
        ...,
        ge=2,
        le=16,
        description="Members, trained with seeds train.seed, train.seed + 1, ...; each runs the whole recipe "
        "(distillation and compression included) and the published model averages their logits.",
    )
    by: Literal["seed", "fold"] = Field(
        "seed",
        description="seed: the members differ in their seed alone, each trained on the training side and chosen "
        "on the validation side. fold: the training data outside the test split (validation side included) "
        "is dealt into `members` folds (whole patients, or CinC 2017 recordings by label; seeded by "
        "data.validation.seed), member k holds out fold k as its validation: together the members train on "
        "all of it, and the ensemble's validation numbers are out of fold (each recording or patient scored "
        "by the member that did not train on it).",
    )

    def seeds(self, first: int) -> list[int]:
        return list(range(first, first + self.members))


class HeartzooConfig(_Strict):
    """One zoo model, end to end."""

    name: str = Field(..., pattern=NAME_PATTERN, description="Lower-case letters, digits and -, at most 64.")
    task: str = Field(..., description="The task: one of `heartzoo.tasks.TASKS` (beat-3, af-4, ...).")
    description: str = Field("", description="One line on the model card and in the index.")
    data: DataConfig = Field(DataConfig(), description="Which records train, validate and test.")
    input: InputSpec = Field(InputSpec(), description="What the model sees: the firmware contract.")
    augment: AugmentConfig = Field(AugmentConfig(), description="Augmentation of training frames.")
    model: ModelConfig | None = Field(None, description="The architecture (required to train).")
    train: TrainConfig = Field(TrainConfig(), description="Training (of each ensemble member).")
    logging: LoggingConfig = Field(LoggingConfig(), description="Experiment tracking, off by default.")
    compress: CompressConfig = Field(CompressConfig(), description="Compression after training, in order.")
    ensemble: EnsembleConfig | None = Field(None, description="Train K seeds (or folds) and average them.")
    export: ExportConfig = Field(ExportConfig(), description="int8 export, verification, test metrics.")
    _source: str | None = pydantic.PrivateAttr(None)  # its file, for errors found after parsing

    @property
    def where(self) -> str:
        """What an error found after parsing names this recipe by: its file, else its name."""
        return self._source or self.name

    def __eq__(self, other: object) -> bool:  # one recipe, whichever file it was read from
        return self.__dict__ == other.__dict__ if isinstance(other, HeartzooConfig) else NotImplemented

    __hash__ = _Strict.__hash__  # defining __eq__ would drop the frozen model's hash

    @field_validator("task")
    @classmethod
    def _known_task(cls, task: str) -> str:
        from .tasks import TASK_NAMES

        if task not in TASK_NAMES:
            *first, last = (repr(t) for t in TASK_NAMES)
            raise ValueError(f"Input should be {', '.join(first)} or {last}")
        return task

    @model_validator(mode="before")
    @classmethod
    def _from_schema_1(cls, data: Any) -> Any:
        return from_schema_1(data)

    @model_validator(mode="after")
    def _unit_fits(self) -> HeartzooConfig:
        from .data.augment import augment_problem
        from .data.splits import unit_problem

        if (problem := unit_problem(self) or augment_problem(self)) is not None:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _lead_fits(self) -> HeartzooConfig:
        from .data.databases import get_database
        from .tasks import get_task

        # checked after the sections' own rules, and before the lead: af-4's lead is CinC's
        if get_task(self.task).per_recording and [t.lower() for t in self.data.train] != ["cinc2017:train"]:
            raise ValueError(f"data.train: {self.task} trains on cinc2017:train alone")
        for source in self.data.train:
            db = get_database(source.split(":")[0])
            if self.input.lead not in db.leads:
                # "input.lead: ..." names the field (validation.describe_errors), refused before any data
                raise ValueError(
                    f"input.lead: {db.name} (in data.train) has no lead standing for {self.input.lead!r}; it "
                    f"maps {', '.join(map(repr, db.leads)) or 'none'}"
                )
        return self

    @property
    def fold_ensemble(self) -> bool:
        """Whether its members each hold out a fold of the training data (`ensemble.by: fold`)."""
        return self.ensemble is not None and self.ensemble.by == "fold"

    def out_of_fold_refusal(self) -> tuple[str, str] | None:
        """(the field, why) where its folds could not be held out honestly, for cross-validation and fold
        ensembles alike; None where they can."""
        if self.data.protocol != "inter-patient":
            return (
                "data.protocol",
                f"is {self.data.protocol!r}; folds deal whole patients and need 'inter-patient'",
            )
        if self.compress is not None and self.compress.distill is not None:
            return (
                "compress.distill",
                "names a teacher, which saw every fold, so out-of-fold numbers would leak",
            )
        return None

    @model_validator(mode="after")
    def _folds_fit(self) -> HeartzooConfig:
        from .tasks import get_task

        if not self.fold_ensemble:
            return self
        if get_task(self.task).is_quality_gate:  # its CinC validation recordings are a fixed set, not a fold
            raise ValueError(
                f"ensemble.by: fold deals beat records or CinC 2017 recordings, not {self.task}'s windows"
            )
        if refused := self.out_of_fold_refusal():  # as cross-validation refuses it
            raise ValueError(f"ensemble.by: fold, and {refused[0]} {refused[1]}")
        if self.data.validation.records is not None:
            raise ValueError(
                "ensemble.by: fold deals the validation side itself; leave data.validation.records out"
            )
        return self

    @model_validator(mode="after")
    def _timing_fits(self) -> HeartzooConfig:
        from .models.registry import S_TIMING
        from .tasks import get_task

        names = get_task(self.task).class_names
        if self.model is not None and self.model.params.get(S_TIMING) and names[:2] != ("N", "S"):
            raise ValueError(
                f"model.params.{S_TIMING}: reads the odds of S against N; task {self.task} has no such "
                f"classes ({', '.join(names)})"
            )
        return self


def parse_config(data: dict[str, Any], source: str = "<config>") -> HeartzooConfig:
    """Validate a mapping; errors name `source` and every bad field."""
    try:
        config = HeartzooConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(HeartzooConfig, exc, source)) from None
    if source != "<config>":
        config._source = source
    return config


def load_config(path: str | os.PathLike[str], *, model: bool = False) -> HeartzooConfig:
    """Read a YAML or JSON configuration file and validate it. A published version's configuration.json
    (its recipe beside its firmware contract) gives its `config`: the recipe that made that version.
    `model`: the caller trains, so the `model` section (optional for counting data) is required, and its
    absence is named with the file."""
    p = Path(path)
    data = read_mapping(p)
    if set(data) == {"config", "firmware"}:
        if not isinstance(data["config"], dict):
            raise ConfigError(f"{p}: config: a mapping of fields, got {type(data['config']).__name__}")
        config = parse_config(data["config"], source=f"{p}: config")
    else:
        config = parse_config(data, source=str(p))
    if model and config.model is None:
        raise ConfigError(f"{p}: field 'model' is required to train (model.arch, model.params)")
    return config
