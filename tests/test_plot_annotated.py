"""`annotate --plot` (`heartzoo.recording.plot`): on real MIT-BIH record 207 (ventricular runs, its VT and
flutter) the picture holds the recording's start and a strip for each warning, none overlapping."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import pytest
from conftest import REPO, run_annotate

ZOO = REPO / "zoo"
MODEL = "beat-3-cnn3-student@v6"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_the_picture_shows_the_start_and_each_warning(mitdb, tmp_path):
    from heartzoo.recording.annotation import annotate_file
    from heartzoo.recording.plot import MAX_STRIPS, STRIP_IN, STRIP_S, plot_annotated, strip_starts
    from heartzoo.recording.read import read_recording

    out = tmp_path / "out"
    res = run_annotate(mitdb / "207", MODEL, out, "--plot")
    assert res.returncode == 0, res.stderr
    assert f"wrote{out / '207.heartzoo.png'}" in "".join(res.stdout.split())
    result = annotate_file(mitdb / "207", MODEL, zoo=ZOO)
    x = read_recording(mitdb / "207", result.lead, lead_given=True).signal
    strips = strip_starts(result, len(x))
    width = round(STRIP_S * result.fs)
    assert strips[0] == (0, "start") and len(strips) == MAX_STRIPS  # 207 has more to show than fits
    assert {"vt", "unreadable"} <= {w for _, why in strips for w in why.split(", ")}  # its warnings
    starts = [s for s, _ in strips]
    assert starts == sorted(starts)  # in time order, whatever chose them
    assert all(b - a >= width for a, b in itertools.pairwise(starts)) and starts[-1] + width <= len(x)
    for f in result.findings:  # each warning's place is inside a strip
        if f.start is not None:
            assert any(s <= f.start < s + width for s in starts), f.code
    # one strip of the figure per chosen stretch: the PNG's height follows their number
    # and, above the strips, the heart rate minute by minute (207 is 30 minutes long)
    whole = _png_size(out / "207.heartzoo.png")
    short = plot_annotated(x[: 360 * 30], result, tmp_path / "short.png")  # the beats past its end left out
    few = len(strip_starts(result, 360 * 30))
    from heartzoo.recording.plot import TREND_BLOCK_IN

    assert whole[0] == _png_size(short)[0]
    grown = whole[1] - _png_size(short)[1]  # each picture's height is rounded to whole pixels
    assert abs(grown - 110 * (STRIP_IN * (len(strips) - few) + TREND_BLOCK_IN)) <= 1


def test_the_strips_are_ecg_paper_25_mm_s_and_10_mm_mv_or_a_gain_they_say(mitdb):
    """The strips' speed followed the width of their tick labels (28.7-29.3 mm/s) and each strip's gain
    its own percentiles (3.5-29 mm/mV), unsaid; R peaks ran through the beats' letters and deep complexes
    were cut. Now every strip is 25 mm/s, and 10 mm/mV or a gain it states, its whole trace inside."""
    import re

    import numpy as np

    from heartzoo.recording.annotation import annotate_file
    from heartzoo.recording.plot import BAND_MM, SPEED_MM_S, TRACE_MM, figure
    from heartzoo.recording.read import read_recording

    result = annotate_file(mitdb / "203", MODEL, zoo=ZOO)  # runs of tall V beats, noise
    x = read_recording(mitdb / "203", result.lead, lead_given=True).signal
    fig = figure(x, result)
    w, h = fig.get_size_inches()
    strips = [ax for ax in fig.axes if "mm/s" in ax.get_title(loc="left")]
    assert strips and len(strips) == len(fig.axes) - 1  # and the heart rate above them
    gains = []
    for ax in strips:
        pos, (t0, t1), (y0, y1) = ax.get_position(), ax.get_xlim(), ax.get_ylim()
        assert pos.width * w * 25.4 / (t1 - t0) == pytest.approx(SPEED_MM_S)
        gain = float(re.search(r"mm/s, ([\d.]+) mm/mV", ax.get_title(loc="left"))[1])
        gains.append(gain)
        assert pos.height * h * 25.4 / (y1 - y0) == pytest.approx(gain)
        assert (y1 - y0) * gain == pytest.approx(TRACE_MM + BAND_MM)
        trace = ax.lines[0].get_ydata()
        trace = trace[np.isfinite(trace)]
        top = y0 + TRACE_MM / gain  # the letters' band starts above it
        assert y0 <= trace.min() and trace.max() <= top  # no complex cut, none through a letter
        assert all(t.get_position()[1] > top for t in ax.texts)
    assert 10.0 in gains and min(gains) < 10.0  # 203's tall runs are drawn at a gain they state


def test_a_picture_that_cannot_be_written_is_one_clear_error(mitdb, tmp_path):
    import pytest

    from heartzoo.errors import HeartzooError
    from heartzoo.recording.annotation import annotate_file
    from heartzoo.recording.plot import plot_file

    result = annotate_file(mitdb / "100", MODEL, zoo=ZOO, quality=False)
    (tmp_path / "100.heartzoo.png").mkdir()  # a folder where the picture goes
    with pytest.raises(HeartzooError, match=r"100.heartzoo.png: cannot write the picture there"):
        plot_file(mitdb / "100", result, tmp_path, "heartzoo")
    assert [p.name for p in tmp_path.iterdir()] == ["100.heartzoo.png"]  # no temporary file left


def test_a_lead_chosen_by_number_where_two_share_a_name_is_drawn(mitdb, tmp_path):
    """aftdb's records name both leads ECG: `--lead 1` chooses one, and the picture reads that one
    again (it read the lead by name before, and refused after the annotations were written)."""
    import numpy as np
    import wfdb

    x = wfdb.rdrecord(str(mitdb / "100"), sampto=360 * 20).p_signal
    folder = tmp_path / "in"
    folder.mkdir()
    wfdb.wrsamp(
        "twin", fs=360, units=["mV", "mV"], sig_name=["ECGa", "ECGb"], p_signal=np.ascontiguousarray(x),
        fmt=["16", "16"], write_dir=str(folder),
    )  # fmt: skip
    hea = folder / "twin.hea"  # wfdb writes no two leads of one name; aftdb's headers have them
    hea.write_text(hea.read_text().replace(" ECGa", " ECG").replace(" ECGb", " ECG"))
    out = tmp_path / "out"
    for extra in (["--lead", "1", "--plot"], ["--lead", "1", "--plot", "--json"]):
        res = run_annotate(folder / "twin", MODEL, out, *extra)
        assert res.returncode == 0, res.stderr
        assert _png_size(out / "twin.heartzoo.png")[0] > 0


def test_a_lead_in_uv_read_as_mv_is_drawn_without_thousands_of_boxes(mitdb, tmp_path, caplog):
    """A lead in µV read as mV (annotate warns of it) spans some 1,500 "mV": its strips get a few plain
    ticks, not a 0.5 mV grid of thousands of lines that matplotlib refuses, slowly, line by line."""
    import numpy as np

    from heartzoo.data.databases import get_database

    x = get_database("mitdb").read_signal(mitdb, "100", "MLII").values[: 360 * 30] * 1000.0
    np.save(tmp_path / "uv.npy", x)
    res = run_annotate(tmp_path / "uv.npy", MODEL, tmp_path / "out", "--fs", "360", "--plot")
    assert res.returncode == 0, res.stderr
    assert "MAXTICKS" not in res.stderr + res.stdout + caplog.text
    assert _png_size(tmp_path / "out" / "uv.heartzoo.png")[0] > 0


def test_an_earlier_runs_picture_does_not_stay_beside_a_new_runs_files(mitdb, tmp_path):
    out = tmp_path / "out"
    assert run_annotate(mitdb / "100", MODEL, out, "--plot").returncode == 0
    assert (out / "100.heartzoo.png").is_file()
    assert run_annotate(mitdb / "100", "beat-2-cnn3-wearable@v2", out).returncode == 0
    assert not (out / "100.heartzoo.png").exists()


def test_a_warning_next_to_a_chosen_strip_gets_the_strip_beside_it():
    """A pause starting 11 s in lay outside the start's strip, and its own strip (2 s before it) would
    have overlapped that one: it got neither a strip nor a mention."""
    from types import SimpleNamespace

    from heartzoo.recording.plot import strip_starts

    fs = 360.0
    found = SimpleNamespace(
        fs=fs, findings=[], ventricular_runs=None, af_burden=None, unreadable=lambda: (),
        pauses=((round(11 * fs), round(15 * fs)), (round(100 * fs), round(104 * fs))),
    )  # fmt: skip
    strips = strip_starts(found, round(200 * fs))
    assert strips == [(0, "start"), (round(10 * fs), "gap"), (round(98 * fs), "gap")]
