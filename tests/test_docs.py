"""The documentation site: strict mkdocs build with generated pages, the numbers read from the zoo's
files, and the rendered pages opened in headless Chromium at 1400 px."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from browser import open_page

from heartzoo.checkout import Checkout

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "zoo"
CHECKOUT = Checkout.of(REPO)
#: the elements a rendered API page may hold; anything else is a docstring's <placeholder> read as a tag
HTML_TAGS = set(
    "a abbr article aside b blockquote body br button code dd details div dl dt em footer form h1 h2 h3 h4 "
    "h5 h6 head header hr html i img input label li link main meta nav ol p path pre script section small "
    "span strong style sub summary sup svg table tbody td th thead title tr ul".split()
)


@pytest.fixture(scope="module")
def site(small_zoo, tmp_path_factory):
    """The site of a fresh zoo: the small run published as its only version (the session's, read only)."""
    from heartzoo.site.build import build_site

    return build_site(small_zoo, tmp_path_factory.mktemp("docs") / "site"), small_zoo


@pytest.fixture(scope="module")
def repo_site(tmp_path_factory):
    """The site of the published zoo, as `heartzoo docs build --zoo zoo` makes it."""
    from heartzoo.site.build import build_site

    return build_site(ZOO, tmp_path_factory.mktemp("repo-docs") / "site")


@pytest.fixture(scope="module")
def repo_index():
    from heartzoo.zoo.index import read_index

    return read_index(ZOO)


@pytest.mark.slow
def test_strict_build_has_every_page(site):
    import heartzoo

    out, _ = site
    assert (out / "models" / "small-cnn2-v1" / "index.html").is_file()
    assert "small-cnn2 v1" in (out / "leaderboards" / "beat-3" / "index.html").read_text()
    assert "small-cnn2 v1" in (out / "leaderboard" / "index.html").read_text()
    assert "LEAKY" in (out / "leaderboards" / "leaky" / "index.html").read_text()
    literature = (out / "leaderboards" / "literature" / "index.html").read_text()
    assert "DS2, inter-patient" in literature and "beats scored" in literature and "de Chazal" in literature
    cli = (out / "cli" / "index.html").read_text()
    assert "heartzoo train" in cli and "heartzoo zoo verify" in cli
    api = (out / "api" / "index.html").read_text()
    for name in (n for n in heartzoo.__all__ if not n.startswith("_")):
        assert f">{name}<" in api or f">{name}</span>" in api, f"the API page does not list {name}"
    # a docstring's placeholder (zoo/<task>/<name>/...) shows as written, not swallowed as an HTML tag
    tags = set(re.findall(r"<([a-zA-Z][\w-]*)[\s>/]", api))
    assert tags <= HTML_TAGS, f"the API page holds tags no HTML has: {sorted(tags - HTML_TAGS)}"


@pytest.mark.slow
def test_card_numbers_come_from_metrics_json(site):
    out, zoo = site
    m = json.loads((zoo / "beat-3" / "small-cnn2" / "v1" / "metrics.json").read_text())
    html = (out / "models" / "small-cnn2-v1" / "index.html").read_text()
    assert f"{m['float']['macro_f1']:.4f}" in html and f"{m['int8']['macro_f1']:.4f}" in html
    assert f"{m['tflite_bytes']:,} B" in html and f"{m['tflm_arena_bytes']:,} B" in html
    assert "Not a diagnostic device" in html and "ODC-By 1.0" in html
    # the reproduce command: the version's own recipe, in the zoo it is in (highlighted, so split in spans)
    assert f"{zoo}/beat-3/small-cnn2/v1/configuration.json" in html
    assert "reference R-peak annotations" in html and "one beat of latency" in html
    for figure in ("confusion", "training"):
        assert (out / "models" / "img" / f"small-cnn2-v1-{figure}.png").stat().st_size > 5_000


def test_a_card_of_another_zoo_names_that_zoo_in_its_commands(small_zoo, repo_index):
    """A card's commands read the zoo it is in: a zoo that is not the checkout's is named by --zoo (and
    its folder) in every one, and the published zoo's cards keep the plain `zoo/` commands."""
    from heartzoo.site.cards import model_card
    from heartzoo.zoo.index import find, read_index

    entry = find(read_index(small_zoo), "small-cnn2@v1")
    card = model_card(entry, small_zoo / entry["path"], CHECKOUT)
    commands = card.split("## Download")[1].split("Exported by")[0]
    assert f"heartzoo download small-cnn2@v1 --zoo {small_zoo}`" in commands
    assert f'heartzoo.load_model("small-cnn2", "v1", zoo={str(small_zoo)!r}, format="tflite")' in commands
    assert (
        f"heartzoo train {small_zoo}/beat-3/small-cnn2/v1/configuration.json --zoo {small_zoo}\n" in commands
    )
    assert f"heartzoo evaluate {small_zoo}/beat-3/small-cnn2/v1 --split" in commands
    assert "heartzoo train zoo/" not in commands and "evaluate zoo/" not in commands
    published = find(repo_index, "beat-3-cnn3-student@v6")
    card = model_card(published, ZOO / published["path"], CHECKOUT)
    assert "heartzoo evaluate zoo/beat-3/beat-3-cnn3-student/v6 --split" in card and "--zoo" not in card


def test_mkdocs_warnings_are_in_the_error(tmp_path, monkeypatch):
    """A strict build that fails says why: mkdocs' own WARNING lines, not only its last words."""
    import heartzoo.site.build as site_module
    from heartzoo.errors import HeartzooError

    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (repo / "docs" / "index.md").write_text("# home\n\n[gone](no-such-page.md)\n")
    (repo / "mkdocs.yml").write_text("site_name: t\nnav:\n  - Home: index.md\n")
    monkeypatch.setattr(site_module, "write_pages", lambda index, root, docs, checkout: [])
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "index.json").write_text('{"format": 1, "models": []}')
    with pytest.raises(HeartzooError) as err:
        site_module.build_site(zoo, tmp_path / "site", checkout=Checkout(repo))
    assert re.search(r"^WARNING .*no-such-page\.md", str(err.value), re.M), str(err.value)


