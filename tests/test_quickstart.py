"""docs/quickstart.md runs as written: its Python blocks, in a fresh process in an empty folder, against
the published zoo; and it names the model the zoo recommends for beat-3."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "docs" / "quickstart.md"


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", QUICKSTART.read_text(), re.S | re.M)


def test_quickstart_names_the_recommended_beat_3_model():
    from heartzoo.zoo.index import read_index

    # with its version: a name alone is its latest version, not always the recommended one
    name = read_index(REPO / "zoo")["recommended"]["beat-3"]
    named = re.findall(r'load_model\("([^"]+)"', "".join(blocks("python")))
    named += re.findall(r"heartzoo download (\S+)", "".join(blocks("bash")))
    assert named and set(named) == {name}, (
        f"the quickstart names {sorted(set(named))}, the zoo recommends {name}"
    )


@pytest.mark.slow
def test_quickstart_python_runs_as_written(tmp_path):
    code = blocks("python")
    assert len(code) >= 2
    env = {
        **os.environ,
        "HEARTZOO_ZOO_DIR": str(REPO / "zoo"),
        "HEARTZOO_ZOO_URL": (REPO / "zoo").as_uri(),  # were the local zoo missing it: no network
        "HEARTZOO_CACHE_DIR": str(tmp_path / "cache"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    # each block as a reader pastes it, one after the other, in one interpreter (TensorFlow loads once)
    script = "\n".join(
        f"exec(compile({b!r}, 'quickstart block {i + 1}', 'exec'), {{}})" for i, b in enumerate(code)
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    beats = re.search(r"^(\d+) beats: \[", proc.stdout, re.M)
    assert beats and int(beats.group(1)) > 10, proc.stdout
    assert re.search(r"^\d+ Hz, \d+ samples a frame: \(\d+, 3\)$", proc.stdout, re.M), proc.stdout
    assert not any(tmp_path.iterdir()) or {p.name for p in tmp_path.iterdir()} <= {"cache"}
