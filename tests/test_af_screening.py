"""studies/af_screening.py: the af-4 models as an AF alert (A against N and O per recording), its
operating point chosen on validation, and what the card says of it."""

from __future__ import annotations

import json

import numpy as np
from conftest import REPO, benchmark_script


def test_the_operating_point_is_the_lowest_threshold_with_the_specificity():
    study = benchmark_script("af_screening")
    rng = np.random.default_rng(0)
    p = np.r_[rng.uniform(0, 1, 300), rng.uniform(0.5, 1, 40), rng.uniform(0, 1, 20)]
    label = np.array(["N"] * 200 + ["O"] * 100 + ["A"] * 40 + ["~"] * 20)
    t = study.threshold_for(p, label, 0.98)
    got = study.af_vs_rest(p, label, p >= t)
    assert got["specificity"] >= 0.98 and (got["af"], got["other"], got["noisy_left_out"]) == (40, 300, 20)
    lower = np.nextafter(np.max(p[np.isin(label, ["N", "O"]) & (p < t)]), -np.inf)  # the next negative in
    assert study.af_vs_rest(p, label, p >= lower)["specificity"] < 0.98
    called = np.zeros(len(p), bool)
    called[200:210] = True  # 10 other-rhythm recordings called AF, none of the AF ones
    x = study.af_vs_rest(p, label, called)
    assert (x["sensitivity"], x["ppv"], x["specificity"]) == (0.0, 0.0, 290 / 300)


def test_the_af4_card_shows_the_recorded_screen():
    from heartzoo.checkout import Checkout
    from heartzoo.site.cards import model_card
    from heartzoo.zoo.index import find, read_index

    ref = "af-4-cnn3-student@v3"
    lines = [json.loads(x) for x in (REPO / "results" / "af_screening.jsonl").read_text().splitlines()]
    line = next(x for x in reversed(lines) if x["model"] == ref)
    e = find(read_index(REPO / "zoo"), *ref.split("@"))
    card = model_card(e, REPO / "zoo" / e["path"], Checkout.of(REPO))
    c = line["at_its_call"]
    assert (
        "## As an AF screen" in card
        and f"ROC AUC of the recording's AF probability: **{c['roc_auc']:.3f}**" in card
    )
    assert (
        f"| at the model's call (`annotate --rhythm`) | {100 * c['sensitivity']:.1f} | {100 * c['specificity']:.1f} |"
        in card
    )
    assert (
        line["operating_point"]["validation"]["specificity"] >= line["operating_point"]["target_specificity"]
    )