def test_markers_of_the_home_page_are_all_filled():
    from heartzoo.errors import HeartzooError
    from heartzoo.site.build import MARKERS, fill_markers

    home = (REPO / "docs" / "index.md").read_text()
    filled = fill_markers(home, {m: f"<{m} part>" for m in MARKERS}, "index.md")
    assert all(f"<{m} part>" in filled for m in MARKERS) and "heartzoo:" not in filled
    with pytest.raises(HeartzooError, match="no <!-- heartzoo:overview -->"):
        fill_markers("# home\n", {"overview": "x"}, "index.md")
    with pytest.raises(HeartzooError, match="nothing generates <!-- heartzoo:extra -->"):
        fill_markers("<!-- heartzoo:extra -->", {}, "index.md")


def test_config_reference_has_every_field_with_its_meaning():
    from pydantic import BaseModel

    from heartzoo.config import HeartzooConfig
    from heartzoo.site.config_reference import _model_of, config_reference

    page = config_reference()

    def walk(model: type[BaseModel], prefix: str = ""):
        for name, field in model.model_fields.items():
            yield f"{prefix}{name}", field
            if (sub := _model_of(field.annotation)) is not None:
                yield from walk(sub, f"{prefix}{name}.")

    fields = list(walk(HeartzooConfig))
    assert len(fields) > 60
    for path, field in fields:
        assert field.description, f"config field {path} has no description"
        row = next((r for r in page.splitlines() if r.startswith(f"| `{path}`") or f"[`{path}`]" in r), None)
        assert row is not None, f"{path} is not in the configuration reference"
        assert field.description.replace("|", "\\|") in row
    assert "| `train.epochs` | int | `30` | ≥ 1 |" in page
    assert '| `input.normalization` | one of "zscore", "none" | `"zscore"` |' in page


def test_docstring_placeholders_are_quoted():
    from heartzoo.site.docstring_placeholders import quote_placeholders

    assert (
        quote_placeholders("zoo/<task>/<name>/<version>/ folders") == "`zoo/<task>/<name>/<version>/` folders"
    )
    assert quote_placeholders("as `<name>.part` and <name>.json") == "as `<name>.part` and `<name>.json`"
    assert quote_placeholders("a < b and c > d") == "a < b and c > d"


@pytest.mark.slow
def test_leaderboards_keep_the_leaky_twin_apart(site, tmp_path):
    # A leaky twin of the test model (its metrics with the leaky flag and 10 points more): the leaky page
    # pairs the two and shows the difference; the task board leaves it out and states the target.
    from heartzoo.site.build import validation_macro_f1
    from heartzoo.site.cards import TARGETS, model_card
    from heartzoo.site.pages import collect, leaky_board, target_table, task_board
    from heartzoo.zoo.index import read_index, write_index

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
    versions = collect(index, root)
    assert {v.entry["name"]: v.family for v in versions}["small-cnn2-leaky"] == "leaky"
    row = next(line for line in leaky_board(versions).splitlines() if "`cnn2`" in line)
    assert (
        f"{fair:.4f} | [small-cnn2-leaky v1](../models/small-cnn2-leaky-v1.md) {fair + 0.1:.4f} | +10.0 |"
        in row
    )
    # a later version of the fair twin on a larger pool (zoo v2: DS1 + svdb) is not the leaky twin's pair
    pooled = root / "beat-3" / "small-cnn2" / "v2"
    shutil.copytree(root / "beat-3" / "small-cnn2" / "v1", pooled)
    conf = json.loads((pooled / "configuration.json").read_text())
    conf["config"]["data"]["train"] = ["mitdb:DS1", "svdb:all"]
    (pooled / "configuration.json").write_text(json.dumps(conf))
    m2 = json.loads((pooled / "metrics.json").read_text())
    m2["int8"]["macro_f1"] = fair + 0.05
    (pooled / "metrics.json").write_text(json.dumps(m2))
    row = next(
        line for line in leaky_board(collect(write_index(root), root)).splitlines() if "`cnn2`" in line
    )
    assert "[small-cnn2 v1](../models/small-cnn2-v1.md)" in row and "+10.0 |" in row
    shutil.rmtree(pooled)
    index = write_index(root)
    versions = collect(index, root)
    board = task_board("beat-3", versions, index.get("recommended", {}))
    assert "small-cnn2-leaky" not in board.split("## Target")[0]  # leaky models stay out of the ranking
    verdict = "reached" if fair >= TARGETS["beat-3"] else "**not reached**"
    targets = target_table(["beat-3"], versions)
    assert re.search(
        rf"\| beat-3 \| ≥ 0\.85 \| {fair:.4f} \(small-cnn2 v1\) \| {re.escape(verdict)}", targets
    )
    # what validation alone picks: the model's best epoch in its published history, scored on DS2
    fair_dir = root / "beat-3" / "small-cnn2" / "v1"
    val = validation_macro_f1(fair_dir)
    assert f"| {fair:.4f} (small-cnn2 v1, validation {val:.4f}) |" in targets
    entry = next(e for e in read_index(root)["models"] if e["name"] == "small-cnn2-leaky")
    card = model_card(entry, twin, CHECKOUT)
    assert "LEAKY random-beat split" in card and "not comparable" in card


