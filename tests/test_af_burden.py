"""The AF burden and the AF episodes of 30 s or more that `annotate --rhythm` reports
(`heartzoo.recording.af_burden`), on made-up episodes; tests/test_af_task.py runs them through the CLI on a
CinC 2017 recording."""

from __future__ import annotations

import pytest

from heartzoo.recording.af_burden import af_burden, af_finding
from heartzoo.recording.rhythm_annotation import Episode
from heartzoo.tasks import AF_EPISODE_S

FS = 100.0


def tiled(*spans: tuple[str, float]) -> list[Episode]:
    """Consecutive episodes of (class, seconds) from the start, as `rhythm_episodes` makes them."""
    out, at = [], 0
    for label, seconds in spans:
        n = round(seconds * FS)
        out.append(Episode(at, at + n, label, max(1, round(seconds / 10)), 0.9))
        at += n
    return out


def test_the_burden_is_af_time_over_the_time_read():
    b = af_burden(tiled(("N", 60), ("A", 40), ("~", 20), ("O", 30), ("A", 20)), FS)
    assert b.af_s == 60 and b.analysed_s == 150  # the noisy 20 s are not read
    assert b.burden == pytest.approx(0.4)
    assert b.episodes == ((6000, 10000),)  # 40 s of AF; the last 20 s are too short
    assert b.longest_s == 40
    assert b.to_dict()["episode_min_s"] == AF_EPISODE_S


def test_thirty_seconds_is_an_episode_and_twenty_nine_is_not():
    assert af_burden(tiled(("A", AF_EPISODE_S)), FS).episodes == ((0, round(AF_EPISODE_S * FS)),)
    assert af_burden(tiled(("A", AF_EPISODE_S - 1), ("N", 60)), FS).episodes == ()
    # three AF windows ending a 35-s recording: the last overlaps the one before, so they cover 25 s
    tail = [Episode(0, 1000, "N", 1, 0.9), Episode(1000, 3500, "A", 3, 0.9)]
    assert af_burden(tail, FS).episodes == () and af_burden(tail, FS).longest_s == 25


def test_the_warning_names_the_episodes_the_longest_and_the_burden():
    b = af_burden(tiled(("A", 30), ("N", 10), ("A", 90), ("N", 70)), FS)
    f = af_finding(b, FS)
    assert f.code == "af" and (f.start, f.end) == (4000, 13000)
    assert "2 episodes of 30 s or more" in f.message and "the longest 90 s from 40.0 s" in f.message
    assert "AF burden 60 % of the 200 s" in f.message
    assert af_finding(af_burden(tiled(("A", 20), ("N", 60)), FS), FS) is None  # AF, but no 30-s episode


def test_the_warning_says_where_the_recordings_class_and_its_windows_disagree():
    """CinC's A00005: its windows alone are AF for 50 of its 60 s, and the recording as a whole (mean+max)
    can still be called O; a user reading both must be told, and the other way round."""
    whole = {"class": "O", "windows": 6, "probabilities": {"N": 0.1, "A": 0.35, "O": 0.53, "~": 0.02}}
    b = af_burden(tiled(("A", 40), ("O", 10), ("A", 10)), FS)
    assert "the recording as a whole is called O (its 6 windows together)" in af_finding(b, FS, whole).message
    agree = {**whole, "class": "A"}
    assert "as a whole" not in af_finding(b, FS, agree).message
    none_alone = af_burden(tiled(("N", 20), ("O", 10)), FS)
    f = af_finding(none_alone, FS, agree)
    assert (
        f.code == "af"
        and "calls the recording AF as a whole (p 0.35, its 6 windows together), though no " in f.message
    )
    assert af_finding(none_alone, FS, whole) is None and af_finding(none_alone, FS) is None


def test_the_ventricular_rate_in_af_counts_the_beats_inside_the_af_windows():
    import numpy as np

    episodes = tiled(("N", 60), ("A", 40), ("N", 20))
    peaks = np.r_[np.arange(0, 6000, 100), np.arange(6000, 10000, 50), np.arange(10000, 12000, 100)]
    b = af_burden(episodes, FS, peaks)
    assert b.rate_bpm == pytest.approx(120.0)  # 80 beats in 40 s of AF
    assert "a mean ventricular rate of 120 bpm in AF" in af_finding(b, FS).message
    assert (
        af_burden(episodes, FS).rate_bpm is None and af_burden(tiled(("N", 60)), FS, peaks).rate_bpm is None
    )


