"""The search space of `heartzoo tune`, read from YAML and validated like every config.

```yaml
params:
  learning_rate: {path: train.learning_rate, type: float, low: 0.0003, high: 0.01, log: true}
  filters:       {path: model.params.filters, type: int, low: 6, high: 12}
  kernel:        {path: model.params.kernel, type: categorical, choices: [3, 5, 7]}
constraints: {tflite_bytes: 24576, macs: 500000}   # checked on the built model before a trial trains
pruning: {startup_trials: 3, warmup_epochs: 4}      # Optuna's median pruner on validation macro-F1
seed: 0
enqueue: [{learning_rate: 0.003, filters: 8, kernel: 5}]    # tried first: the hand recipe, as a baseline
```

Each parameter names the config field it sets by its dotted path. A path that is not a field of the
config (or a value the config refuses) is an error naming the space file, the parameter and the field,
found before any trial runs: the bounds and every choice are applied to the base config and validated.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..config import NAME_PATTERN, HeartzooConfig, parse_config
from ..errors import ConfigError
from ..validation import read_validated


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Param(_Strict):
    """One searched setting: the config field it sets, and the values it may take."""

    path: str = Field(
        ..., pattern=r"^[a-z_]+(\.[a-z_0-9]+)+$", description="Dotted config field, e.g. train.learning_rate."
    )
    type: Literal["float", "int", "categorical"] = Field(..., description="How Optuna samples it.")
    low: float | None = Field(None, description="float/int: the lowest value.")
    high: float | None = Field(None, description="float/int: the highest value.")
    log: bool = Field(False, description="float/int: sample on a log scale.")
    step: float | None = Field(None, gt=0, description="float/int: a grid step (int default 1).")
    choices: list[Any] | None = Field(None, min_length=1, description="categorical: the values.")

    @model_validator(mode="after")
    def _consistent(self) -> Param:
        if self.type == "categorical":
            if self.choices is None or self.low is not None or self.high is not None:
                raise ValueError("a categorical parameter takes choices, not low/high")
            if self.log or self.step is not None:
                raise ValueError("a categorical parameter takes no log or step")
            return self
        # what Optuna would refuse in the middle of a study, refused here
        if self.log and self.step is not None:
            raise ValueError("log and step cannot go together: a log scale is sampled without a grid")
        if self.type == "int" and self.step is not None and (self.step != int(self.step) or self.step < 1):
            raise ValueError(
                f"an int parameter's step must be a whole number of at least 1, got {self.step:g}"
            )
        if self.low is None or self.high is None or self.choices is not None:
            raise ValueError(f"a {self.type} parameter takes low and high, not choices")
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log-scale parameter needs low > 0")
        if self.type == "int" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an int parameter needs whole low and high")
        return self

    def refuses(self, value: Any) -> str | None:
        """Why the sampler could never give `value` (an enqueued one must be a value it can give)."""
        if self.type == "categorical":
            return (
                None
                if value in (self.choices or [])
                else f"{value!r} is not one of its choices {self.choices}"
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{value!r} is not a number"
        if self.type == "int" and value != int(value):
            return f"{value!r} is not a whole number"
        if not self.low <= value <= self.high:  # type: ignore[operator]
            return f"{value!r} is outside its range {self.low:g}-{self.high:g}"
        return None

    def extremes(self) -> list[Any]:
        """The values that bound what the sampler can give (to validate the space up front)."""
        if self.type == "categorical":
            return list(self.choices or [])
        cast = int if self.type == "int" else float
        return [cast(self.low), cast(self.high)]

    def suggest(self, trial, name: str) -> Any:
        if self.type == "categorical":
            return trial.suggest_categorical(name, self.choices)
        if self.type == "int":
            return trial.suggest_int(
                name, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)


class Constraints(_Strict):
    """Limits a trial's model must meet before it trains (measured on the model the config builds,
    thinned as its channel pruning will thin it, converted to int8 as it will be published). Unless the
    space says otherwise, the beat-3 wearable's budget (null lifts a limit); `heartzoo tune` prints them
    before the first trial."""

    tflite_bytes: int | None = Field(24_576, gt=0, description="int8 .tflite bytes (flash).")
    macs: int | None = Field(500_000, gt=0, description="Multiply-accumulates per inference.")


class Pruning(_Strict):
    """Optuna's median pruner: a trial whose validation macro-F1 at an epoch falls below the median of
    earlier trials at that epoch stops there."""

    startup_trials: int = Field(3, ge=0, description="Trials that run to the end before any is pruned.")
    warmup_epochs: int = Field(4, ge=0, description="Epochs of each trial before it can be pruned.")


class SearchSpace(_Strict):
    params: dict[str, Param] = Field(..., min_length=1, description="Name -> searched setting.")
    constraints: Constraints = Field(Constraints(), description="Size limits checked before training.")
    pruning: Pruning = Field(Pruning(), description="When a bad trial stops early.")
    seed: int = Field(0, description="Seed of the TPE sampler.")
    enqueue: list[dict[str, Any]] = Field(
        [], description="Values to try first, before the sampler (e.g. the hand recipe, as a baseline)."
    )

    @model_validator(mode="after")
    def _known_names(self) -> SearchSpace:
        seen: dict[str, str] = {}
        for name, p in self.params.items():  # one value per field: the later one would win unseen
            if p.path in seen:
                raise ValueError(f"params {seen[p.path]} and {name} both set {p.path}")
            seen[p.path] = name
        for i, values in enumerate(self.enqueue):
            if set(values) != set(self.params):
                raise ValueError(f"enqueue[{i}]: give a value for each parameter ({', '.join(self.params)})")
            for name, value in values.items():
                if (why := self.params[name].refuses(value)) is not None:
                    raise ValueError(f"enqueue[{i}].{name}: {why}")
        return self


def trial_name(base: str, key: str = "0" * 12) -> str:
    """The name of the trial recipe of base config `base` whose folder is `key` (12 hex digits)."""
    return f"{base}-t{key}"


def with_values(
    config: HeartzooConfig, space: SearchSpace, values: dict[str, Any], name: str
) -> HeartzooConfig:
    """`config` with each parameter's value set at its path, renamed `name`, validated."""
    data = config.model_dump(mode="json", exclude_none=True)
    data["name"] = name
    for key, value in values.items():
        *parents, leaf = space.params[key].path.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"parameter {key!r}: {space.params[key].path} is not a section")
        node[leaf] = value
    return parse_config(data, f"{name} (search space values {values})")


