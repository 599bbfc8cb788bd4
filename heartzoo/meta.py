"""Typed published metadata: the zoo index (`index.json`) and its entries.

An index is data from outside (a server, a copied folder), so nothing in it is used before it is
validated here: names and versions match strict patterns, every file is a plain file name of the
version's own folder with a bounded size and a sha256, and each entry's path is its task/name/version.
The patterns are also the rules for names that come from configs and the command line.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import HeartzooError
from .io import decode_json, read_capped
from .plain_text import shown, unplain_text

TASK_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
VERSION_PATTERN = r"^v[1-9][0-9]{0,5}$"  # one spelling per version: no v0, no v06
# One file of a version folder: no separators, no drive, cannot be "." or "..".
FILE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_DEVICE_NAMES = {"con", "prn", "aux", "nul", *(f"{d}{i}" for d in ("com", "lpt") for i in range(10))}
SHA256_PATTERN = r"^[0-9a-f]{64}$"
#: What generated C writes as a string or a call, and a terminal prints: a downloaded version's class
#: names, lead and TFLite ops reach both, so none may close a C string or hold a character to escape.
CLASS_PATTERN = r"^[A-Za-z0-9~][A-Za-z0-9~+_.-]{0,31}$"
LEAD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,31}$"
OP_PATTERN = r"^[A-Z][A-Z0-9_]{0,63}$"
TENSOR_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
#: the identifiers of metrics.json that `zoo show` prints as rich text and the cards write as markdown: no
#: brackets, no markup
WORD_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,63}$"
COMMIT_PATTERN = r"^[0-9a-f]{7,64}(-dirty)?$"  # SHA-1 or SHA-256, as git_commit writes it
Word = Annotated[str, Field(pattern=WORD_PATTERN)]
ClassName = Annotated[str, Field(pattern=CLASS_PATTERN)]
#: No published file comes near this (the largest, an EfficientNetV2 .keras, is 5 MB).
MAX_FILE_BYTES = 256 << 20
#: An index of thousands of versions is a few MB; anything past this is not an index.
MAX_INDEX_BYTES = 32 << 20


class ZooIndexError(HeartzooError):
    """An index (or one of its entries) that does not pass validation."""


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlainModel(StrictModel):
    """Published metadata printed in terminals and written into generated C: its every string is plain."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        if isinstance(data, dict) and (at := unplain_text(data)):
            raise ValueError(f"{at}: holds a control character or '*/' (published metadata is plain text)")
        return data


class IndexFile(StrictModel):
    path: str = Field(..., pattern=FILE_PATTERN)
    bytes: int = Field(..., ge=0, le=MAX_FILE_BYTES)
    sha256: str = Field(..., pattern=SHA256_PATTERN)


class IndexSummary(StrictModel):
    """The headline numbers `zoo list` prints (copied from the version's metrics.json)."""

    split: Word | None = None
    float_macro_f1: float | None = None
    int8_macro_f1: float | None = None
    params: int | None = None
    macs: int | None = None
    tflite_bytes: int | None = None
    tflm_arena_bytes: int | None = None
    #: the validation macro-F1 it was selected on (heartzoo.zoo.recommend reads it)
    val_macro_f1: float | None = None


class IndexEntry(PlainModel):
    task: str = Field(..., pattern=TASK_PATTERN)
    name: str = Field(..., pattern=NAME_PATTERN)
    version: str = Field(..., pattern=VERSION_PATTERN)
    path: str
    files: list[IndexFile] = Field(..., min_length=1, max_length=64)
    summary: IndexSummary | None = None

    @field_validator("path")
    @classmethod
    def _derived(cls, path: str, info: ValidationInfo) -> str:
        # the folder can only be task/name/version, each already checked against its pattern
        d = info.data
        if not {"task", "name", "version"} <= set(d):
            raise ValueError("cannot be checked: task, name or version is invalid")
        folder = f"{d['task']}/{d['name']}/{d['version']}"
        if path != folder:
            raise ValueError(f"must be {folder!r} (task/name/version)")
        return path

    @field_validator("files")
    @classmethod
    def _once(cls, files: list[IndexFile]) -> list[IndexFile]:
        names = [f.path for f in files]
        if len({n.casefold() for n in names}) != len(names):  # one file on a case-insensitive disk
            raise ValueError("a file is listed twice (or twice but for upper and lower case)")
        for n in names:  # a download's own temporary name, or a name Windows keeps for a device
            if n.endswith((".part", ".")) or n.split(".")[0].casefold() in _DEVICE_NAMES:
                raise ValueError(f"{n!r} cannot be a published file's name")
        return files

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