def test_nothing_readable_has_no_burden():
    b = af_burden(tiled(("~", 30)), FS)
    assert b.burden is None and b.to_dict()["burden"] is None and af_finding(b, FS) is None
    assert af_burden([], FS).burden is None


AF_DRIVER = r"""
#include <stdio.h>
#include "heartzoo_preprocess.h"
/* stdin: windows, then each window's class; stdout: the window of each episode's alert, then the totals */
int main(void) {
  int n, i, cls;
  hz_af_t af;
  hz_af_init(&af);
  if (scanf("%d", &n) != 1) return 1;
  for (i = 0; i < n; i++) {
    if (scanf("%d", &cls) != 1) return 1;
    if (hz_af_push(&af, cls)) printf("alert %d\n", i);
  }
  printf("%u %u %u %u %u\n", af.windows, af.af_windows, af.longest, af.episodes, hz_af_burden_bp(&af));
  return 0;
}
"""


@pytest.mark.parametrize("fixed_point", [False, True], ids=["float", "fixed-point"])
def test_the_kit_reports_the_burden_and_episodes_python_reports(mitdb, tmp_path, fixed_point):
    """The C library's hz_af_* on the window classes af-4-cnn3-student v2 gives MIT-BIH record 201
    (AF and other rhythms; its first 180 whole windows), at the record's 360 Hz: the same burden, longest
    run and AF episodes of 30 s or more as Python, each alert on the window that makes an episode 30 s."""
    import numpy as np
    from conftest import REPO, run_c_driver

    from heartzoo.data.databases import get_database
    from heartzoo.export.firmware_kit import library_files
    from heartzoo.recording.rhythm_annotation import rhythm_episodes
    from heartzoo.zoo.hub import load_model

    loaded = load_model("af-4-cnn3-student", "v2", format="tflite", zoo=REPO / "zoo")
    sig = get_database("mitdb").read_signal(mitdb, "201", "MLII")
    window = round(loaded.config.input.frame_size * sig.fs / loaded.config.input.fs)
    episodes = rhythm_episodes(sig.values[: 180 * window], float(sig.fs), loaded)
    got = af_burden(episodes, float(sig.fs))
    names = list(loaded.class_names)
    cls = np.concatenate([np.full(e.windows, names.index(e.label)) for e in episodes])
    assert len(cls) == 180 and got.episodes and got.longest_s > 2 * AF_EPISODE_S  # the case this is for
    feed = f"{len(cls)}\n" + "".join(f"{c}\n" for c in cls.tolist())
    out = run_c_driver(tmp_path, loaded.firmware, AF_DRIVER, feed, recording_hz=360, fixed_point=fixed_point)
    alerts = [int(line.split()[1]) for line in out if line.startswith("alert")]
    per_window = window / sig.fs
    assert alerts == [round(s / window) + round(AF_EPISODE_S / per_window) - 1 for s, _ in got.episodes]
    windows, af_windows, longest, n_episodes, bp = map(int, out[len(alerts)].split())
    assert windows * per_window == pytest.approx(got.analysed_s)
    assert af_windows * per_window == pytest.approx(got.af_s)
    assert longest * per_window == pytest.approx(got.longest_s) and n_episodes == len(got.episodes)
    assert bp == af_windows * 10000 // windows and bp / 1e4 == pytest.approx(got.burden, abs=1e-4)
    # a beat model's contract has no AF to count
    from heartzoo.meta import Configuration, read_meta

    beat = read_meta(
        Configuration, REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v6" / "configuration.json"
    )
    assert "HZ_AF_CLASS" not in library_files(beat.firmware)["heartzoo_contract.h"]


def test_what_the_gate_could_not_read_for_a_window_is_no_rhythm(mitdb):
    """A lead the quality gate could not read was still given a rhythm, counted as read time (a lead in
    volts behind `--gate quality-cnn3`: 120 s of normal rhythm, "0 of the 120 s read" AF). A stretch the
    gate could not read for a window or more is now too noisy (`~`); a shorter one is read as before."""
    from conftest import REPO

    from heartzoo.data.databases import get_database
    from heartzoo.recording.rhythm_annotation import recording_rhythm
    from heartzoo.zoo.hub import load_model

    loaded = load_model("af-4-cnn4-student", "v1", format="tflite", zoo=REPO / "zoo")
    sig = get_database("mitdb").read_signal(mitdb, "201", "MLII")
    x, fs = sig.values[: 120 * 360], float(sig.fs)
    plain, _, _ = recording_rhythm(x, fs, loaded)
    assert all(e.label != "~" for e in plain)
    cut, _, _ = recording_rhythm(x, fs, loaded, unreadable=[(0, 25 * 360), (60 * 360, 65 * 360)])
    noisy = [(e.start, e.end) for e in cut if e.label == "~"]
    assert noisy == [(0, 25 * 360)]  # the 5-s stretch is under a window: read
    assert af_burden(cut, fs).analysed_s == pytest.approx(95.0)


