"""The documentation site: strict mkdocs build with generated model cards, opened in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(small_run, shared_cache, tmp_path_factory):
    from heartzoo.site import build_site
    from heartzoo.zoo import publish

    root = tmp_path_factory.mktemp("docs")
    publish(small_run, root / "zoo", cache_dir=shared_cache)
    return build_site(root / "zoo", root / "site"), root / "zoo"


def test_strict_build_has_cards_leaderboard_and_references(site):
    out, _ = site
    card = out / "models" / "small-cnn2-v1" / "index.html"
    assert card.is_file()
    board = (out / "leaderboard" / "index.html").read_text()
    assert "small-cnn2 v1" in board and "LEAKY" in board and "inter-patient DS2" in board
    cli = (out / "cli" / "index.html").read_text()
    assert "heartzoo train" in cli and "heartzoo zoo verify" in cli
    api = (out / "api" / "index.html").read_text()
    assert "load_model" in api and "predict" in api


def test_card_numbers_come_from_metrics_json(site):
    out, zoo = site
    m = json.loads((zoo / "beat-3" / "small-cnn2" / "v1" / "metrics.json").read_text())
    html = (out / "models" / "small-cnn2-v1" / "index.html").read_text()
    assert f"{m['float']['macro_f1']:.4f}" in html and f"{m['int8']['macro_f1']:.4f}" in html
    assert f"{m['tflite_bytes']:,} B" in html and f"{m['tflm_arena_bytes']:,} B" in html
    assert "Not a diagnostic device" in html and "ODC-By 1.0" in html
    assert "configs/small-cnn2.yaml" in html  # the reproduce command (highlighted, so split in spans)


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is needed for the docs test (make test installs it as root)")
        pytest.skip("chromium is not installed")
    return path


def test_card_in_headless_chromium(site, tmp_path):
    out, _ = site
    url = (out / "models" / "small-cnn2-v1" / "index.html").as_uri()
    args = [
        _chromium(),
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,2400",
    ]
    dom = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    heading = re.search(r'<h2 id="metrics-on-ds2', dom)
    assert heading, "no metrics section in the rendered card"
    table = re.search(r"<table>.*?</table>", dom[heading.start() :], re.S)
    assert table and all(f">{c}<" in table.group(0) for c in ("N", "S", "V"))
    img = re.search(r'<img[^>]+src="([^"]+confusion\.png)"', dom)
    assert img and (out / "models" / "small-cnn2-v1" / img.group(1)).resolve().is_file()
    shot = tmp_path / "card.png"
    subprocess.run([*args, f"--screenshot={shot}", url], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_leaderboard_states_targets_and_leaky_inflation(site, tmp_path):
    # A leaky twin of the test model (its metrics with the leaky flag and 10 points more): the table
    # must pair the two and show the difference; the target line must say whether it was reached.
    from heartzoo.cards import TARGETS, model_card
    from heartzoo.site import leaderboard, validation_macro_f1
    from heartzoo.zoo import read_index, write_index

    _, zoo = site
    root = shutil.copytree(zoo, tmp_path / "zoo")
    twin = root / "beat-3" / "small-cnn2-leaky" / "v1"
    shutil.copytree(root / "beat-3" / "small-cnn2" / "v1", twin)
    m = json.loads((twin / "metrics.json").read_text())
    fair = m["int8"]["macro_f1"]
    m.update(leaky=True, split="test", protocol="leaky-random-beat")
    m["int8"]["macro_f1"] = fair + 0.1
    (twin / "metrics.json").write_text(json.dumps(m))
    index = write_index(root)
    board = leaderboard(index, root)
    row = next(line for line in board.splitlines() if "`cnn2`" in line)
    assert f"| {fair:.4f} | {fair + 0.1:.4f} | +10.0 |" in row
    assert "small-cnn2-leaky" not in board.split("## Targets")[0]  # leaky models stay out of the ranking
    verdict = "reached" if fair >= TARGETS["beat-3"] else "**not reached**"
    assert re.search(rf"\| beat-3 \| ≥ 0\.85 \| {fair:.4f} \(small-cnn2 v1\) \| {re.escape(verdict)}", board)
    # what validation alone picks: the model's best epoch in its published history, scored on DS2
    fair_dir = root / "beat-3" / "small-cnn2" / "v1"
    val = max(float(r.split(",")[5]) for r in (fair_dir / "history.csv").read_text().splitlines()[1:])
    assert validation_macro_f1(fair_dir) == pytest.approx(val)
    assert f"| {fair:.4f} (small-cnn2 v1, validation {val:.4f}) |" in board
    entry = next(e for e in read_index(root)["models"] if e["name"] == "small-cnn2-leaky")
    card = model_card(entry, twin)
    assert "LEAKY random-beat split" in card and "not comparable" in card


def test_reproduce_command_trains_every_teacher_first(tmp_path):
    # A born-again model distils from a student that distils from a teacher: its card must say to train
    # the teacher, then the student, then itself — the teacher paths point into stage and version folders.
    from heartzoo.cards import teacher_chain, teacher_name

    assert teacher_name("runs/beat-2-cnn3-student/channel-pruned") == "beat-2-cnn3-student"
    assert teacher_name("zoo/beat-2/beat-2-efficientnetv2-sm/v3") == "beat-2-efficientnetv2-sm"
    assert teacher_name("runs/teacher") == "teacher"

    assert teacher_name("beat-2-cnn3-student@v1") == "beat-2-cnn3-student"
    firmware = json.loads((REPO / "zoo/beat-2/beat-2-cnn3-student/v1/configuration.json").read_text())[
        "firmware"
    ]

    def config(name, teacher=None):
        compress = {"distill": {"teacher": teacher}} if teacher else {}
        folder = tmp_path / "beat-2" / name / "v1"
        folder.mkdir(parents=True)
        cfg = {"name": name, "task": "beat-2", "compress": compress}
        (folder / "configuration.json").write_text(json.dumps({"config": cfg, "firmware": firmware}))
        return cfg

    config("teacher")
    config("student", "runs/teacher")
    born_again = config("born-again", "runs/student/channel-pruned")
    assert teacher_chain(tmp_path, born_again) == ["teacher", "student"]
    assert teacher_chain(tmp_path, config("plain")) == []
    # a teacher not in the zoo ends the chain with its own name
    assert teacher_chain(
        tmp_path, {"task": "beat-2", "compress": {"distill": {"teacher": "runs/x/qat"}}}
    ) == ["x"]