@pytest.mark.slow
def test_task_boards_have_a_firmware_engineers_columns(repo_index):
    from heartzoo.site.pages import collect, task_board
    from heartzoo.tasks import get_task

    versions = collect(repo_index, ZOO)
    recommended = repo_index["recommended"]
    for task, ref in recommended.items():
        t = get_task(task)
        if t.unit != "beat":  # the false-call columns are of beat models
            board = task_board(task, versions, recommended, {})
            assert "in AF" not in next(line for line in board.splitlines() if line.startswith("| model |"))
            continue
        af, nsr = ("S", "V") if "S" in t.class_names else ("ectopic", "ectopic")
        shares = (
            {"A": {"share": {af: 0.1234}}, "N": {"share": {nsr: 0.0567}}}
            if af != nsr
            else {"A": {"share": {af: 0.1234}}, "N": {"share": {af: 0.0567}}}
        )
        board = task_board(task, versions, recommended, {ref: {"cinc2017": shares}})
        head = next(line for line in board.splitlines() if line.startswith("| model |"))
        classes = " | ".join(f"{c} F1" for c in (t.macro_classes or t.class_names))
        assert head.startswith(
            f"| model | int8 macro-F1 | {classes} | {af} in AF / {nsr} in NSR % | flash B | arena B | MACs | validation macro-F1 | trained on |"
        )
        name, version = ref.split("@")
        m = json.loads((ZOO / task / name / version / "metrics.json").read_text())
        row = next(line for line in board.splitlines() if f"[{name} {version}]" in line)
        assert "★" in row and f"**{m['int8']['macro_f1']:.4f}**" in row and f"{m['tflite_bytes']:,}" in row
        assert "| 12.3 / 5.7 |" in row  # the external false-call rates, in their columns
        assert sum("★" in line for line in board.splitlines() if line.startswith("| [")) == 1
        assert not any("-leaky " in line for line in board.splitlines() if line.startswith("| ["))


@pytest.mark.slow
def test_navigation_groups_cards_by_task_then_family(repo_index):
    from heartzoo.site.pages import collect, nav

    groups = {next(iter(d)): d[next(iter(d))] for d in nav(collect(repo_index, ZOO))[1:]}
    beat3 = [next(iter(g)) for g in groups["beat-3"]]
    assert beat3 == ["cnn3 students", "comparison architectures", "teachers", "ensembles", "leaky"]
    teachers = next(g["teachers"] for g in groups["beat-3"] if "teachers" in g)
    # every published version of the teacher, oldest first, and nothing else
    versions = sorted(
        (e["version"] for e in repo_index["models"] if e["name"] == "beat-3-efficientnetv2-sm"),
        key=lambda v: int(v[1:]),
    )
    assert len(versions) >= 1
    assert teachers == [
        {f"beat-3-efficientnetv2-sm {v}": f"models/beat-3-efficientnetv2-sm-{v}.md"} for v in versions
    ]


@pytest.mark.slow
def test_cards_are_judged_on_their_own_bar(repo_index):
    from heartzoo.site.cards import STUDENT_TARGETS, model_card
    from heartzoo.zoo.index import find
    from heartzoo.zoo.recommend import WEARABLE

    assert STUDENT_TARGETS["tflite_bytes"] == WEARABLE["tflite_bytes"]
    assert STUDENT_TARGETS["tflm_arena_bytes"] == WEARABLE["tflm_arena_bytes"]

    def card(ref):
        """The card of NAME (its latest version) or NAME@vN."""
        e = find(repo_index, ref)
        return model_card(
            e,
            ZOO / e["path"],
            CHECKOUT,
            recommended=f"{e['name']}@{e['version']}" in repo_index["recommended"].values(),
        )

    # the recommended version itself: a later version of its name need not be the one recommended
    student = card(repo_index["recommended"]["beat-3"])
    bar = student.split("## Its bar")[1].split("\n## ")[0]
    assert (
        f"wearable ≤ {WEARABLE['tflite_bytes']:,} B" in bar
        and f"wearable ≤ {WEARABLE['tflm_arena_bytes']:,} B" in bar
    )
    assert "against its teacher" in bar and "Recommended for a wearable" in student
    teacher = card("beat-3-efficientnetv2-sm")
    assert (
        "its bar is to teach" in teacher and "[beat-3-cnn3-student v1](beat-3-cnn3-student-v1.md)" in teacher
    )
    assert "neither distilled nor pruned" in card("beat-3-cnn1") and "members alone" in card(
        "beat-3-cnn3-student-ensemble"
    )
    for text in (student, teacher):
        assert "zoo v1" not in text and "not reached" not in text  # zoo-wide targets: the leaderboard's


