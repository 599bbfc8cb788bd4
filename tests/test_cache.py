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
