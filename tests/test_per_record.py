"""Scores by patient (`heartzoo.evaluation.per_record`) and what a card says of its model's limits
(`heartzoo.site.card_limits`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from heartzoo.evaluation.per_record import patient_statistics, record_confusions

REPO = Path(__file__).resolve().parents[1]
NAMES = ["N", "S", "V"]


def _confusions(rng, records: int = 6) -> dict[str, list[list[int]]]:
    probs = rng.random((600, 3))
    labels = rng.integers(0, 3, 600)
    recs = np.repeat([f"r{i}" for i in range(records)], 600 // records)
    return record_confusions(probs, labels, recs, 3, None)


def test_records_add_up_to_the_gross_confusion_and_a_threshold_leaves_the_same_beats_out():
    from heartzoo.evaluation.metrics import report_from_probabilities

    rng = np.random.default_rng(1)
    probs = rng.dirichlet([1, 1, 1], 500)
    labels = rng.integers(0, 3, 500)
    recs = rng.choice(["100", "103", "232"], 500)
    for threshold in (None, 0.6):
        per = record_confusions(probs, labels, recs, 3, threshold)
        gross = report_from_probabilities(probs, labels, NAMES, threshold=threshold)
        assert sorted(per) == ["100", "103", "232"]
        assert np.sum([np.asarray(c) for c in per.values()], axis=0).tolist() == gross["confusion"]


def test_average_statistics_are_the_mean_over_the_records_where_each_is_defined():
    # record a: 10 S beats, 5 found; record b: no S beat but 2 S calls (+P 0, no Se); record c: 4 of 4
    per = {
        "a": [[20, 0, 0], [5, 5, 0], [0, 0, 3]],
        "b": [[18, 2, 0], [0, 0, 0], [0, 0, 0]],
        "c": [[9, 0, 1], [0, 4, 0], [0, 0, 0]],
    }
    s = patient_statistics(per, NAMES, draws=50)["average"]["S"]
    assert s["se_records"] == 2 and s["se"] == pytest.approx((5 / 10 + 4 / 4) / 2)
    assert s["pp_records"] == 3 and s["pp"] == pytest.approx((5 / 5 + 0 / 2 + 4 / 4) / 3)
    v = patient_statistics(per, NAMES, draws=50)["average"]["V"]
    assert v["se_records"] == 1 and v["pp"] == pytest.approx((3 / 3 + 0 / 1) / 2)


def test_the_interval_resamples_patients_is_seeded_and_holds_the_gross_number():
    from heartzoo.evaluation.metrics import report_from_confusion

    per = _confusions(np.random.default_rng(2))
    a = patient_statistics(per, NAMES, draws=300)
    assert a == patient_statistics(per, NAMES, draws=300)  # the same draws, the same digits
    assert a["interval"] != patient_statistics(per, NAMES, draws=300, seed=1)["interval"]
    gross = report_from_confusion(np.sum([np.asarray(c) for c in per.values()], axis=0), NAMES)
    lo, hi = a["interval"]["macro_f1"]
    assert lo < gross["macro_f1"] < hi
    for c in NAMES:
        lo, hi = a["interval"][c]["se"]
        assert lo <= gross["per_class"][c]["sensitivity"] <= hi


def test_one_patient_holding_a_class_widens_its_interval():
    """The point of resampling patients: the same share found, held by one record instead of spread over
    six, leaves the class's Se far less certain; a class in fewer than MIN_RECORDS records has none."""
    from heartzoo.evaluation.per_record import MIN_RECORDS

    def width(per: dict) -> float:
        return float(np.diff(patient_statistics(per, ["N", "S"], draws=500)["interval"]["S"]["se"])[0])

    spread = {f"r{i}": [[100, 0], [5, 5]] for i in range(6)}  # every patient's Se is a half
    held = {f"r{i}": [[100, 0], [1, 1]] for i in range(5)} | {"r5": [[100, 0], [25, 25]]}
    uneven = {f"r{i}": [[100, 0], [0, 2]] for i in range(5)} | {"r5": [[100, 0], [35, 15]]}
    assert width(spread) == 0.0 and width(held) == 0.0  # a half wherever the beats lie
    assert width(uneven) > 0.3  # 10 of 10 found in five, 15 of 50 in the sixth
    few = {f"r{i}": [[100, 0], [0, 0]] for i in range(6)} | {"r6": [[100, 0], [30, 30]]}
    assert patient_statistics(few, ["N", "S"], draws=100)["interval"]["S"]["se"] is None
    assert patient_statistics(few, ["N", "S"], draws=100)["average"]["S"]["se_records"] == 1 < MIN_RECORDS