def test_reproduce_command_trains_every_teacher_first(tmp_path):
    # A born-again model distils from a student that distils from a teacher: its card must say to train
    # the teacher, then the student, then itself — the teacher paths point into stage and version folders.
    from heartzoo.site.cards import teacher_chain, teacher_name

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
    assert teacher_chain(tmp_path, born_again) == ["teacher@v1", "student@v1"]
    assert teacher_chain(tmp_path, config("plain")) == []
    # a teacher not in the zoo ends the chain with its own name
    assert teacher_chain(
        tmp_path, {"task": "beat-2", "compress": {"distill": {"teacher": "runs/x/qat"}}}
    ) == ["x@v1"]
    # named without a version: the latest published, by its version
    config("later")
    assert teacher_chain(tmp_path, {"task": "beat-2", "compress": {"distill": {"teacher": "later"}}}) == [
        "later@v1"
    ]


def _box_within_first_screen(box, probe):
    return (
        box is not None
        and box["width"] > 0
        and box["height"] > 0
        and box["top"] >= 0
        and box["bottom"] <= probe["vh"]
    )


@pytest.mark.slow
def test_home_page_answers_in_one_screen(repo_site, repo_index, tmp_path):
    probe = open_page(
        repo_site / "index.html", tmp_path, {"table": ".recommended table", "figure": "img.overview"}
    )
    assert probe["vw"] == 1400
    assert _box_within_first_screen(probe["boxes"]["table"], probe), probe
    assert _box_within_first_screen(probe["boxes"]["figure"], probe), probe
    assert probe["images"]["img.overview"] > 0, "the overview figure did not load"
    assert probe["blank"]["figure"] is False, "the overview figure is blank in the screenshot"
    text = probe["text"]
    for task, ref in repo_index["recommended"].items():
        name, version = ref.split("@")
        m = json.loads((ZOO / task / name / version / "metrics.json").read_text())
        assert f"{name} {version}" in text and f"{m['int8']['macro_f1']:.4f}" in text
        assert (
            f"{m['tflite_bytes']:,} B" in text
            and f"{m['tflm_arena_bytes']:,} B" in text
            and f"{m['macs']:,}" in text
        )
    assert "heartzoo download " + repo_index["recommended"]["beat-3"].split("@")[0] in text
    assert "pip install heartzoo" in text and "heartzoo.predict(" in text
    assert "next RR interval" in text and "reference R peaks" in text.replace(
        "Reference R peaks", "reference R peaks"
    )


@pytest.mark.slow
@pytest.mark.parametrize("task", ["beat-2", "beat-3", "aami-5"])
def test_task_leaderboard_in_chromium(repo_site, repo_index, tmp_path, task):
    probe = open_page(
        repo_site / "leaderboards" / task / "index.html", tmp_path, {"table": ".leaderboard table"}
    )
    table = probe["boxes"]["table"]
    assert table is not None and table["top"] < probe["vh"] and table["right"] <= probe["vw"], probe
    name, version = repo_index["recommended"][task].split("@")
    assert f"{name} {version} ★" in probe["text"]


@pytest.mark.slow
def test_card_in_chromium(repo_site, repo_index, tmp_path):
    name, version = repo_index["recommended"]["beat-3"].split("@")
    page = repo_site / "models" / f"{name}-{version}" / "index.html"
    probe = open_page(
        page,
        tmp_path,
        {"bar": "#its-bar", "curve": "img[src$='-training.png']", "confusion": "img[src$='-confusion.png']"},
    )
    assert all(probe["boxes"][k] is not None for k in ("bar", "curve", "confusion")), probe
    assert (
        probe["images"]["img[src$='-training.png']"] > 0 and probe["images"]["img[src$='-confusion.png']"] > 0
    )
    bar = probe["text"].split("Its bar")[1].split("Metrics on")[0]
    assert "flash:" in bar and "RAM:" in bar and "against its teacher" in bar
    assert "Metrics on DS2" in probe["text"]
    # the Limitations box opens the card, and each record's table folds (an extension the site must load:
    # without it, "??? note" and the table were printed as text and code)
    built = page.read_text()
    assert 'class="admonition warning"' in built and probe["text"].index("Limitations") < probe["text"].index(
        "Metrics on"
    )
    folded = built.split('<details class="note">')[1].split("</details>")[0]
    assert "Each record (int8)" in folded and "<table>" in folded and "???" not in built


@pytest.mark.slow
def test_api_page_in_chromium(repo_site, tmp_path):
    probe = open_page(
        repo_site / "api" / "index.html", tmp_path, {"list_models": "[id='heartzoo.list_models']"}
    )
    assert probe["boxes"]["list_models"] is not None
    for name in ("list_models", "download", "load_model", "predict", "calibrate", "Preprocessor"):
        assert f"heartzoo.{name}" in probe["text"]