def load_space(path: str | Path, config: HeartzooConfig) -> SearchSpace:
    """Read and validate a search space for `config`: its schema, then each parameter's bounds and
    choices applied to the config (a ConfigError names the file, the parameter and the field)."""
    path = Path(path)
    space = read_validated(path, SearchSpace, "search space", "fields (params, constraints, pruning, seed)")
    if not re.fullmatch(NAME_PATTERN, trial_name(config.name)):
        raise ConfigError(
            f"{config.where}: field 'name': {config.name!r} is too long to search: each trial is named "
            f"{trial_name(config.name)!r}, over the 64 characters a name may hold; give the base at most "
            f"{64 - len(trial_name(''))} characters"
        )
    for key, param in space.params.items():
        fields = _field_names(param.path)
        if fields is not None and fields[1] not in fields[0]:
            raise ConfigError(
                f"{path}: parameter {key!r}: {param.path!r} is not a config field; {fields[2] or 'here'} holds "
                f"{', '.join(sorted(fields[0]))}"
            )
        for value in [*param.extremes(), *(v[key] for v in space.enqueue)]:
            try:
                cfg = with_values(config, space, {key: copy.deepcopy(value)}, trial_name(config.name))
                if param.path.startswith("model."):  # model.params are the builder's to check
                    from .train import build_from_config

                    build_from_config(cfg)
            except ConfigError as exc:
                raise ConfigError(f"{path}: parameter {key!r} = {value!r} at {param.path}: {exc}") from None
    return space


def _field_names(dotted: str) -> tuple[set[str], str, str] | None:
    """For a path through config sections: (the fields of its last section, its leaf, that section's
    path); None once it enters a free-form mapping (model.params), which the model builder checks."""
    model: type[BaseModel] = HeartzooConfig
    parts = dotted.split(".")
    for i, part in enumerate(parts[:-1]):
        field = model.model_fields.get(part)
        if field is None:
            return set(model.model_fields), part, ".".join(parts[:i])
        candidates = [field.annotation, *getattr(field.annotation, "__args__", ())]
        found = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not found:
            return None
        model = found[0]
    return set(model.model_fields), parts[-1], ".".join(parts[:-1])
