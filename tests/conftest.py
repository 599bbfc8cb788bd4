"""Shared fixtures: the real MIT-BIH data beside the repo, and small WFDB records written by tests."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from heartzoo.synthetic import synthetic_ecg

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path | None:
    for candidate in (os.environ.get("HEARTZOO_DATA_DIR"), REPO.parent / "shared" / "data"):
        if candidate and (Path(candidate) / "mitdb" / "100.hea").is_file():
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder holding the real mitdb/ and nstdb_noise/ (never copied into the repo)."""
    root = _data_root()
    if root is None:
        if os.environ.get("CI"):
            pytest.fail("MIT-BIH data not found: set HEARTZOO_DATA_DIR (CI must run on the real records)")
        pytest.skip("MIT-BIH data not found: set HEARTZOO_DATA_DIR")
    # what heartzoo itself reads when a config names no data folder: a plain `pytest` finds the
    # records beside the checkout as `make test` does
    os.environ.setdefault("HEARTZOO_DATA_DIR", str(root))
    return root


@pytest.fixture(scope="session")
def mitdb(data_root: Path) -> Path:
    return data_root / "mitdb"


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    """One cache for the session, so tests that need frames of the same records prepare them once."""
    return tmp_path_factory.mktemp("cache")


SMALL_RUN = {
    "name": "small-cnn2",
    "task": "beat-3",
    "model": {"arch": "cnn2"},
    "input": {"rr_features": True},
    "train": {"epochs": 6, "batch_size": 128, "steps_per_epoch": 30, "max_train_frames": 20000, "seed": 1},
    "export": {"verify_frames": 1000},
}


@pytest.fixture(scope="session")
def small_run(data_root, shared_cache, tmp_path_factory) -> Path:
    """A small model trained on real DS1 frames (a minute on 2 cores), shared by the export tests."""
    from heartzoo.config import parse_config
    from heartzoo.train import train

    out = tmp_path_factory.mktemp("runs") / "small"
    train(parse_config(SMALL_RUN), out, cache_dir=shared_cache)
    return out


def write_record(
    folder: Path,
    name: str,
    *,
    fs: float = 360,
    seconds: float = 12,
    leads: tuple[str, ...] = ("MLII", "V1"),
    signal: np.ndarray | None = None,
    symbols: str = "N",
    with_annotations: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Write a small WFDB record (format 212, like MIT-BIH) and its .atr; return (signal, peaks)."""
    import wfdb

    folder.mkdir(parents=True, exist_ok=True)
    base, peaks = synthetic_ecg(fs, seconds)
    if signal is None:
        signal = np.stack([base * (1 - 0.3 * i) for i in range(len(leads))], axis=1)
    wfdb.wrsamp(
        name,
        fs=fs,
        units=["mV"] * signal.shape[1],
        sig_name=list(leads),
        p_signal=signal,
        fmt=["212"] * signal.shape[1],
        adc_gain=[200.0] * signal.shape[1],
        baseline=[0] * signal.shape[1],
        write_dir=str(folder),
    )
    if with_annotations:
        syms = [symbols[i % len(symbols)] for i in range(len(peaks))]
        wfdb.wrann(name, "atr", np.asarray(peaks), syms, write_dir=str(folder))
    return signal, peaks