def test_a_teacher_named_out_of_the_zoo_ends_the_chain(tmp_path):
    from heartzoo.site.cards import teacher_chain

    for bad in ("x@../..", "../../etc@v1", "runs/.."):
        assert teacher_chain(tmp_path, {"task": "beat-2", "compress": {"distill": {"teacher": bad}}}) == []


def test_a_card_names_the_fine_tune_that_kept_every_channel():
    """The history caption of a card says what the last stage did: a pruning stage that kept every channel
    (v4 of the beat-3 student) fine-tuned, it did not prune."""
    from heartzoo.site.card_sections import last_stage

    zoo = Path(__file__).resolve().parents[1] / "zoo" / "beat-3" / "beat-3-cnn3-student"

    def caption(version: str) -> str:
        conf = json.loads((zoo / version / "configuration.json").read_text())
        return last_stage(json.loads((zoo / version / "metrics.json").read_text()), conf["config"])

    assert caption("v3") == "fine-tuning after channel pruning"
    assert caption("v4") == "fine-tuning, every channel kept (channel_prune.keep 1.0)"


def test_a_card_says_the_history_is_not_the_tfmot_stages_after_it():
    """Magnitude pruning and QAT keep their parent's history.csv (they score no epoch): the caption named
    them as its stage, and ringed an epoch of a model that was not the one published."""
    from heartzoo.site.card_sections import after_last_stage, last_stage

    m = {"compression": ["distill", "channel_prune", "magnitude_prune", "qat", "int8_ptq"]}
    cfg = {"compress": {"channel_prune": {"keep": 0.5}}}
    assert last_stage(m, cfg) == "fine-tuning after channel pruning"
    assert "Magnitude pruning and quantization-aware fine-tuning fine-tuned after it" in after_last_stage(m)
    assert after_last_stage({"compression": ["distill", "channel_prune", "int8_ptq"]}) == ""


def test_the_recording_tables_read_the_latest_line_of_each_benchmark(tmp_path):
    from heartzoo.site.recording_pages import detector_table, quality_table

    def line(corpus, se, **kw):
        return json.dumps(
            {
                "detector": "pan-tompkins",
                "corpus": corpus,
                "records": 2,
                "published": None,
                "gross": {"qrs_se": se, "qrs_pp": 0.99, "fn": 1, "fp": 2},
                "worst_se": {"record": "r1", "se": 0.97},
                "seconds_per_hour": 0.3,
                **kw,
            }
        )

    (tmp_path / "detector.jsonl").write_text(
        "\n".join([line("ds2+em0", 0.5), line("svdb", 0.9), line("mitdb", 0.8), line("mitdb", 0.995)]) + "\n"
    )
    rows = [r for r in detector_table(tmp_path).splitlines() if r.startswith("| ") and "`" in r]
    assert [r.split(" | ")[0] for r in rows] == ["| mitdb", "| svdb", "| ds2+em0"]  # databases, then noise
    assert "| 99.50 |" in rows[0] and "r1 97.00" in rows[0]  # the latest line of mitdb
    gate = {
        "benchmark": "quality_gate",
        "set": "DS2",
        "min_correlation": 0.6,
        "beats_kept": 0.991,
        "qrs_se_kept": 0.998,
        "qrs_pp_kept": 0.9988,
        "qrs_pp_ungated": 0.998,
    }
    (tmp_path / "quality_gate.jsonl").write_text(
        json.dumps({**gate, "noise": None})
        + "\n"
        + json.dumps({"set": "DS2", "min_correlation": 0.6, "noise": "gaussian", "detected": 198, "kept": 0})
        + "\n"
    )
    table = quality_table(tmp_path)
    assert (
        "| DS2 | sqi 0.6 | clean | **99.10** |" in table
        and "| gaussian | sqi 0.6 | 198 | **0** | – |" in table
    )
    # recorded noise, measured again on other records: one row each, the latest
    with open(tmp_path / "quality_gate.jsonl", "a") as f:
        for where, kept in (("DS1", 7), ("DS2", 5)):
            em = {"noise": "NSTDB em channel 0", "detected": 3584, "kept": kept, "readable_share": 0.5}
            f.write(json.dumps({"set": where, "min_correlation": 0.6, **em}) + "\n")
    rows = [r for r in quality_table(tmp_path).splitlines() if r.startswith("| NSTDB em")]
    assert rows == ["| NSTDB em channel 0 | sqi 0.6 | 3,584 | **5** | 50.00 |"]
    # a learned gate's line sits beside the index's; an oracle line is no gate's and is left out
    with open(tmp_path / "quality_gate.jsonl", "a") as f:
        f.write(json.dumps({**gate, "gate": "quality-cnn3@v1", "noise": None, "beats_kept": 0.95}) + "\n")
        f.write(
            json.dumps(
                {"set": "DS1", "oracle_window_s": 5.0, "noise": None, "beats_in_readable_windows": 0.9}
            )
            + "\n"
        )
    table = quality_table(tmp_path)
    assert (
        "| DS2 | sqi 0.6 | clean | **99.10** |" in table
        and "| DS2 | `quality-cnn3@v1` | clean | **95.00** |" in table
    )
    assert "DS1" not in table


