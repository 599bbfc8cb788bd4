"""Errors of a pydantic model that a person can act on: the file, every bad field, what is allowed
there, and the closest allowed name when a field is misspelt (scikit-learn's errors, for configs)."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at `loc` (for listing the allowed fields)."""
    current: type[BaseModel] = model
    for part in loc[:-1]:
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        # `ModelConfig | None` and the like: look through the union for the model class
        candidates = [ann, *getattr(ann, "__args__", ())]
        found = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not found:
            return None
        current = found[0]
    return current


def _named_in(model: type[BaseModel], loc: tuple, err) -> tuple[str, str] | None:
    """A section's own check that names the field it is about ("train: why") as (that field, why)."""
    if err["type"] != "value_error":
        return None
    head, sep, why = err["msg"].removeprefix("Value error, ").partition(": ")
    holder = _model_at(model, (*loc, head))  # the section the check belongs to
    first = head.split(".")[0].split("[")[0]  # "enqueue[0]": the list's field
    if not sep or holder is None or first not in holder.model_fields:
        return None
    return head, why


def describe_errors(model: type[BaseModel], exc: ValidationError, source: str) -> str:
    """One line per problem, naming the field; an unknown field gets the allowed ones and a likely fix."""
    lines = [f"{source}: invalid configuration ({exc.error_count()} problem(s))"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            holder = _model_at(model, loc)
            allowed = sorted(holder.model_fields) if holder else []
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            msg = f"unknown field {field!r}"
            if hint:
                msg += f" (did you mean {hint[0]!r}?)"
            if allowed:
                msg += f"; allowed here: {', '.join(allowed)}"
        elif (named := _named_in(model, loc, err)) is not None:  # "sub.field: why", raised across fields
            msg = f"field {'.'.join([*map(str, loc), named[0]])!r}: {named[1]}"
        else:
            msg = f"field {field!r}: {err['msg'].removeprefix('Value error, ')}"  # pydantic's prefix says nothing
            if "input" in err and err["type"] != "missing" and loc:  # at the top level it is the whole file
                msg += f" (got {err['input']!r})"
        lines.append(f"  - {msg}")
    return "\n".join(lines)


def read_validated(path: str | Path, model: type[M], what: str, fields: str) -> M:
    """`model` validated from the YAML or JSON file `path`: else a ConfigError naming the file and each
    field (`describe_errors`); `what` names the kind of file in the errors ("search space")."""
    from .errors import ConfigError
    from .io import read_mapping

    data = read_mapping(Path(path), f"{what} file", fields)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(model, exc, str(path)).replace("configuration", what)) from None


def plain_path(path: str, what: str) -> str:
    """`path` where a config names a folder (a run, shards): a config is data too, and may not climb out of
    the folder it is read from, so no '..' or '.', drive or backslash; else a ValueError saying `what` is
    expected."""
    if not path or "\\" in path or ":" in path or any(p in (".", "..") for p in path.split("/")):
        raise ValueError(f"must be {what} without '..', '.', drive or backslash")
    return path
