"""heartzoo as a user installs it: the built wheel in a fresh virtual environment, used from a folder
that is not the checkout, against a zoo mirrored by `heartzoo zoo mirror` and served over real HTTP on
127.0.0.1 — then again with the server gone (the offline cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from httpserver import FolderServer

REPO = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).parent / "uv"
MODEL = "beat-3-cnn3-born-again"

pytestmark = pytest.mark.slow

USE = f"""
import json, heartzoo
from heartzoo.synthetic import synthetic_ecg
names = heartzoo.list_models()
m = heartzoo.load_model("{MODEL}")
q = heartzoo.load_model("{MODEL}", format="tflite")
ecg, peaks = synthetic_ecg(360, 20)
p = heartzoo.predict(m, ecg, 360, peaks)
p8 = heartzoo.predict(q, ecg, 360, peaks)
print(json.dumps({{"file": heartzoo.__file__, "names": names, "shape": list(p.shape), "sums": p.sum(axis=1).tolist(),
                  "agree": float((p.argmax(1) == p8.argmax(1)).mean()), "folder": str(m.folder)}}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding only the wheel built from this checkout (and its dependencies)."""
    if not UV.is_file():
        pytest.skip(f"{UV}: uv is not installed beside this Python (make install puts it there)")
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [str(UV), "build", "--wheel", "-q", "-o", str(tmp / "dist"), str(REPO)], check=True, timeout=600
    )
    (wheel,) = (tmp / "dist").glob("heartzoo-*.whl")
    venv = tmp / "venv"
    subprocess.run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], check=True, timeout=300)
    subprocess.run(
        [str(UV), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(wheel)],
        check=True,
        timeout=900,
    )
    return venv / "bin"


def _run(bin_dir: Path, args: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(
        args,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        executable=str(bin_dir / args[0]) if args[0] in ("heartzoo", "python") else None,
    )
    assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def test_the_wheel_serves_a_mirrored_zoo_from_anywhere_and_offline(installed, tmp_path):
    # what a user's shell has: the venv on PATH, no checkout on sys.path, no zoo folder here
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTZOO_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{installed}{os.pathsep}{env.get('PATH', '')}"
    work = tmp_path / "anywhere"
    work.mkdir()
    site = tmp_path / "site"
    out = _run(
        installed,
        [
            "heartzoo",
            "zoo",
            "mirror",
            str(site),
            "--zoo",
            str(REPO / "zoo"),
            "--model",
            f"{MODEL}@v1",
            "--model",
            "beat-2-cnn3-student@v1",
        ],
        work,
        env,
    )
    assert "2 version(s) written" in out
    assert not (work / "zoo").exists()
    env["HEARTZOO_CACHE_DIR"] = str(tmp_path / "cache")
    with FolderServer(site) as srv:
        env["HEARTZOO_ZOO_URL"] = srv.url
        listing = _run(installed, ["heartzoo", "zoo", "list", "--remote", "--json"], work, env)
        assert {m["name"] for m in json.loads(listing)["models"]} == {MODEL, "beat-2-cnn3-student"}
        got = _run(installed, ["heartzoo", "download", MODEL], work, env)
        assert str(tmp_path / "cache") in got.replace("\n", "")
        online = json.loads(_run(installed, ["python", "-c", USE], work, env).strip().splitlines()[-1])
        fetched = {path for path, _ in srv.log}
    assert "index.json" in fetched and f"beat-3/{MODEL}/v1/model.tflite" in fetched
    # the package imported is the wheel's, not the checkout's
    assert Path(online["file"]).is_relative_to(installed.parent)
    assert not Path(online["file"]).is_relative_to(REPO)
    assert sorted(online["names"]) == sorted([f"{MODEL}@v1", "beat-2-cnn3-student@v1"])
    assert Path(online["folder"]).is_relative_to(tmp_path / "cache")
    n = online["shape"][0]
    assert n >= 20 and online["shape"][1] == 3
    assert all(abs(s - 1) < 1e-4 for s in online["sums"])
    assert online["agree"] >= 0.9
    # the server is gone: the cached index and files still serve
    offline = json.loads(_run(installed, ["python", "-c", USE], work, env).strip().splitlines()[-1])
    assert offline["names"] == online["names"] and offline["shape"] == online["shape"]


def test_the_wheel_carries_its_licence_and_its_type_hints(installed):
    """Apache-2.0 asks that its text travel with the work; PEP 561 that a typed package say so."""
    (site,) = installed.parent.glob("lib/python*/site-packages")
    (licence,) = site.glob("heartzoo-*.dist-info/licenses/LICENSE")
    assert licence.read_bytes() == (REPO / "LICENSE").read_bytes()
    assert "Apache License" in licence.read_text() and (site / "heartzoo" / "py.typed").is_file()
    (meta,) = site.glob("heartzoo-*.dist-info/METADATA")
    assert "License-Expression: Apache-2.0" in meta.read_text()