class ZooIndex(StrictModel):
    format: Literal[1] = 1
    models: list[IndexEntry] = Field(default_factory=list, max_length=100_000)
    #: task -> NAME@VERSION of the model recommended for a wearable (heartzoo.zoo.recommend)
    recommended: dict[str, str] = Field(default_factory=dict, max_length=100)

    @model_validator(mode="after")
    def _unique(self) -> ZooIndex:
        refs = [m.ref for m in self.models]
        if len(set(refs)) != len(refs):
            dup = sorted({r for r in refs if refs.count(r) > 1})
            raise ValueError(f"versions listed twice: {', '.join(dup)}")
        listed = {m.ref: m.task for m in self.models}
        for task, ref in self.recommended.items():
            if listed.get(ref) != task:
                raise ValueError(f"recommended[{task!r}] = {ref!r} is not a {task} version this index lists")
        return self


def _entry_label(m: Any) -> str:
    return f"{m.get('name')}@{m.get('version')}"


def error_place(
    raw: Any, loc: tuple[Any, ...], items: str = "models", noun: str = "entry", label=_entry_label
) -> str:
    """'entry 3 (x@v1), field files.0.path' for a pydantic error location in a list `items` of `raw`."""
    if len(loc) >= 2 and loc[0] == items and isinstance(loc[1], int):
        where = f"{noun} {loc[1]}"
        with contextlib.suppress(KeyError, IndexError, TypeError, AttributeError):
            where += f" ({shown(label(raw[items][loc[1]]))})"  # the entry's own text, from a server
        field = ".".join(str(p) for p in loc[2:])
        return f"{where}, field {field!r}" if field else where
    return f"field {'.'.join(str(p) for p in loc) or '(top level)'!r}"


def parse_index(raw: Any, source: str) -> ZooIndex:
    """Validate a decoded index; the error names the source, the entry and the field."""
    try:
        return ZooIndex.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:10]:
            got = f" (got {err['input']!r:.120})" if err["type"] != "missing" and "input" in err else ""
            problems.append(f"  - {error_place(raw, tuple(err['loc']))}: {err['msg']}{got}")
        raise ZooIndexError(f"{source}: refused, not a valid zoo index:\n" + "\n".join(problems)) from None


def decode_index(data: bytes, source: str) -> ZooIndex:
    return parse_index(decode_json(data, source, "zoo index", MAX_INDEX_BYTES, ZooIndexError), source)


def read_index_file(path: Path) -> ZooIndex:
    try:
        data = read_capped(path, "zoo index", MAX_INDEX_BYTES, ZooIndexError)
    except FileNotFoundError:
        raise ZooIndexError(f"{path}: no zoo index here (heartzoo export or train --zoo makes one)") from None
    return decode_index(data, str(path))


def version_digest(files: list[dict[str, Any]]) -> str:
    """One sha256 for a whole version: over its `sha256  file` lines in file order, as a SHA256SUMS
    file lists them. `heartzoo zoo show` prints it; pin a version by it (`download --sha256`)."""
    import hashlib

    lines = "".join(f"{f['sha256']}  {f['path']}\n" for f in sorted(files, key=lambda f: f["path"]))
    return hashlib.sha256(lines.encode()).hexdigest()


def check_pin(entry: dict[str, Any], sha256: str | None, source: str) -> None:
    """Refuse a version whose digest is not the pinned one: an index may not swap a version's files."""
    if sha256 is None:
        return
    if not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):  # a typo is not "another digest"
        raise HeartzooError(f"--sha256 {sha256!r}: a version's digest is 64 hex digits (heartzoo zoo show)")
    if (got := version_digest(entry["files"])) != sha256.lower():
        raise ZooIndexError(
            f"{source}: {entry['name']}@{entry['version']} has digest {got}, not the pinned {sha256}; refused"
        )


def check_ref(name: str, version: str | None = None) -> tuple[str, str | None]:
    """NAME[@VERSION] as a user or a config gives it, split and checked against the patterns."""
    if not isinstance(name, str):
        raise HeartzooError(f"a model is named by a string (NAME or NAME@VERSION), got {name!r}")
    if "@" in name:
        name, given = name.split("@", 1)
        if version is not None and version != given:
            raise HeartzooError(f"{name}@{given} names version {given}, and version= says {version}: which?")
        version = given
    if not re.match(NAME_PATTERN, name):
        raise HeartzooError(
            f"{name!r} is not a model name: lower-case letters, digits and '-', at most 64 characters"
        )
    if version is not None:
        check_version(version)
    return name, version


def check_version(version: str) -> str:
    if not isinstance(version, str) or not re.match(VERSION_PATTERN, version):  # 2 too: re named nothing
        raise HeartzooError(f"{version!r} is not a version: the strings v1, v2, ...")
    return version


# -- a version's own metadata: metrics.json and configuration.json's firmware contract -----------------


