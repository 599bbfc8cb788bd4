"""The names a firmware kit gives its C symbols and files, so that several kits link into one image.

A kit's library is made for one contract: its types, functions and macros (`hz_pre_t`, `hz_pre_init`,
`HZ_FRAME_SIZE`) and its files (`heartzoo_preprocess.c`, `heartzoo_contract.h`, `heartzoo.mk`) have
fixed names, so a beat model's kit and the quality gate's collide at link time (and in a translation
unit that includes both headers). A kit made with a prefix, say `beat`, names them `beat_pre_t`,
`beat_pre_init`, `BEAT_FRAME_SIZE`, `beat_preprocess.c`, `beat_contract.h`, `beat.mk`, `beat_main.cc`.
The model's own files are already named after the model.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import HeartzooError
from ..io import check_outside_zoo

#: The kit's names as heartzoo ships them.
DEFAULT_PREFIX = "hz"
#: A prefix is a lower-case letter and digits, no underscore: then two kits' names differ wherever their
#: prefixes do (with `beat` and `beat_rr`, HZ_RR_EPS and HZ_EPS both became BEAT_RR_EPS). Two
#: characters at least: one letter made POSIX's access modes (HZ_OK as R_OK, W_OK, X_OK, F_OK).
PREFIX_RE = re.compile(r"[a-z][a-z0-9]+")
MAX_PREFIX = 16
#: `heartzoo` would name the files, guards and targets as the default kit does.
RESERVED = ("heartzoo",)

# (pattern, replacement given the prefix): identifiers, macros, include guards and make variables, then
# the files' names wherever they are spelled (#include lines, the make and CMake snippets)
_RULES = (
    (re.compile(r"\bhz_(?=\w)"), lambda p: f"{p}_"),
    (re.compile(r"\bHZ_(?=\w)"), lambda p: f"{p.upper()}_"),
    (re.compile(r"\bHEARTZOO_(?=\w)"), lambda p: f"{p.upper()}_"),
    (re.compile(r"\bheartzoo_(?=[a-z])"), lambda p: f"{p}_"),
    (re.compile(r"\bheartzoo\.(?=(?:mk|cmake)\b)"), lambda p: f"{p}."),
    (re.compile(r"(?<![\w/.])main\.cc\b"), lambda p: f"{p}_main.cc"),
)


def check_prefix(prefix: str) -> str:
    """`prefix` if it can name a kit's symbols, else a HeartzooError that says what a prefix must be."""
    if not isinstance(prefix, str) or len(prefix) > MAX_PREFIX or not PREFIX_RE.fullmatch(prefix):
        raise HeartzooError(
            f"--prefix {prefix!r}: a kit's prefix is 2 to {MAX_PREFIX} lower-case letters and digits, "
            "starting with a letter (no underscore), e.g. beat"
        )
    if prefix in RESERVED:
        raise HeartzooError(
            f"--prefix {prefix!r} names the files of a kit made without a prefix: choose another"
        )
    return prefix


def renamed_text(text: str, prefix: str) -> str:
    """`text` (a file of the kit, or its name) with the kit's names under `prefix`."""
    for pattern, new in _RULES:
        text = pattern.sub(new(prefix), text)
    return text


def with_prefix(files: dict[str, str], prefix: str) -> dict[str, str]:
    """The kit's files (name: text) with every name under `prefix` (checked by the caller, `kit_files`,
    before it renders them); unchanged for the default."""
    if prefix == DEFAULT_PREFIX:
        return dict(files)
    return {renamed_text(name, prefix): renamed_text(text, prefix) for name, text in files.items()}


_CONTRACT_OF = re.compile(r"firmware contract of (\S+)")
_RATE_OF = re.compile(r"#define [A-Z0-9]+_RECORDING_HZ (\d+)")


def contract_file(prefix: str) -> str:
    """The name of a kit's contract header under `prefix` (its first line names the model)."""
    return with_prefix({"heartzoo_contract.h": ""}, prefix).popitem()[0]


def kit_model(contract: str) -> str | None:
    """The model a kit's contract header (its text) was made for."""
    found = _CONTRACT_OF.search(contract[:400])
    return found[1] if found else None


def check_kit_folder(out_dir: Path, prefix: str, name: str, recording_hz: int | None = None) -> None:
    """An error where `out_dir` cannot take the kit of model `name` under `prefix`: it holds the kit of
    another model under that prefix (written over it, its library, contract and main.cc would be this
    model's, beside its model files, unsaid), or this model's kit under another prefix (the model's files
    are named after the model: one would replace the other's), or it is inside a zoo (a version holds the
    files its index lists, and nothing else), or the kits of other prefixes there stream another
    `recording_hz` (the kits of one folder are fed one ADC stream: a kit made for another rate would read it
    at the wrong one, its self-test passing). The same model's kit under the same prefix (another version,
    other options) is written again."""
    contract = contract_file(prefix)
    path = Path(out_dir) / contract
    there = kit_model(path.read_text(errors="replace")) if path.is_file() else None
    if there and there != name:
        raise HeartzooError(
            f"{out_dir}: holds the kit of {there} ({contract}); a kit of {name} there needs a prefix of its "
            "own (--prefix), or another folder (--out)"
        )
    for other in sorted(Path(out_dir).glob("*_contract.h")) if Path(out_dir).is_dir() else ():
        if other.name == contract:  # this kit's own, written again
            continue
        text = other.read_text(errors="replace")
        rate = _RATE_OF.search(text)
        if recording_hz is not None and rate and int(rate[1]) != recording_hz:
            raise HeartzooError(
                f"{out_dir}: its kit {other.name} streams {rate[1]} Hz, this one {recording_hz} Hz; the kits of one "
                "folder share one ADC stream: make every kit with the same --recording-hz, or write this one "
                "into another folder (--out)"
            )
        if kit_model(text) == name:
            raise HeartzooError(
                f"{out_dir}: holds a kit of {name} already ({other.name}); the model's files are named after "
                "the model, so a second kit of it there would replace the first one's: write it into another "
                "folder (--out)"
            )
    check_outside_zoo(Path(out_dir))
