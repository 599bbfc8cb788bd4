"""Plain text: what every free string of published metadata must be. A downloaded version's strings are
printed in terminals and written into generated C comments, so none may hold a control character (a
terminal's escape, a line break that ends a C `//` comment) or close a C comment."""

from __future__ import annotations

import re
from typing import Any

_UNPLAIN = re.compile(r"[\x00-\x1f\x7f-\x9f]|\*/")


def unplain_text(value: Any, where: str = "") -> str | None:
    """The place of the first string (or key) in `value` that holds a control character or `*/`; None."""
    if isinstance(value, str):
        return where or "(the value)" if _UNPLAIN.search(value) else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for k, v in items:
        name = ascii(k) if isinstance(k, str) and _UNPLAIN.search(k) else k  # never print what it holds
        at = f"{where}.{name}" if where and isinstance(k, str) else f"{where}[{k}]" if where else str(name)
        found = unplain_text(k, at) if isinstance(k, str) else None
        if found or (found := unplain_text(v, at)):
            return found
    return None
