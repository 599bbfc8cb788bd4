"""Several firmware kits in one image: a wearable runs a beat model, the quality gate and the AF model
on one stream, and each kit's library is made for its own contract. With `--prefix` every name of a kit
(symbols, macros, files, make variables, CMake targets) is its own, so the kits share a folder, a
translation unit and a link, and each passes its golden self-test there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "zoo"
#: (version, prefix, fixed point): what a chest patch at 250 Hz would run, the gate without an FPU
KITS = (
    ("beat-3/beat-3-cnn3-student/v6", "beat", False),
    ("quality/quality-cnn3/v1", "gate", True),
    ("af-4/af-4-cnn4-student/v1", "rhythm", False),
)
#: the names a kit's library owns, as heartzoo ships them: identifiers, macros, make variables, CMake
#: targets and files (a file's name with its extension: heartzoo_taps.h holds the array hz_taps)
OWNED = re.compile(
    r"\b(?:hz_\w+|HZ_\w+|HEARTZOO_\w+|heartzoo_[a-z]\w*(?:\.(?:h|c|cc)\b)?|heartzoo\.(?:mk|cmake)\b|main\.cc\b)"
)

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("cc", "g++", "make", "nm")), reason="needs cc, g++, make and nm"
)

DRIVE = """#include <cstdio>
#include "beat_preprocess.h"
#include "beat_selftest.h"
#include "gate_preprocess.h"
#include "gate_selftest.h"
#include "rhythm_preprocess.h"
#include "rhythm_selftest.h"

static beat_pre_t beat;
static gate_pre_t gate;
static rhythm_pre_t rhythm;

