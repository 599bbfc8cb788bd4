"""The windows cache: a second run reads HDF5, not WFDB; an edited record is prepared again."""

from __future__ import annotations

import os
import shutil

import numpy as np
from conftest import write_record

from heartzoo.config import InputSpec
from heartzoo.data.prepare import load_windows


def test_second_run_hits_the_cache(data_root, tmp_path):
    seen: list[str] = []
    first = load_windows(
        ["100", "101"], InputSpec(), data_dir=data_root, cache_dir=tmp_path, progress=seen.append
    )
    assert sorted(seen) == ["100 (prepared)", "101 (prepared)"]
    seen.clear()
    second = load_windows(
        ["100", "101"], InputSpec(), data_dir=data_root, cache_dir=tmp_path, progress=seen.append
    )
    assert sorted(seen) == ["100 (cache)", "101 (cache)"]
    np.testing.assert_array_equal(first.x, second.x)
    np.testing.assert_array_equal(first.aami, second.aami)
    np.testing.assert_array_equal(first.record, second.record)
    files = sorted(p.name for p in tmp_path.rglob("*.h5"))
    assert files == ["100.h5", "101.h5"]


def test_a_different_input_spec_is_a_different_cache(data_root, tmp_path):
    seen: list[str] = []
    load_windows(["100"], InputSpec(), data_dir=data_root, cache_dir=tmp_path, progress=seen.append)
    other = load_windows(
        ["100"], InputSpec(frame_size=256), data_dir=data_root, cache_dir=tmp_path, progress=seen.append
    )
    assert seen == ["100 (prepared)", "100 (prepared)"]
    assert other.x.shape[1] == 256
    assert len(list((tmp_path / "windows").iterdir())) == 2


def test_edited_record_is_prepared_again(tmp_path):
    root = tmp_path / "data"
    write_record(root / "mitdb", "900")
    seen: list[str] = []
    load_windows(
        ["900"], InputSpec(), data_dir=root, cache_dir=tmp_path / "c", progress=seen.append, database="mitdb"
    )
    # Replace the record with different beats: same name, new files.
    shutil.rmtree(root / "mitdb")
    write_record(root / "mitdb", "900", seconds=20)
    st = (root / "mitdb" / "900.atr").stat()
    os.utime(root / "mitdb" / "900.atr", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    ws = load_windows(
        ["900"], InputSpec(), data_dir=root, cache_dir=tmp_path / "c", progress=seen.append, database="mitdb"
    )
    assert seen == ["900 (prepared)", "900 (prepared)"]
    assert len(ws) > 20


def test_a_signal_file_of_another_name_is_the_one_read_and_stamped(data_root, tmp_path):
    """`100.hea` may name `x100.dat`: prepare refused it naming a `100.dat` the header never named, and
    with an old `100.dat` beside it the cache was stamped with that one, so an edited `x100.dat` was
    never read again."""
    from heartzoo.data.cache import record_files

    d = tmp_path / "data" / "mitdb"
    d.mkdir(parents=True)
    shutil.copy(data_root / "mitdb" / "100.atr", d)
    shutil.copy(data_root / "mitdb" / "100.dat", d / "x100.dat")
    (d / "100.hea").write_text((data_root / "mitdb" / "100.hea").read_text().replace("100.dat", "x100.dat"))
    assert record_files(d, "100")["dat"] == d / "x100.dat"
    shutil.copy(data_root / "mitdb" / "100.dat", d / "100.dat")  # an old file of the usual name
    seen: list[str] = []
    kw = dict(data_dir=tmp_path / "data", cache_dir=tmp_path / "c", progress=seen.append, database="mitdb")
    load_windows(["100"], InputSpec(), **kw)
    st = (d / "x100.dat").stat()  # the record edited where the header says it lies
    os.utime(d / "x100.dat", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    load_windows(["100"], InputSpec(), **kw)
    assert seen == ["100 (prepared)", "100 (prepared)"]
