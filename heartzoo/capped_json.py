"""JSON from outside the package (a zoo's index from a server, a zoo's retraining checks), read with a
cap on its size so that a huge or hostile file is refused before it is parsed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import HeartzooError


def decode_json(data: bytes, source: str, what: str, max_bytes: int, error=HeartzooError) -> Any:
    """JSON read from outside (an index, a zoo's checks): refused past `max_bytes` or when not JSON, by
    an `error` naming the source and what it should have been."""
    if len(data) > max_bytes:
        raise error(f"{source}: refused, {len(data):,} bytes is larger than any {what}")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise error(f"{source}: not a valid {what} (not JSON: {exc})") from None


def read_capped(path: Path, what: str, max_bytes: int, error=HeartzooError) -> bytes:
    """At most `max_bytes` + 1 bytes of a file (one past the cap, so `decode_json` can refuse it);
    FileNotFoundError is the caller's to answer."""
    try:
        with open(path, "rb") as f:
            return f.read(max_bytes + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