int main() {
  beat_pre_init(&beat);
  gate_pre_init(&gate);
  rhythm_pre_init(&rhythm);
  std::printf("%d %d %d %d %d %d\\n", beat_preprocess_selftest(nullptr), gate_preprocess_selftest(nullptr),
              rhythm_preprocess_selftest(nullptr), BEAT_FRAME_SIZE, GATE_FRAME_SIZE, RHYTHM_FRAME_SIZE);
}
"""

MAKEFILE = """include beat.mk
include gate.mk
include rhythm.mk
C_SRCS := $(BEAT_C_SRCS) $(GATE_C_SRCS) $(RHYTHM_C_SRCS)
CXX_SRCS := $(BEAT_CXX_SRCS) $(GATE_CXX_SRCS) $(RHYTHM_CXX_SRCS) $(BEAT_TEST_SRCS) $(GATE_TEST_SRCS) $(RHYTHM_TEST_SRCS)
OBJS := $(C_SRCS:.c=.o) $(CXX_SRCS:.cc=.o)
beat_%.o: beat_%.c ; cc $(BEAT_CFLAGS) -Wall -Werror -c $< -o $@
gate_%.o: gate_%.c ; cc $(GATE_CFLAGS) -Wall -Werror -c $< -o $@
rhythm_%.o: rhythm_%.c ; cc $(RHYTHM_CFLAGS) -Wall -Werror -c $< -o $@
%.o: %.cc ; g++ $(BEAT_CXXFLAGS) -Wall -Werror -c $< -o $@
drive: drive.cc $(OBJS) ; g++ $(BEAT_CXXFLAGS) -Wall -Werror drive.cc $(OBJS) -lm -o $@
"""


def _kits(folder: Path) -> list[Path]:
    from heartzoo.export.firmware_kit import write_firmware_kit

    written = []
    for ref, prefix, fixed_point in KITS:
        written += write_firmware_kit(
            ZOO / ref, folder, fixed_point=fixed_point, recording_hz=250, prefix=prefix
        )
    return written


def test_three_kits_link_into_one_firmware_and_each_passes_its_self_test(tmp_path):
    """The beat model, the quality gate (fixed point) and the AF model, each made with its own prefix
    into one folder: no file is written twice, their make snippets are included by one Makefile that
    builds them with one main, which includes all three headers, and each self-test passes (0: the
    golden inputs within the build's tolerance) in that one binary. Without prefixes the same link fails."""
    written = _kits(tmp_path)
    assert len(written) == len({p.name for p in written}) == len(list(tmp_path.iterdir()))
    (tmp_path / "drive.cc").write_text(DRIVE)
    (tmp_path / "Makefile").write_text(MAKEFILE)
    build = subprocess.run(["make", "-s", "drive"], cwd=tmp_path, capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    out = subprocess.run(["./drive"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    beat, gate, rhythm, *frames = map(int, out.split())
    assert (beat, gate, rhythm) == (0, 0, 0), out
    assert len(set(frames)) == 3  # three contracts, each kit read its own
    symbols = subprocess.run(["nm", "drive"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    defined = {line.split()[-1] for line in symbols.splitlines() if " T " in line}
    assert {f"{p}_pre_init" for _, p, _ in KITS} <= defined
    assert not [s for s in defined if s.startswith(("hz_", "heartzoo_"))]

    # the same three kits under the default names: one folder cannot hold them, one link refuses them
    plain = []
    for i, (ref, _, fixed_point) in enumerate(KITS):
        from heartzoo.export.firmware_kit import write_firmware_kit

        kit = tmp_path / f"plain{i}"
        write_firmware_kit(ZOO / ref, kit, fixed_point=fixed_point, recording_hz=250)
        subprocess.run(["cc", "-std=c99", "-c", "heartzoo_preprocess.c"], cwd=kit, check=True)
        plain.append(str(kit / "heartzoo_preprocess.o"))
    (tmp_path / "empty.c").write_text("int main(void) { return 0; }\n")
    clash = subprocess.run(
        ["cc", "empty.c", *plain, "-lm", "-o", "clash"], cwd=tmp_path, capture_output=True, text=True
    )
    assert clash.returncode != 0 and "multiple definition" in clash.stderr and "hz_pre_init" in clash.stderr


def test_a_prefix_renames_every_name_the_library_owns_and_keeps_them_apart():
    """Every name of the default kit that the library owns gets the prefix, no two become one, none is
    left under heartzoo's (the files' names too), and the model's own names are kept; the default
    prefix gives the kit as it always was."""
    from heartzoo.export.firmware_kit import kit_files

    version = ZOO / KITS[2][0]  # the AF model: its kit has the most (aggregation, AF episodes)
    plain = kit_files(version, recording_hz=250)
    assert kit_files(version, recording_hz=250, prefix="hz") == plain
    prefixed = kit_files(version, recording_hz=250, prefix="rhythm")
    names = {m for text in [*plain, *plain.values()] for m in OWNED.findall(text)}
    assert len(names) > 100 and {"hz_pre_init", "HZ_FRAME_SIZE", "heartzoo.mk", "main.cc"} <= names
    from heartzoo.export.kit_names import renamed_text

    new = {n: renamed_text(n, "rhythm") for n in names}
    assert len(set(new.values())) == len(names)  # no two names become one
    assert all(v.lower().startswith("rhythm") for v in new.values()), new
    left = {m for text in [*prefixed, *prefixed.values()] for m in OWNED.findall(text)}
    assert left == set(), left
    model = "af_4_cnn4_student_model"
    assert {f"{model}.h", f"{model}.cc", f"{model}_golden.h"} <= set(prefixed)
    assert prefixed[f"{model}.cc"] == plain[f"{model}.cc"]


# one letter makes POSIX's R_OK of HZ_OK; an underscore lets two kits' names meet (`beat` and `beat_rr`:
# HZ_RR_EPS and HZ_EPS); `heartzoo` names a default kit's files
@pytest.mark.parametrize(
    "prefix", ["Beat", "1beat", "be-at", "be__at", "beat_", "", "b" * 17, "../x", "r", "beat_rr", "heartzoo"]
)
def test_a_prefix_that_cannot_name_c_symbols_is_refused(prefix, tmp_path):
    from heartzoo.errors import HeartzooError
    from heartzoo.export.firmware_kit import write_firmware_kit

    with pytest.raises(HeartzooError, match="--prefix"):
        write_firmware_kit(ZOO / KITS[0][0], tmp_path / "kit", prefix=prefix)
    assert not (tmp_path / "kit").exists()


def test_the_cli_takes_a_prefix_with_the_kit_only(tmp_path):
    from conftest import run_cli

    zoo = str(ZOO)
    ok = run_cli(
        "zoo", "c-array", "quality-cnn3", "--zoo", zoo, "--firmware", "--prefix", "gate", "--out", str(tmp_path / "kit")
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert {"gate_preprocess.c", "gate_contract.h", "gate.mk", "gate_main.cc"} <= {
        p.name for p in (tmp_path / "kit").iterdir()
    }
    alone = run_cli(
        "zoo", "c-array", "quality-cnn3", "--zoo", zoo, "--prefix", "gate", "--out", str(tmp_path / "x")
    )
    assert alone.returncode == 2 and "add --firmware" in alone.stderr
    bad = run_cli(
        "zoo", "c-array", "quality-cnn3", "--zoo", zoo, "--firmware", "--prefix", "Gate", "--out", str(tmp_path / "x")
    )  # fmt: skip
    assert bad.returncode == 2 and "--prefix 'Gate'" in bad.stderr
    assert not (tmp_path / "x").exists()


def test_a_kit_of_another_model_under_the_same_prefix_is_refused(tmp_path):
    """Two models' kits in one folder, one prefix: the second replaced the first's library, contract and
    main.cc without a word, beside the first's model files. The same model's kit is written again."""
    from heartzoo.errors import HeartzooError
    from heartzoo.export.firmware_kit import write_firmware_kit

    kit = tmp_path / "kit"
    write_firmware_kit(ZOO / KITS[0][0], kit)
    before = {p.name: p.read_bytes() for p in kit.iterdir()}
    with pytest.raises(
        HeartzooError, match=r"holds the kit of beat-3-cnn3-student .* needs a prefix of its own"
    ):
        write_firmware_kit(ZOO / KITS[1][0], kit)
    assert {p.name: p.read_bytes() for p in kit.iterdir()} == before
    write_firmware_kit(ZOO / KITS[0][0], kit, fixed_point=True)  # the same model, other options
    write_firmware_kit(ZOO / KITS[1][0], kit, prefix="gate")  # beside it, under its own prefix


def test_a_kit_is_never_written_half_nor_twice_for_one_model_nor_into_a_zoo(tmp_path):
    """A folder where the kit would write a file stops it before the first file; a second kit of the same
    model under another prefix would replace the first's model files (named after the model); a zoo's
    version holds what its index lists, so no kit is written into a zoo."""
    from heartzoo.errors import HeartzooError
    from heartzoo.export.firmware_kit import write_firmware_kit

    half = tmp_path / "half"
    (half / "main.cc").mkdir(parents=True)
    with pytest.raises(
        HeartzooError, match=r"main.cc: not a file, where the kit writes one; nothing was written"
    ):
        write_firmware_kit(ZOO / KITS[2][0], half)
    assert [p.name for p in half.iterdir()] == ["main.cc"]
    two = tmp_path / "two"
    write_firmware_kit(ZOO / KITS[2][0], two, prefix="aa")
    before = {p.name: p.read_bytes() for p in two.iterdir()}
    with pytest.raises(HeartzooError, match=r"holds a kit of af-4-cnn4-student already \(aa_contract.h\)"):
        write_firmware_kit(ZOO / KITS[2][0], two, prefix="bb")
    assert {p.name: p.read_bytes() for p in two.iterdir()} == before
    zoo = tmp_path / "zoo"
    shutil.copytree(ZOO / KITS[2][0], zoo / KITS[2][0])
    (zoo / "index.json").write_text('{"format": 1, "models": []}')
    with pytest.raises(HeartzooError, match=r"inside the zoo .*: write the kit into a folder of its own"):
        write_firmware_kit(ZOO / KITS[2][0], zoo / KITS[2][0])
    assert sorted(p.name for p in (zoo / KITS[2][0]).iterdir()) == sorted(
        p.name for p in (ZOO / KITS[2][0]).iterdir()
    )


def test_the_kits_of_one_folder_stream_one_rate(tmp_path):
    """The kits of one folder are fed one ADC stream: a kit made for another --recording-hz would read it at
    the wrong rate, its own self-test passing (its golden recording made at its own rate)."""
    from heartzoo.errors import HeartzooError
    from heartzoo.export.firmware_kit import write_firmware_kit

    kit = tmp_path / "kit"
    write_firmware_kit(ZOO / KITS[0][0], kit, recording_hz=250, prefix="beat")
    before = {p.name: p.read_bytes() for p in kit.iterdir()}
    with pytest.raises(HeartzooError, match=r"beat_contract.h streams 250 Hz, this one 360 Hz"):
        write_firmware_kit(ZOO / KITS[1][0], kit, prefix="gate")
    assert {p.name: p.read_bytes() for p in kit.iterdir()} == before
    write_firmware_kit(ZOO / KITS[1][0], kit, recording_hz=250, prefix="gate")
    write_firmware_kit(ZOO / KITS[0][0], kit, recording_hz=250, prefix="beat", fixed_point=True)  # made again
    with pytest.raises(HeartzooError, match=r"gate_contract.h streams 250 Hz, this one 360 Hz"):
        write_firmware_kit(ZOO / KITS[0][0], kit, recording_hz=360, prefix="beat")  # the gate's rate holds
