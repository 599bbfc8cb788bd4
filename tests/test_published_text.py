"""A downloaded version's metadata is data from outside, and the firmware kit writes its strings into C
and the CLI prints them: a class name that closes a C string, an op or a free text that breaks out of a
comment, or a terminal escape, is refused by name before anything is generated or printed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from heartzoo.errors import HeartzooError

REPO = Path(__file__).resolve().parents[1]
VERSION = REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v6"
INJECTED = 'V"};\nint injected(void) { return system("touch pwned"); }\nconst char *x[] = {"'


def _version(tmp_path, file, change):
    folder = tmp_path / "v6"
    shutil.copytree(VERSION, folder)
    meta = json.loads((folder / file).read_text())
    change(meta)
    (folder / file).write_text(json.dumps(meta))
    return folder


CASES = {
    "class name closing a C string": (
        "configuration.json",
        lambda m: m["firmware"]["class_names"].__setitem__(2, INJECTED),
        r"configuration.json.*class_names",
    ),
    "class name with a quote": (
        "configuration.json",
        lambda m: m["firmware"]["class_names"].__setitem__(2, 'V", "X'),
        r"configuration.json.*class_names.*should match pattern",
    ),
    "free text closing a C comment": (
        "configuration.json",
        lambda m: m["firmware"].__setitem__("resampling", "x */ #error pwned /*"),
        r"configuration.json.*firmware.resampling: holds a control character or '\*/'",
    ),
    "op breaking out of a call": (
        "metrics.json",
        lambda m: m["ops"].__setitem__(0, 'CONV_2D(); }\n#include "/etc/hostname"\nvoid f() { (void)0'),
        r"metrics.json.*ops",
    ),
    "model name labelling the kit": (
        "configuration.json",
        lambda m: m["config"].__setitem__("name", "x */ #error pwned /*"),
        r"configuration.json.*name",
    ),
    "bidirectional override in a note": (
        "metrics.json",
        lambda m: m.__setitem__("latency_note", "ok \u202e)(lacitirc"),
        r"metrics.json.*latency_note: holds a control character",
    ),
    "rich markup in the split zoo show prints": (
        "metrics.json",
        lambda m: m.__setitem__("split", "[link=https://evil.example]ds2[/link]"),
        r"metrics.json.*split.*should match pattern",
    ),
    "a class the cards write as markdown": (
        "metrics.json",
        lambda m: m["float"].__setitem__("classes", ["N", "S", "<script>V</script>"]),
        r"metrics.json.*classes.*should match pattern",
    ),
    "terminal escape in a note": (
        "metrics.json",
        lambda m: m.__setitem__("latency_note", "\x1b[2J\x1b]8;;http://evil.example/\x1b\\"),
        r"metrics.json.*latency_note: holds a control character",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_firmware_kit_refuses_metadata_that_is_not_plain(tmp_path, case):
    from heartzoo.export.firmware_kit import kit_files

    file, change, message = CASES[case]
    folder = _version(tmp_path, file, change)
    with pytest.raises(HeartzooError, match=message):
        kit_files(folder)


def test_the_published_kit_is_still_made(tmp_path):
    from heartzoo.export.firmware_kit import kit_files

    files = kit_files(_version(tmp_path, "metrics.json", lambda m: None))
    assert '#define HZ_CLASS_NAMES {"N", "S", "V"}' in files["heartzoo_contract.h"]


def test_an_index_whose_summary_holds_a_terminal_escape_is_refused(tmp_path):
    """`zoo list --remote` prints an index's summary: its split is a word, escapes and markup refused."""
    from heartzoo.zoo.index import read_index

    shutil.copy(REPO / "zoo" / "index.json", tmp_path / "index.json")
    index = json.loads((tmp_path / "index.json").read_text())
    index["models"][0]["summary"]["split"] = "\x1b[2J\x1b[Hds2"
    (tmp_path / "index.json").write_text(json.dumps(index))
    with pytest.raises(HeartzooError, match=r"index.json"):
        read_index(tmp_path)