class ClassScores(StrictModel):
    support: int
    predicted: int
    tp: int
    fp: int
    fn: int
    tn: int
    sensitivity: float | None
    positive_predictivity: float | None
    specificity: float | None
    f1: float | None


class Report(StrictModel):
    """Scores of one model on one split (`metrics.report_from_probabilities`)."""

    classes: list[ClassName]
    per_class: dict[ClassName, ClassScores]
    macro_f1: float
    macro_classes: list[ClassName]
    accuracy: float
    n: int
    confusion: list[list[int]]
    confusion_normalized: list[list[float]]
    threshold: float | None
    rejected: int
    rejected_fraction: float
    rejected_per_class: dict[ClassName, int]


class RuntimeAgreement(StrictModel):
    frames_differing: int
    largest_difference_int8_steps: int
    same_class: float


class Verification(StrictModel):
    frames: int
    litert_reference_vs_tflm: Literal["bit-identical"]
    int8_metrics_runtime: str | None = None
    litert_optimized_vs_tflm: RuntimeAgreement | None = None


class Calibration(StrictModel):
    frames: int
    split: str


class EnsembleSpread(StrictModel):
    members: int
    by: Literal["fold"] | None = None  # a fold ensemble's members each held out a fold; absent: seeds alone
    seeds: list[int]
    member_float_macro_f1: list[float]
    member_mean: float
    member_std: float
    member_val_macro_f1: list[float] | None = None
    val_macro_f1: float | None = None
    # a fold ensemble's held-out fold of each member, in the order of `seeds` (`data.folds.fold_digest`)
    folds: list[str] | None = None


class AggregationScores(StrictModel):
    """A per-recording task's aggregation beside the validation scores: `val_macro_f1` is then the
    aggregation's, cross-fitted on the validation recordings (each fifth scored by a map fitted on the
    rest); `val_macro_f1_windows_mean` the run's own, by the windows' mean (what chose its epoch)."""

    method: str
    fitted_on: str | None = None
    val_macro_f1_windows_mean: float | None = None


class TrainingMachine(StrictModel):
    """The machine a stage trained on (`heartzoo.training.machine`): a recipe makes one model on one kind of
    processor, and another on a processor whose vector instructions oneDNN uses differently."""

    processor: str = Field(..., max_length=200)
    isa: str = Field(..., max_length=20)  # the widest vector instructions: AVX-512, AVX2, ...
    cores: int = Field(..., ge=0)
    onednn: str = Field(..., max_length=60)  # on, off, or on with a cap on its instructions
    backend: str = Field(..., max_length=20)
    tensorflow: str | None = Field(None, max_length=40)
    keras: str = Field(..., max_length=40)
    numpy: str = Field(..., max_length=40)


class Metrics(PlainModel):
    """metrics.json: what export measured, on the held-out split at natural prevalence."""

    model: str = Field(..., pattern=NAME_PATTERN)
    task: str = Field(..., pattern=TASK_PATTERN)
    dataset: Word
    split: Word
    protocol: Word | None
    leaky: bool
    records: list[Word]
    float: Report
    int8: Report
    int8_macro_f1_drop: float
    #: validation macro-F1 of the exported model (DS1 validation patients: what model selection saw);
    #: versions exported before heartzoo recorded it do not carry it
    val_macro_f1: float | None = None
    params: int
    trainable_params: int
    macs: int
    tflite_bytes: int
    tflite_gzip_bytes: int
    tflm_arena_bytes: int
    host_latency_ms: float
    latency_note: str
    ops: list[Annotated[str, Field(pattern=OP_PATTERN)]]
    compression: list[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,32}(:[A-Za-z0-9_.,=@+-]{0,64})?$")]]
    ensemble: EnsembleSpread | None = None
    aggregation: AggregationScores | None = None
    verification: Verification
    calibration: Calibration
    heartzoo_version: Word
    commit: Annotated[str, Field(pattern=COMMIT_PATTERN)] | None  # the code that exported the model
    # the code that trained it, stage by stage (each commit once); absent before heartzoo recorded it
    trained_at: list[Annotated[str, Field(pattern=COMMIT_PATTERN)]] | None = None
    # the machines that trained it, stage by stage (each once); absent before heartzoo recorded them
    trained_on: list[TrainingMachine] | None = None
    exported_at: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")]
    # the sha256 of the run's model.keras it was exported from; absent before heartzoo recorded it
    exported_from: Annotated[str, Field(pattern=SHA256_PATTERN)] | None = None

    def made_by_one_clean_commit(self) -> bool:
        """False where the record shows the model was not made by one commit's code: trained at a "-dirty"
        tree or across commits, or (before training commits were recorded) exported from a "-dirty" tree;
        then the recipe at any one commit may train another model."""
        return one_clean_commit(self.commit, self.trained_at)