def test_what_the_rhythm_model_reads_as_too_noisy_is_a_warning():
    """A review: on CinC recordings the challenge labels too noisy, the rhythm model called the recording
    `~` and the beat model still classified every beat, with nothing in the warnings, the JSON or the CSV;
    a stretch the gate or the file cut out (no window of the model) has its own warning."""
    from heartzoo.recording.rhythm_annotation import noise_finding

    own = tiled(("N", 20), ("~", 20), ("N", 10), ("~", 10))
    f = noise_finding(own, FS)
    assert f.code == "rhythm-noise" and (f.start, f.end) == (2000, 4000)
    assert "30 s of it (2 stretches, the longest 20 s from 20.0 s)" in f.message
    one = noise_finding(tiled(("N", 20), ("~", 5)), FS)
    assert "5.0 s of it (from 20.0 s)" in one.message
    cut = [Episode(0, 2000, "N", 2, 0.9), Episode(2000, 4000, "~", 0, 0.0)]  # the gate's, not the model's
    assert noise_finding(cut, FS) is None
    whole = {"class": "~", "windows": 2, "probabilities": {"N": 0.3, "A": 0.0, "O": 0.1, "~": 0.6}}
    f = noise_finding(cut, FS, whole)
    assert "the recording as a whole (p 0.60), though no window alone" in f.message and f.start is None


S_IN_AF_DRIVER = r"""
#include <stdio.h>
#include "heartzoo_preprocess.h"
/* stdin: outputs, then HZ_NUM_CLASSES int8 values each; stdout: hz_argmax and hz_argmax_in_af */
int main(void) {
  int n, k, v;
  int8_t q[HZ_NUM_CLASSES];
  if (scanf("%d", &n) != 1) return 1;
  while (n-- > 0) {
    for (k = 0; k < HZ_NUM_CLASSES; k++) {
      if (scanf("%d", &v) != 1) return 1;
      q[k] = (int8_t)v;
    }
    printf("%d %d\n", hz_argmax(q), hz_argmax_in_af(q));
  }
  return 0;
}
"""


@pytest.mark.parametrize("fixed_point", [False, True], ids=["float", "fixed-point"])
def test_the_kit_reads_a_beat_inside_af_as_annotate_does(tmp_path, fixed_point):
    """hz_argmax_in_af on int8 outputs (random ones, and every tie of N + S against V): the class
    `annotate --rhythm` gives a beat inside AF, its S probability moved to N (`s_in_af_to_n`)."""
    from pathlib import Path

    import numpy as np
    from conftest import run_c_driver

    from heartzoo.export.runtimes import TensorSpec, dequantize_probs
    from heartzoo.meta import Configuration, read_meta
    from heartzoo.recording.rhythm_annotation import s_in_af_to_n

    vdir = Path(__file__).resolve().parents[1] / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v6"
    firmware = read_meta(Configuration, vdir / "configuration.json").firmware
    out = firmware.model_dump()["outputs"][0]
    spec = TensorSpec("out", [3], "int8", float(out["scale"]), int(out["zero_point"]))
    rng = np.random.default_rng(0)
    q = rng.integers(-128, 128, (3000, 3)).astype(np.int8)
    zp = spec.zero_point
    ties = [(a, b, a + b - zp) for a in range(-128, 0, 7) for b in range(-128, 0, 5) if a + b - zp <= 127]
    q = np.concatenate([q, np.array(ties, dtype=np.int8)])
    feed = f"{len(q)}\n" + "".join(" ".join(map(str, row)) + "\n" for row in q.tolist())
    got = run_c_driver(tmp_path, firmware, S_IN_AF_DRIVER, feed, recording_hz=360, fixed_point=fixed_point)
    c = np.array([list(map(int, line.split())) for line in got if line])
    p = dequantize_probs(q, spec)
    moved, _ = s_in_af_to_n(p, np.arange(len(q)), [], list(firmware.class_names), whole={"class": "A"})
    np.testing.assert_array_equal(c[:, 0], p.argmax(axis=1))
    np.testing.assert_array_equal(c[:, 1], moved.argmax(axis=1))
    assert (c[:, 0] != c[:, 1]).sum() > 100  # S calls, and V calls by less than S, moved
