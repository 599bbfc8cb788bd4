"""Shared fixtures: the real MIT-BIH data beside the repo, and small WFDB records written by tests."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from heartzoo.environment import Environment
from heartzoo.synthetic import synthetic_ecg
from heartzoo.training.threads import pin_threads

pin_threads()  # as training pins TensorFlow's pool, before any test starts TensorFlow

REPO = Path(__file__).resolve().parents[1]


def benchmark_script(name: str):
    """benchmarks/<name>.py or studies/<name>.py loaded as a module (the folders are not packages)."""
    path = next(
        p for p in (REPO / "benchmarks" / f"{name}.py", REPO / "studies" / f"{name}.py") if p.is_file()
    )
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
def shared_root(tmp_path_factory) -> Path:
    """A folder every test process of this run shares: under pytest-xdist, each worker has its own
    temporary root below a common one, and the costly things (frames, the small run) are made once."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextlib.contextmanager
def _once(path: Path):
    """An exclusive lock on `path`: the first process makes the shared thing, the others wait and reuse."""
    import fcntl

    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared_cache(shared_root) -> Path:
    """One cache for the run, so tests that need frames of the same records prepare them once (its
    writes are atomic: processes preparing the same record at once both land a whole file)."""
    cache = shared_root / "shared-cache"
    cache.mkdir(exist_ok=True)
    return cache


#: session fixtures that train or publish a model: a test that asks for one is slow (`make test-fast`
#: leaves it out), whichever test happens to make it first
SLOW_FIXTURES = frozenset({"small_run", "small_zoo"})


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


SMALL_RUN = {
    "name": "small-cnn2",
    "task": "beat-3",
    "model": {"arch": "cnn2"},
    "input": {"rr_features": True},
    "train": {"epochs": 6, "batch_size": 128, "steps_per_epoch": 30, "max_train_frames": 20000, "seed": 1},
    "export": {"verify_frames": 1000},
}


@pytest.fixture(scope="session")
def small_run(data_root, shared_cache, shared_root) -> Path:
    """A small model trained on real DS1 frames (20 s on 2 cores), made once per test run and shared by
    the export, hub, adaptation and pipeline tests."""
    from heartzoo.config import parse_config
    from heartzoo.training.train import train

    out = shared_root / "small-run"
    with _once(shared_root / "small-run.lock"):
        train(
            parse_config(SMALL_RUN), out, env=Environment(cache_dir=shared_cache)
        )  # a finished run returns at once
    return out


@pytest.fixture(scope="session")
def small_zoo(small_run, shared_cache, shared_root) -> Path:
    """A zoo with the small run published as its v1 (one export, shared by the export and hub tests;
    a test that adds to it works on a copy)."""
    from heartzoo.zoo.index import INDEX, publish

    root = shared_root / "small-zoo"
    with _once(shared_root / "small-zoo.lock"):
        if not (root / INDEX).is_file():
            publish(small_run, root, env=Environment(cache_dir=shared_cache))
    return root


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


def empty_zoo(path: Path) -> Path:
    """A zoo that holds no model: the local zoo to name where a test must download (a --zoo that is no
    zoo at all is refused, never passed over for the published one)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "index.json").write_text('{"format": 1, "models": []}\n')
    return path


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`heartzoo ARGS` as `heartzoo.cli.main` runs it (argument parsing, error lines, exit codes), in this
    process: for commands that load TensorFlow, whose start-up a subprocess would pay again. Tests that
    need a process of its own (signals, a clean import state) run `python -m heartzoo`."""
    import contextlib
    import io
    import sys

    from heartzoo.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_argv = dict(os.environ), sys.argv
    os.environ.update(env or {})
    sys.argv = ["heartzoo", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["heartzoo", *args], code, out.getvalue(), err.getvalue())


def run_annotate(path: Path, model: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """`heartzoo annotate PATH --model MODEL --output-dir OUT EXTRA...` with the repo's zoo (`run_cli`)."""
    return run_cli(
        "annotate", str(path), "--model", model, "--zoo", str(REPO / "zoo"), "--output-dir", str(out), *extra
    )


def annotated_json(path: Path, out: Path, model: str, *extra: str) -> dict:
    """`heartzoo annotate PATH --json` with the repo's zoo: the JSON it wrote (the run must succeed)."""
    import json

    res = run_annotate(path, model, out, "--json", *extra)
    assert res.returncode == 0, res.stderr
    return json.loads((out / f"{Path(path).stem}.heartzoo.json").read_text())


def assert_refused(path: Path, model: str, message: str, *extra: str, out: Path) -> None:
    """`heartzoo annotate PATH` refuses a bad recording as a user must see it: exit status 2, one error
    line that names the file and matches `message`, no traceback, nothing written into `out`."""
    import re

    res = run_annotate(path, model, out, *extra)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "error:" in res.stderr and "Traceback" not in res.stderr
    assert re.search(message, " ".join(res.stderr.split())), res.stderr
    assert str(path) in "".join(res.stderr.split()) and not out.exists()  # rich may wrap a path anywhere


def kill_worker_after_epoch(argv: list[str], run: Path, epoch: int) -> int:
    """Start `argv` (a `heartzoo train ... --workers 2` into `run`), SIGKILL worker 1 once the chief's
    backup holds `epoch`, wait for the launcher to stop the job, and return the epoch backed up."""
    import json
    import signal
    import subprocess
    import time

    job = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta = run / "backup" / "training_metadata.json"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and job.poll() is None:
        if meta.exists() and json.loads(meta.read_text())["epoch"] >= epoch:
            break
        time.sleep(0.05)
    assert job.poll() is None, "training ended before a worker could be killed"
    os.kill(int((run / ".workers" / "worker1.pid").read_text()), signal.SIGKILL)
    job.communicate(timeout=120)
    assert job.returncode != 0  # the launcher stops the job: the chief cannot go on alone
    return json.loads(meta.read_text())["epoch"]


def run_c_driver(
    folder: Path, firmware, driver: str, feed: str, *, recording_hz: int, fixed_point: bool
) -> list[str]:
    """The firmware kit's C library for `firmware` (a contract) and `driver` (a C main reading stdin)
    compiled as the kit's flags compile them, run on `feed`: its stdout lines. Skips without a compiler."""
    from heartzoo.export.firmware_host import host_compiler
    from heartzoo.export.firmware_kit import CFLAGS, library_files

    cc = host_compiler()
    if cc is None:
        pytest.skip("no C compiler")
    for name, text in library_files(firmware, recording_hz=recording_hz, fixed_point=fixed_point).items():
        (folder / name).write_text(text)
    (folder / "drive.c").write_text(driver)
    exe = folder / "drive"
    sources = [str(folder / "drive.c"), str(folder / "heartzoo_preprocess.c")]
    subprocess.run(
        [cc, "-O2", *CFLAGS, "-Wall", "-Werror", f"-I{folder}", *sources, "-lm", "-o", str(exe)], check=True
    )
    return subprocess.run([str(exe)], input=feed, capture_output=True, text=True, check=True).stdout.split(
        "\n"
    )
