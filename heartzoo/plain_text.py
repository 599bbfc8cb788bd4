"""Plain text: what every free string of published metadata must be. A downloaded version's strings are
printed in terminals and written into generated C comments, so none may hold a control character (a
terminal's escape, a line break that ends a C `//` comment, a bidirectional override) or close a C
comment."""

from __future__ import annotations

import re
from typing import Any

#: C0 and C1 controls, the bidirectional controls that make text read otherwise than it runs ("Trojan
#: Source", CVE-2021-42574), the line and paragraph separators, and the end of a C comment
_UNPLAIN = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]|\*/")


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


def shown(text: str, limit: int = 80) -> str:
    """`text` to print where it came from outside (a server's index): escaped where it holds what a terminal
    would act on, and cut at `limit` characters."""
    if text.isprintable() and len(text) <= limit:
        return text
    escaped = ascii(text)
    return escaped if len(escaped) <= limit else f"{escaped[:limit]}..."
