"""The names WFDB accepts for a record's annotation files, from any file name a user has."""

from __future__ import annotations

import re


def wfdb_letters(name: str) -> str:
    """`name` in the letters WFDB accepts for annotation files (letters, digits, '-', '_'): accents dropped
    ('ä' is 'a'), and a short digest of the name where letters have no ASCII form, so that two such names
    stay two ('心电' and '心率' were both '__')."""
    import hashlib
    import unicodedata

    base = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    plain = base.encode("ascii", "ignore").decode()
    out = re.sub(r"[^A-Za-z0-9_-]", "_", plain) or "recording"
    return out if plain == base else f"{out}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