def test_no_record_is_an_error():
    with pytest.raises(ValueError, match="at least one record"):
        patient_statistics({}, NAMES)


def test_the_wilson_interval_solves_the_score_test():
    """Its bounds are where the score statistic |k/n - p| / sqrt(p (1 - p) / n) equals z."""
    from heartzoo.site.card_limits import wilson

    z = 1.96
    for k, n in ((120, 152), (0, 10), (10, 10), (3, 7)):
        lo, hi = wilson(k, n, z)
        assert 0.0 <= lo <= k / n <= hi <= 1.0
        for p in (lo, hi):
            if 0.0 < p < 1.0:
                assert abs(k / n - p) / math.sqrt(p * (1 - p) / n) == pytest.approx(z)
    assert wilson(0, 0) is None


def test_the_ppv_at_another_prevalence_follows_bayes():
    from heartzoo.site.card_limits import ppv

    se, sp = 0.8, 0.98
    # 10,000 people at 1 %: 100 with AF, 80 found; 9,900 without, 198 false alarms
    assert ppv(se, sp, 0.01) == pytest.approx(80 / (80 + 198))


def _line(per: dict, ref: str = "m@v1") -> dict:
    rep = {"macro_f1": 0.5, "per_record": per, "patients": patient_statistics(per, NAMES, draws=100)}
    return {"study": "patients", "model": ref, "split": "ds2", "float": rep, "int8": rep}


def test_the_card_names_the_patient_who_holds_a_class(tmp_path):
    from heartzoo.site.card_limits import concentration, patients_text

    per = {
        "100": [[500, 2, 0], [1, 9, 0], [0, 0, 20]],
        "232": [[50, 10, 0], [60, 40, 0], [0, 0, 0]],
        "105": [[500, 0, 0], [0, 0, 0], [0, 0, 0]],
    }
    (tmp_path / "patients.jsonl").write_text(json.dumps(_line(per)) + "\n")
    line = json.loads((tmp_path / "patients.jsonl").read_text())
    held = concentration(line, "S", "DS2")
    assert "100 of DS2's 110 S beats are one patient's (record 232)" in held
    assert "Se 40.0 % there, 90.0 % over the other records" in held
    assert concentration(line, "N", "DS2") == ""  # no record holds most of N
    text = patients_text("m@v1", tmp_path, "DS2")
    assert "| 232 | 60 | 83.3 / 45.5 | 100 | 40.0 / 80.0 | 0 | – / – |" in text
    assert patients_text("other@v1", tmp_path, "DS2") == ""


def test_the_recommended_beat_cards_open_with_their_weak_classes():
    """Each number of the box from the version's own metrics.json; the per-record tables, where
    studies/patients.py measured them, add up to its confusion."""
    from heartzoo.checkout import Checkout
    from heartzoo.site.card_limits import WEAK_F1, beat_limits, patients_line
    from heartzoo.zoo.index import read_index

    index = read_index(REPO / "zoo")
    tasks = {m["name"]: m["task"] for m in index["models"]}
    results = Checkout.of(REPO).results
    for task, ref in index["recommended"].items():
        if task not in ("beat-2", "beat-3", "aami-5"):
            continue
        name, version = ref.split("@")
        m = json.loads((REPO / "zoo" / tasks[name] / name / version / "metrics.json").read_text())
        box = beat_limits(m, ref, results, [])
        assert box.startswith('!!! warning "Limitations"')
        for c in m["int8"]["macro_classes"]:
            pc = m["int8"]["per_class"][c]
            said = f"finds {100 * pc['tp'] / pc['support']:.1f} % of the {c} beats ({pc['tp']:,} of {pc['support']:,})"
            assert (said in box) == (pc["f1"] < WEAK_F1), (ref, c)
        if (line := patients_line(ref, results)) is not None:
            summed = np.sum([np.asarray(c) for c in line["int8"]["per_record"].values()], axis=0)
            assert summed.tolist() == m["int8"]["confusion"]


