"""The configuration reference page, generated from the schema itself (`heartzoo.config`): every field
with its type, default, allowed range and meaning (the `description` of its pydantic `Field`), one
table per section, so the page cannot drift from what `load_config` accepts."""

from __future__ import annotations

import json
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

_BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<", "min_length": "at least", "max_length": "at most"}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (`X` or `X | None`), else None."""
    for a in (annotation, *typing.get_args(annotation)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def type_name(annotation: Any) -> str:
    """A field's type as a reader writes it: `int or none`, `one of 'zscore', 'none'`, `list of str`."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return "one of " + ", ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join("none" if a is type(None) else type_name(a) for a in args)
    if origin in (list, tuple, dict):
        inner = ", ".join("…" if a is Ellipsis else type_name(a) for a in args)
        return f"{origin.__name__}[{inner}]"
    if annotation is typing.Any:
        return "any"
    return getattr(annotation, "__name__", str(annotation))


def default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "(section below)"
    if isinstance(value, tuple):
        value = list(value)
    return f"`{json.dumps(value)}`"


def bounds_text(field: FieldInfo) -> str:
    found = []
    for meta in field.metadata:
        for attr, word in _BOUNDS.items():
            if getattr(meta, attr, None) is not None:
                found.append(f"{word} {getattr(meta, attr)}")
        if getattr(meta, "pattern", None):
            found.append(f"pattern `{meta.pattern}`")
    return "; ".join(found)


def sections(model: type[BaseModel], prefix: str = "") -> list[tuple[str, type[BaseModel], list[str]]]:
    """(dotted section, its model, its table rows), the top level first, then every nested section."""
    rows, nested = [], []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        sub = _model_of(field.annotation)
        meaning = (field.description or "").replace("|", "\\|").replace("\n", " ")
        if sub is not None:
            default = (
                "`null` (none)" if not field.is_required() and field.default is None else "section below"
            )
            rows.append(f"| [`{path}`](#{path.replace('.', '')}) | section | {default} | | {meaning} |")
            nested.extend(sections(sub, f"{path}."))
            continue
        rows.append(
            f"| `{path}` | {type_name(field.annotation)} | {default_text(field)} | {bounds_text(field)} | {meaning} |"
        )
    return [(prefix.rstrip("."), model, rows), *nested]


def config_reference() -> str:
    from ..config import HeartzooConfig

    out = [
        "# Configuration reference\n",
        "Every field a config file may hold, generated from the schema that reads it "
        "(`heartzoo.config.HeartzooConfig`): type, default, allowed range and meaning. A field not listed "
        "is an error, not a setting that is ignored. The [configuration guide](configuration.md) says how "
        "the sections fit together.\n",
    ]
    for path, model, rows in sections(HeartzooConfig):
        title = f"`{path}`" if path else "Top level"
        anchor = f" {{#{path.replace('.', '')}}}" if path else ""
        doc = (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
        out.append(f"## {title}{anchor}\n")
        if doc:
            out.append(f"{doc}\n")
        table = "| field | type | default | allowed | meaning |\n|---|---|---|---|---|\n" + "\n".join(rows)
        out.append(f'<div class="config-ref" markdown>\n\n{table}\n\n</div>\n')
    return "\n".join(out)