def one_clean_commit(commit: str | None, trained_at: list[str] | None) -> bool:
    """`Metrics.made_by_one_clean_commit` on a metrics.json's two fields (cards read plain dicts)."""
    if trained_at:
        return len(trained_at) == 1 and not trained_at[0].endswith("-dirty")
    return not str(commit).endswith("-dirty")


class TensorInfo(StrictModel):
    name: str = Field(..., pattern=TENSOR_PATTERN)
    shape: list[int]
    dtype: str = Field(..., pattern=TENSOR_PATTERN)
    scale: float
    zero_point: int


class Normalization(StrictModel):
    name: Literal["zscore", "none"]
    eps: float
    formula: str


class RRFeatureSpec(StrictModel):
    order: list[str]
    definition: str


class RecordingAggregation(StrictModel):
    """How a recording's windows make its class (tasks labelled per recording, af-4): `mean`, the argmax of
    the windows' mean probabilities; `mean+max`, a multinomial logistic map of the log of the windows' mean
    and of their largest probabilities, [log(mean + eps), log(max + eps)] @ coef.T + intercept, fitted on
    the validation recordings (`heartzoo.evaluation.aggregation`)."""

    method: Literal["mean", "mean+max"]
    coef: list[list[float]] | None = None
    intercept: list[float] | None = None
    eps: float = 1e-6
    fitted_on: str | None = None

    @model_validator(mode="after")
    def _weights_fit(self) -> RecordingAggregation:
        if self.method == "mean":
            if self.coef is not None or self.intercept is not None:
                raise ValueError("the mean takes no weights")
            return self
        k = len(self.intercept or [])
        if not k or not self.coef or len(self.coef) != k or any(len(row) != 2 * k for row in self.coef):
            raise ValueError(f"{self.method} needs intercept (k) and coef (k rows of 2k)")
        values = [*self.intercept, *(v for row in self.coef for v in row), self.eps]
        if not all(math.isfinite(v) for v in values) or self.eps <= 0:
            raise ValueError(f"{self.method}: every weight must be finite, and eps positive")
        return self


class FirmwareContract(PlainModel):
    """configuration.json's `firmware`: what firmware must do to feed the model and read it (the
    preprocessing comes from `preprocess.Preprocessor.contract()` and goes back through `from_contract`)."""

    sampling_rate_hz: int
    lead: str = Field(..., pattern=LEAD_PATTERN)
    resampling: str
    frame_size: int
    r_peak_index: int
    normalization: Normalization
    template_beats: int
    template: str | None = None
    #: the on-time template's share (`InputSpec.template_on_time`); None: every beat enters the template
    template_on_time: float | None = None
    class_names: list[Annotated[str, Field(pattern=CLASS_PATTERN)]]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    output: str
    rr_features: RRFeatureSpec | None = None
    #: tasks labelled per recording; None (versions before it): the windows' mean
    aggregation: RecordingAggregation | None = None

    @model_validator(mode="after")
    def _aggregation_fits_the_classes(self) -> FirmwareContract:
        a = self.aggregation
        if a is not None and a.intercept is not None and len(a.intercept) != len(self.class_names):
            raise ValueError(
                f"aggregation: a map to {len(a.intercept)} classes for a model of {len(self.class_names)}"
            )
        return self


class Configuration(PlainModel):
    """configuration.json: the validated model config (kept as written; `config.parse_config` reads it)
    and the firmware contract."""

    config: dict[str, Any]
    firmware: FirmwareContract

    @field_validator("config")
    @classmethod
    def _named(cls, config: dict[str, Any]) -> dict[str, Any]:
        # the name labels the firmware kit's files before `parse_config` reads the rest
        if not re.match(NAME_PATTERN, str(config.get("name", ""))):
            raise ValueError(f"name: {config.get('name')!r} does not match {NAME_PATTERN}")
        return config


def read_meta(model: type[StrictModel], path: Path) -> Any:
    """A version's metrics.json or configuration.json, validated, or an error naming file and field."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HeartzooError(f"{path}: missing") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise HeartzooError(f"{path}: not readable JSON ({exc or 'nested too deep'})") from None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{error_place(raw, tuple(e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise HeartzooError(f"{path}: not a valid {model.__name__} ({problems})") from None


def dump_meta(meta: StrictModel) -> str:
    """The JSON text a version stores (fields left unset are not written)."""
    return json.dumps(meta.model_dump(mode="json", exclude_none=False, exclude_unset=True), indent=2) + "\n"


def read_metrics(folder: Path) -> Metrics:
    """A version folder's metrics.json, validated."""
    return read_meta(Metrics, Path(folder) / "metrics.json")


def read_configuration(folder: Path) -> Configuration:
    """A version folder's configuration.json, validated (its `config` is parsed by `config.parse_config`)."""
    return read_meta(Configuration, Path(folder) / "configuration.json")