def test_the_readme_is_short_and_its_table_comes_from_the_zoo():
    """The front door: at most 150 lines, the two commands on the first screen, no commit hash in prose,
    and the table of recommended models exactly what `make readme` generates from the zoo."""
    import re

    from heartzoo.site.build import readme_table

    text = (REPO / "README.md").read_text()
    lines = text.splitlines()
    assert len(lines) <= 150
    first = "\n".join(lines[:60])
    assert "make demo" in first and "make test" in first
    assert not re.search(r"\b[0-9a-f]{7,40}\b", text.replace("sha256", "")), "a commit hash in the README"
    table = text.split("<!-- heartzoo:readme -->\n", 1)[1].split("\n<!-- /heartzoo:readme -->", 1)[0]
    assert table == readme_table(REPO / "zoo", REPO / "results")


def test_the_af_aggregation_table_takes_each_groups_mean(tmp_path):
    from heartzoo.site.recording_pages import af_aggregation_table

    def line(run, group, mean, mm):
        scores = {"mean": {"challenge_f1": mean}, "mean+max": {"challenge_f1": mm}}
        return json.dumps({"study": "af_aggregation", "group": group, "run": run, "scores": scores})

    lines = [line("a", "screen", 0.5, 0.9), line("b", "screen", 0.7, 0.7), line("a", "screen", 0.6, 0.8)]
    # d regrouped: a later line of the same candidates replaces it; a asked another question (views)
    views = {"mean+max": {"challenge_f1": 0.3}, "hop50": {"challenge_f1": 0.4}}
    later = [
        line("c", "hop", 0.1, 0.2),
        line("d", "first", 0.2, 0.2),
        line("d", "regrouped", 0.3, 0.3),
        json.dumps({"study": "af_aggregation", "group": "views", "run": "a", "scores": views}),
    ]
    (tmp_path / "af_aggregation.jsonl").write_text("\n".join([*lines, *later]) + "\n")
    table = af_aggregation_table(tmp_path)
    assert "| screen | mean | **0.6500** | **0.7500** |" in table  # a's latest line, then b
    assert "| hop | `c` | 0.1000 | 0.2000 |" in table and "| hop | mean |" not in table  # one run: no mean
    assert "| first |" not in table and "| regrouped | `d` | 0.3000 | 0.3000 |" in table
    assert "| views | `a` |  | 0.3000 | 0.4000 |" in table


def test_af_4_cards_state_their_aggregation_bar_and_cross_validation(repo_index):
    """Every af-4 card says how its windows make a recording (a fitted map: where it was fitted), judges a
    teacher on the teacher's bar and a student on the wearable's, and shows the cross-validation of the
    recipe (its teacher's, for a student) where studies/af_cv.py recorded one with its aggregation."""
    from heartzoo.site.cards import model_card

    entries = [e for e in repo_index["models"] if e["task"] == "af-4"]
    assert entries
    for e in entries:
        vdir = ZOO / e["path"]
        conf = json.loads((vdir / "configuration.json").read_text())
        card = model_card(e, vdir, CHECKOUT)
        aggregation = (conf["firmware"].get("aggregation") or {"method": "mean"})["method"]
        if aggregation == "mean":
            assert "its windows' mean probabilities" in card
        else:
            assert f"({aggregation}, `configuration.json`" in card and "never on the test split" in card
        distilled = conf["config"]["compress"]["distill"]
        assert ("in <= 64 KB of flash" in card) == bool(distilled)
        assert ("for the line's teacher" in card) != bool(distilled)
        cv = [json.loads(x) for x in (CHECKOUT.results / "af_cv.jsonl").read_text().splitlines() if x]
        recipe = distilled["teacher"].split("@")[0] if distilled else conf["config"]["name"]
        if any(x["name"].startswith(recipe) and x["aggregation"] == aggregation for x in cv):
            assert "## Cross-validation" in card and f"{aggregation} over the windows" in card


def test_the_af_student_table_reads_each_levers_latest_line(tmp_path):
    from heartzoo.site.recording_pages import af_student_table

    def line(val, adopted):
        return json.dumps(
            {
                "variant": "hop50",
                "changes": {"data": {"window_hop": 0.5}},
                "stage": "distill",
                "val_f1": val,
                "against": "zoo/af-4/x/v2",
                "against_val_f1": 0.8,
                "adopted": adopted,
            }
        )

    (tmp_path / "af_student.jsonl").write_text(line(0.9, True) + "\n" + line(0.7, False) + "\n")
    rows = [r for r in af_student_table(tmp_path).splitlines() if r.startswith("| hop50")]
    assert len(rows) == 1 and "| 0.7000 | – |" in rows[0] and rows[0].endswith("| no |")
    # a line with int8 scores shows them beside the float ones
    qat = {
        **json.loads(line(0.81, False)),
        "variant": "qat",
        "val_f1_int8": 0.79,
        "against_val_f1_int8": 0.78,
    }
    (tmp_path / "af_student.jsonl").write_text(json.dumps(qat) + "\n")
    (row,) = [r for r in af_student_table(tmp_path).splitlines() if r.startswith("| qat")]
    assert "| 0.8100 | 0.7900 |" in row and "0.8000 / 0.7800" in row