def test_the_gate_card_says_whether_it_meets_its_bar(tmp_path):
    from heartzoo.site.card_tasks import gate_verdict

    def line(noise, kept, pp):
        return {
            "benchmark": "quality_gate",
            "set": "DS2",
            "gate": "g@v1",
            "noise": noise,
            "beats_kept": kept,
            "qrs_pp_kept": pp,
            "qrs_se_kept": 0.99,
            "qrs_pp_ungated": 0.9,
        }

    em6 = {"kind": "em", "snr_db": 6.0}
    lines = [line(None, 0.995, 0.999), line(em6, 0.95, 0.995), line(em6, 0.875, 0.9475)]  # the last counts
    (tmp_path / "quality_gate.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    text = gate_verdict("g@v1", tmp_path)
    assert "- clean DS2: 99.50 % of the beats kept — met" in text
    assert "- em 6 dB: 87.50 % kept, QRS +P 94.75 % on the kept — **not met**" in text
    assert gate_verdict("other@v1", tmp_path) == ""


def test_the_device_bill_says_when_the_preprocessing_breaks_the_budget():
    from heartzoo.site.card_sections import _whole_bill_verdict
    from heartzoo.zoo.recommend import WEARABLE

    ram = WEARABLE["tflm_arena_bytes"]
    fits = [{"flash_bytes": 20_000, "ram_bytes": ram}, {"flash_bytes": 19_000, "ram_bytes": ram - 1}]
    assert "still fits" in _whole_bill_verdict(fits)
    over = [{"flash_bytes": 20_000, "ram_bytes": ram + 100}, {"flash_bytes": 19_000, "ram_bytes": ram}]
    text = _whole_bill_verdict(over)
    assert "**With its preprocessing it does not fit**" in text
    assert f"the float kit's {ram + 100:,} B of RAM (over by 100 B)" in text and "fixed-point" not in text


def test_the_box_says_how_many_false_s_calls_fall_in_the_af_records():
    from heartzoo.site.card_limits import false_s_in_af

    per = {
        "100": [[500, 3, 0], [1, 9, 0], [0, 1, 20]],  # 4 false S calls
        "202": [[400, 30, 0], [0, 5, 0], [0, 2, 10]],  # 32, in a record that holds AF
        "232": [[50, 10, 0], [60, 40, 0], [0, 0, 0]],  # 10
    }
    assert false_s_in_af(_line(per)).startswith(
        "32 of its 46 false S calls fall in the record that holds episodes"
    )
    assert false_s_in_af(_line({"100": per["100"]})) == ""  # no AF record among them
    assert "which holds no AF" not in false_s_in_af(_line(per))
    per["213"] = [[300, 90, 0], [0, 1, 0], [0, 0, 5]]  # a record of no AF holding the most
    assert false_s_in_af(_line(per)).endswith("; the most in one record, 90, are in 213, which holds no AF")


def test_the_device_bill_counts_the_arena_tflm_starts_the_model_in():
    """Where TFLM needs more arena than a version published (benchmarks/arena.py), the whole bill counts
    what the kit gives it, not the published figure."""
    import re

    from heartzoo.site.card_sections import device_bill_text

    vdir = REPO / "zoo" / "beat-3" / "beat-3-cnn3-student" / "v6"
    published = json.loads((vdir / "metrics.json").read_text())["tflm_arena_bytes"]
    plain = device_bill_text(vdir)
    if "was not measured here" in plain:
        pytest.skip("no arm-none-eabi-gcc: the bill is not measured here")
    more = device_bill_text(vdir, arena=published + 1000)

    def ram(text: str) -> list[int]:
        return [int(x.replace(",", "")) for x in re.findall(r"= \*\*([\d,]+)\*\* \|$", text, re.M)]

    assert [r + 1000 for r in ram(plain)] == ram(more) and f"{published + 1000:,} + " in more


def test_the_gate_card_counts_its_test_by_database():
    """The quality gate's test mixes DS2's records with CinC 2017's recordings: "1728 records" read as
    CinC's count; and noise added at chosen SNRs is no natural prevalence."""
    from heartzoo.checkout import Checkout
    from heartzoo.site.cards import model_card
    from heartzoo.zoo.index import find, read_index

    zoo = REPO / "zoo"
    entry = find(read_index(zoo), "quality-cnn3@v1")
    m = json.loads((zoo / entry["path"] / "metrics.json").read_text())
    cinc = sum(r.startswith("A") for r in m["records"])
    row = next(
        r
        for r in model_card(entry, zoo / entry["path"], Checkout.of(REPO)).splitlines()
        if r.startswith("| evaluation")
    )
    assert f"{len(m['records']) - cinc} DS2 records and {cinc:,} CinC 2017 recordings" in row
    assert "natural prevalence" not in row and "chosen SNRs" in row