def test_the_learned_detector_table_sets_each_candidate_beside_pan_tompkins(tmp_path):
    from heartzoo.site.recording_pages import learned_detector_table

    assert "Not measured" in learned_detector_table(tmp_path)

    def s(se, fp):
        return {"se": se, "pp": 0.99, "fn": 3, "fp": fp}

    rounds = [
        {"side": "development", "conditions": {"clean/pan-tompkins": s(0.9, 5), "clean/learned": s(0.8, 1)}},
        {
            "side": "development",
            "conditions": {"clean/pan-tompkins": s(0.9, 5), "clean/verified": s(0.95, 2)},
        },
        {"side": "development", "dev_noise": "channel 0", "conditions": {"em6/pan-tompkins": s(0.9, 50)}},
        {"side": "test", "detector": "verified", "corpus": "ds2", **s(0.97, 7)},
        {"side": "test", "detector": "pan-tompkins", "corpus": "ds2", **s(0.96, 9)},
        {
            "side": "test",
            "detector": "verified",
            "corpus": "svdb",
            "gross": {"qrs_se": 0.98, "qrs_pp": 0.97, "fn": 4, "fp": 1234},
            "seconds_per_hour": 0.5,
        },
    ]
    (tmp_path / "learned_detector.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rounds))
    (tmp_path / "detector.jsonl").write_text(
        json.dumps(
            {
                "detector": "pan-tompkins",
                "corpus": "svdb",
                "gross": {"qrs_se": 0.99, "qrs_pp": 0.9, "fn": 8, "fp": 99},
            }
        )
        + "\n"
    )
    table = learned_detector_table(tmp_path)
    # the first round's detector under its threshold's name; every candidate of every round is a column
    assert "| condition | `pan-tompkins` | `learned@0.5` | `verified` |" in table
    assert "| clean | 90.00 / 99.00 (3 / 5) | 80.00 / 99.00 (3 / 1) | 95.00 / 99.00 (3 / 2) |" in table
    # a development side with other noise gets its own table
    assert table.count("| condition |") == 2 and "noise from channel 0)" in table
    assert "| em6 | 90.00 / 99.00 (3 / 50) |" in table
    # the test rows: Pan-Tompkins from the study's own DS2 line, and from studies/detector.py's record
    assert "| ds2 | 96.00 / 99.00 (3 / 9) | `verified` 97.00 / 99.00 (3 / 7) | – |" in table
    assert "| svdb | 99.00 / 90.00 (8 / 99) | `verified` 98.00 / 97.00 (4 / 1,234) | 0.50 s |" in table


def test_a_card_gives_the_cinc_shares_with_the_rhythm_model_where_they_were_measured(tmp_path):
    from heartzoo.site.card_external import devices_text

    def group(s, v, with_rhythm=None):
        g = {"records": 2, "records_with_beats": 2, "beats": 100, "share": {"N": 1 - s - v, "S": s, "V": v}}
        g["records_with_any"] = {"N": 2, "S": 1, "V": 1}
        return g | ({"with_rhythm": with_rhythm} if with_rhythm else {})

    icentia = {k: {"records": {}} for k in ("detected", "reference")}
    cinc = {"classes": ["N", "S", "V"], "rhythm": None, "A": group(0.2, 0.01), "N": group(0.02, 0.03)}
    line = {"model": "m@v1", "icentia11k": icentia, "cinc2017": cinc}
    (tmp_path / "external.jsonl").write_text(json.dumps(line) + "\n")
    assert "With the rhythm model" not in devices_text("m@v1", tmp_path)  # measured without one
    relabelled = {"share": {"N": 0.96, "S": 0.03, "V": 0.01}, "records_with_any": {"N": 2, "S": 1, "V": 1}}
    cinc |= {"rhythm": "af-4-x@v2", "A": group(0.2, 0.01, relabelled), "N": group(0.02, 0.03, relabelled)}
    (tmp_path / "external.jsonl").write_text(json.dumps(line) + "\n")
    text = devices_text("m@v1", tmp_path)
    assert (
        "With the rhythm model `af-4-x@v2`" in text and "**3.0 %** of the AF records' beats called S" in text
    )
    assert "**20.0**" in text  # the beat model alone stays in its table
    assert "so every S call in an AF record is false" in text


def test_the_cinc_table_has_one_column_per_kind_of_call_and_says_which_records_had_no_beat(tmp_path):
    """beat-2 calls both false alarms "ectopic": one column, not two equal ones; records without a
    classified beat are out of "records with any" and the card says how many."""
    from heartzoo.site.card_external import devices_text

    def group(records, with_beats):
        share = {"normal": 0.9, "ectopic": 0.1}
        return {"records": records, "records_with_beats": with_beats, "beats": 100, "share": share}

    a, n = (
        group(152, 150) | {"records_with_any": {"ectopic": 137}},
        group(1015, 1010) | {"records_with_any": {"ectopic": 197}},
    )
    cinc = {"classes": ["normal", "ectopic"], "rhythm": None, "A": a, "N": n}
    line = {"model": "b@v1", "icentia11k": {k: {"records": {}} for k in ("detected", "reference")}}
    (tmp_path / "external.jsonl").write_text(json.dumps(line | {"cinc2017": cinc}) + "\n")
    text = devices_text("b@v1", tmp_path)
    header = next(r for r in text.splitlines() if r.startswith("| records |"))
    assert header.count("called ectopic %") == 1
    assert "| atrial fibrillation (152) | 100 | **10.0** | 137 of 150 |" in text
    assert "7 of the records had no beat classified" in text
    # beat-2's ectopic holds the PVCs that do occur in AF: its calls there are not all false
    assert "not all false" in text and "every ectopic call in an AF record is false" not in text


def test_the_false_call_cell_adds_the_share_with_the_rhythm_model_where_measured():
    from heartzoo.site.card_external import false_call_cell

    c = {"A": {"share": {"S": 0.187, "ectopic": 0.2}}, "N": {"share": {"V": 0.019, "ectopic": 0.05}}}
    assert false_call_cell({"cinc2017": c}, ["N", "S", "V"]) == "18.7 / 1.9"
    c |= {"rhythm": "af-4-x@v2"}
    c["A"]["with_rhythm"] = {"share": {"S": 0.027, "ectopic": 0.2}}
    assert false_call_cell({"cinc2017": c}, ["N", "S", "V"]) == "18.7 → 2.7 / 1.9"
    assert false_call_cell({"cinc2017": c}, ["normal", "ectopic"]) == "20.0 / 5.0"  # beat-2: no S to relabel
    assert false_call_cell(None, ["N", "S", "V"]) == "–"


def test_the_af4_card_gives_false_af_in_other_rhythms_where_measured(tmp_path):
    from heartzoo.site.card_tasks import af_external_text

    line = {
        "model": "af@v1",
        "mitdb": {"windows": {"A": 10, "N": 20}, "af_f1": 0.9, "af_se": 0.9, "af_pp": 0.9},
        "aftdb": {"windows": 5, "af_se_records": 1.0, "af_se_windows": 0.8},
        "icentia11k": {
            "records": {"p1_s0": {"windows": 7}, "p1_s1": {"windows": 7}},
            "hours": 0.5,
            "false_af_per_hour": 0.0,
        },
    }
    (tmp_path / "af_external.jsonl").write_text(json.dumps(line) + "\n")
    assert "every other rhythm" not in af_external_text("af@v1", tmp_path)  # measured before it was counted
    rhythms = {"SBR": {"windows": 30, "called_af": 12}, "B": {"windows": 20, "called_af": 0}}
    line["mitdb"]["other"] = {"windows": 50, "called_af": 0.24, "rhythms": rhythms}
    (tmp_path / "af_external.jsonl").write_text(json.dumps(line) + "\n")
    row = next(r for r in af_external_text("af@v1", tmp_path).splitlines() if "every other rhythm" in r)
    assert "| 50 |" in row and "most: SBR 12 of 30" in row and "**0.240**" in row
    # VT called AF is said however few its windows; what was read and how, with the command for this model
    rhythms["VT"] = {"windows": 8, "called_af": 8}
    (tmp_path / "af_external.jsonl").write_text(json.dumps(line) + "\n")
    text = af_external_text("af@v1", tmp_path)
    assert "most: SBR 12 of 30; VT 8 of 8" in text
    assert "`python studies/af_external.py --models af@v1`" in text
    assert "records 201, 202, 203, 210, 219, 221, 222" in text and "flutter counted as AF" in text
    assert "2 segments of 1 patients, 0.50 h in all" in text


def test_a_card_gives_the_arena_tflm_starts_a_version_in_beside_a_published_one_too_small(tmp_path):
    """Versions that recorded TFLM's allocation total as their arena do not start in it (the quality gate
    v1: 9,024 B published, 9,888 B needed): the card gives both, from benchmarks/arena.py's latest line."""
    from heartzoo.site.card_sections import arena_cell

    m = {"tflm_arena_bytes": 9024}
    assert arena_cell(m, "q@v1", tmp_path) == "9,024 B"  # not measured: the published figure alone
    line = {"benchmark": "arena", "versions": {"q@v1": {"published": 9024, "runs_in": 9888}}}
    (tmp_path / "arena.jsonl").write_text(json.dumps(line) + "\n")
    assert arena_cell(m, "q@v1", tmp_path).startswith("9,024 B published, but TFLM needs 9,888 B")
    assert arena_cell({"tflm_arena_bytes": 9888}, "q@v1", tmp_path) == "9,888 B"


def test_the_literature_rows_say_what_each_trained_on_and_scored(repo_index):
    """A citing reader compares like with like: the zoo's rows carry their own training databases (from
    each version's configuration), one lead, and which beats were left out of the score."""
    from heartzoo.site.literature import PUBLISHED, literature_page
    from heartzoo.site.pages import collect

    page = literature_page(collect(repo_index, ZOO), repo_index["recommended"])
    rows = [r for r in page.splitlines() if r.startswith("| heartzoo ")]
    assert len(rows) == 3  # beat-2, beat-3, aami-5
    for row in rows:
        assert "mitdb:DS1" in row and ("| 1 (MLII; svdb's ECG1) |" in row) == ("svdb:all" in row)
        assert ("(F and Q beats not scored)" in row) == ("aami-5" not in row)
    assert all(p["work"] in page and p["trained"] and p["scored"] for p in PUBLISHED)
