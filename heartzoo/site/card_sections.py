"""Parts of a model card that read one version's files and nothing else of the zoo: how it was trained
and measured, its external test, its ensemble members, its int8 runtime (`cards.model_card` puts them
together)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..zoo.published import training_sources, uses_svdb
from .card_tasks import unseen_text

#: what each stage of the line that scores its epochs on validation is called where the card says which
#: stage history.csv holds
STAGES = {
    "train": "training",
    "distill": "distillation",
    "channel_prune": "fine-tuning after channel pruning",
}
#: the stages that fine-tune with tfmot after those, scoring no epoch (`training.runs.Tfmot`): their
#: folder holds the history of the stage before them
TFMOT_STAGES = {"magnitude_prune": "magnitude pruning", "qat": "quantization-aware fine-tuning"}


def training_text(cfg: dict[str, Any]) -> str:
    text = _training_text(cfg)
    if af := (cfg["data"].get("af_beats") or {}).get("sources"):
        text += (
            f" Also trained on the unlabelled beats of AF recordings ({', '.join(af)}: CinC 2017's training split "
            "outside its test split and selection's draw, aftdb), detected as a wearable detects them, with the "
            "label 'any class but S' (`data.af_beats`)."
        )
    if cfg["data"].get("extra_leads"):
        text += (
            " Each training record's other leads (mitdb's V1, V2, V4, V5; svdb's ECG2) trained as extra views of "
            f"its beats (`data.extra_leads`); validation and tests read {cfg['input']['lead']} alone."
        )
    return text


def _training_text(cfg: dict[str, Any]) -> str:
    if cfg["task"] == "af-4":
        selection = (
            "every recording of the rest trained on, each member choosing its epoch on the fold of them it "
            "held out"
            if (cfg.get("ensemble") or {}).get("by") == "fold"
            else "model selection on a stratified fifth of the rest"
        )
        return (
            "Trained on the CinC 2017 training recordings outside the committed test split "
            "(`heartzoo/data/lists/cinc2017-test.txt`, a stratified fifth, drawn once before any training), "
            f"{selection}, tested once on the test split."
        )
    if cfg["task"] == "quality":
        return (
            "Trained on 2.56 s windows of MIT-BIH DS1 and the Supraventricular Arrhythmia Database as recorded "
            "(readable), the same windows with NSTDB `em`, `ma` or `bw` noise at 12 to -6 dB (noise channel 1; "
            "readable where the default detector finds exactly the annotated beats), CinC 2017 training "
            "recordings by their labels (`~` unreadable) and made-up flat, clipped and saturated stretches "
            "(unreadable); model selection on whole validation patients; tested on DS2 with noise channel 0, "
            "never seen in training, and on CinC 2017's committed test split."
        )
    if cfg["data"]["protocol"] == "patient-deal":
        return (
            f"The patients of `{', '.join(training_sources(cfg))}` (those with a {cfg['input']['lead']} lead) dealt "
            "into test, validation and training: whole patients, seeded, stratified by rhythm "
            "(`data.protocol: patient-deal`; the test draw has one seed for every config). DS1/DS2 is a beat "
            "split and DS1 holds two patients with atrial fibrillation."
        )
    if uses_svdb(cfg):
        return (
            "Trained on MIT-BIH Arrhythmia Database DS1 (de Chazal 2004 inter-patient split) and the MIT-BIH "
            f"Supraventricular Arrhythmia Database (`{', '.join(training_sources(cfg))}`), model selection on "
            "whole patients drawn from both, tested on DS2 only."
        )
    return (
        "Trained on MIT-BIH Arrhythmia Database DS1 (de Chazal 2004 inter-patient split), model selection "
        "on whole DS1 validation patients, tested on DS2 only."
    )


def licence_text(cfg: dict[str, Any]) -> str:
    """The licence of every database the model learnt from (`databases.licences_of`), what to cite, and
    "non-commercial" in bold where one of them forbids commercial use: the model inherits it."""
    from ..data.databases import licences_of

    lics = licences_of(cfg)
    parts = [
        f"{x.title} is licensed [{x.licence}]({x.url})" + (f" (cite {x.citation})" if x.citation else "")
        for x in lics
    ]
    text = "; ".join(parts) + "."
    closed = [x.title for x in lics if not x.commercial_use]
    if closed:
        text += (
            f" **Non-commercial use only**: {', '.join(closed)} forbids commercial use, and a model "
            "trained on it inherits its licence (share-alike)."
        )
    return text


def last_stage(m: dict[str, Any], cfg: dict[str, Any]) -> str:
    """The training stage whose epochs history.csv holds: the last of the line before the int8 export."""
    steps = [s for s in m.get("compression", []) if s in STAGES]
    if steps[-1:] == ["channel_prune"] and cfg["compress"]["channel_prune"]["keep"] == 1:
        return "fine-tuning, every channel kept (channel_prune.keep 1.0)"
    return STAGES[steps[-1]] if steps else "training"


def after_last_stage(m: dict[str, Any]) -> str:
    """What the card says of the tfmot stages after `last_stage`, whose model is the one published."""
    names = [TFMOT_STAGES[s] for s in m.get("compression", []) if s in TFMOT_STAGES]
    if not names:
        return ""
    return (
        f" {' and '.join(names).capitalize()} fine-tuned after it, scoring no epoch on validation: the "
        "published model is theirs, not the ringed epoch's."
    )


def aggregation_text(aggregation: dict[str, Any] | None) -> str:
    """How a recording's windows made its class (the firmware contract's `aggregation`; None: the mean)."""
    if aggregation is None or aggregation["method"] == "mean":
        return "the recording takes the class of its windows' mean probabilities."
    return (
        "the recording takes the class of a logistic map of the log of its windows' mean and largest "
        f"probabilities per class ({aggregation['method']}, `configuration.json` → firmware.aggregation), "
        f"fitted on {aggregation.get('fitted_on') or 'the validation recordings'}, never on the test split."
    )


def measurement_text(m: dict[str, Any], fw: dict[str, Any], cfg: dict[str, Any], int8_where: str) -> str:
    """How the numbers above were measured, and what they leave out that a device adds: the reference
    R peaks, and how long after its R peak a beat can be classified."""
    split, per = m["split"].upper(), m["int8"]["per_class"]
    support = " · ".join(f"{c} {v['support']:,}" for c, v in per.items())
    if cfg["task"] == "af-4":
        seconds = fw["frame_size"] / fw["sampling_rate_hz"]
        return "\n".join(
            [
                f"- Test recordings: CinC 2017's committed test split, {len(m['records'])} recordings, none seen in "
                f"training or selection, at natural prevalence ({support}), none rejected.",
                f"- Windows: each recording cut into non-overlapping {seconds:g} s windows from its start (one "
                "centred window when it is shorter); what is left after the last whole window is not read for "
                "the recording's class (`annotate --rhythm` reads it for its episodes, in a last window that "
                f"overlaps the one before); {aggregation_text(fw.get('aggregation'))} Macro-F1 is the "
                "challenge's F1, over N, A and O; ~ is scored beside it.",
                f"- int8 numbers: the published `.tflite` run in {int8_where}; latency and arena were measured on "
                "the export machine (x86-64 host), not on a microcontroller.",
                f"- A 30 s recording: {int(30 // seconds)} windows, {int(30 // seconds) * m['macs']:,} MACs and "
                f"{int(30 // seconds) * m['host_latency_ms']:.1f} ms of host TFLM, then the aggregation "
                "(a few dozen floating-point operations).",
            ]
        )
    if cfg["task"] == "quality":
        seconds = fw["frame_size"] / fw["sampling_rate_hz"]
        return "\n".join(
            [
                f"- Test windows: DS2's 22 records as recorded and once more with NSTDB noise (channel 0, never seen "
                f"in training), and CinC 2017's committed test split ({len(m['records'])} records in all), every "
                f"window at natural prevalence ({support}), none rejected.",
                f"- Windows: each record cut into non-overlapping {seconds:g} s windows; `annotate --gate` tiles a "
                "recording the same way and leaves the beats of unreadable windows unclassified.",
                f"- int8 numbers: the published `.tflite` run in {int8_where}; latency and arena were measured on "
                "the export machine (x86-64 host), not on a microcontroller.",
            ]
        )
    if cfg["data"]["protocol"] == "patient-deal":  # a window task
        seconds = fw["frame_size"] / fw["sampling_rate_hz"]
        return "\n".join(
            [
                f"- Test patients: {split}'s {len(m['records'])} records, none seen in training or model selection; "
                f"every labelled window at natural prevalence ({support}), none rejected.",
                f"- Windows: each record cut into non-overlapping {seconds:g} s windows; a window lying inside one "
                "annotated rhythm episode takes its rhythm, one across a rhythm change is left out.",
                f"- Look-ahead: a window is classified when it ends, {seconds:g} s after it starts.",
                f"- int8 numbers: the published `.tflite` run in {int8_where}; latency and arena were measured on "
                "the export machine (x86-64 host), not on a microcontroller.",
            ]
        )
    if m.get("leaky"):
        test = (
            f"- Test beats: a random share of every record's beats (the LEAKY split: the same patients "
            f"as in training), {support}, at natural prevalence, none rejected."
        )
    else:
        test = (
            f"- Test patients: {split}'s {len(m['records'])} records, {unseen_text(m['records'])}; every beat at "
            f"natural prevalence ({support}), none rejected."
        )
    fs, after = fw["sampling_rate_hz"], fw["frame_size"] - fw["r_peak_index"]
    look = (
        f"- Look-ahead: the frame reaches {after} samples ({after / fs:.2f} s) past the beat's R peak, "
        "so a beat can be classified no sooner."
    )
    if cfg["input"]["rr_features"]:
        look += (
            " Its RR features include the next RR interval, so a beat is classified at the later of that "
            "and the next beat's R peak (one beat of latency)."
        )
    return "\n".join(
        [
            test,
            "- R peaks: beats are placed at the database's reference R-peak annotations, not found by a QRS "
            "detector. On a device, a detector's missed and extra beats and its timing jitter add errors these "
            "numbers do not contain.",
            look,
            f"- int8 numbers: the published `.tflite` run in {int8_where}; latency and arena were measured on "
            "the export machine (x86-64 host), not on a microcontroller.",
        ]
    )


def rr_cell(spec: dict[str, Any]) -> str:
    """What a card's architecture row adds for the RR input."""
    if not spec["rr_features"]:
        return ""
    parts = ["RR ratios"] + (["irregularity"] if spec.get("rr_irregularity") else [])
    if spec.get("rr_history"):
        parts.append(f"the {spec['rr_history']} RR intervals before the beat")
    if spec.get("rr_normaliser", "mean") != "mean":
        parts[0] += f" over the running {spec['rr_normaliser']} of 300 intervals"
    return " + " + (" and ".join(parts) if len(parts) < 3 else f"{', '.join(parts[:-1])} and {parts[-1]}")


def ensemble_cell(cfg: dict[str, Any]) -> str:
    e = cfg.get("ensemble")
    if not e:
        return ""
    first = cfg["train"]["seed"]
    seeds = f"seeds {first}–{first + e['members'] - 1}"
    if e.get("by") == "fold":
        return f" · fold ensemble: {e['members']} members, each holding out one of {e['members']} folds ({seeds}), logits averaged"
    return f" · seed ensemble: {e['members']} members ({seeds}), logits averaged"


def ensemble_text(m: dict[str, Any]) -> str:
    """For a seed or fold ensemble: where its members land alone, on the same split and on validation."""
    e = m.get("ensemble")
    if not e:
        return ""
    folds = e.get("by") == "fold"
    split = m["split"].upper()
    each = " · ".join(
        f"seed {s}: {f:.4f}" for s, f in zip(e["seeds"], e["member_float_macro_f1"], strict=True)
    )
    lines = [
        f"- {split} float macro-F1 of each member alone: {each}; mean {e['member_mean']:.4f} ± "
        f"{e['member_std']:.4f} (s.d.). The ensemble: **{m['float']['macro_f1']:.4f}**.",
    ]
    if e.get("member_val_macro_f1"):
        vals = " · ".join(f"{v:.4f}" for v in e["member_val_macro_f1"])
        side = "each on the fold it held out" if folds else "on the validation side"
        whole = "all folds pooled, each by its member" if folds else "the ensemble"
        lines.append(
            f"- Validation macro-F1 of the members, {side}: {vals}; {whole}: {e['val_macro_f1']:.4f}."
        )
    lines.append(
        "- Every member is in the average, none chosen or weighted on any data; the members differ "
        + (
            "in their training seed and in the fold of the training data each held out as its validation "
            "side, so that together they train on all of it."
            if folds
            else "only in their training seed."
        )
    )
    kind = "a fold ensemble (how far one member" if folds else "a seed ensemble (how far one seed"
    return f"\n\nAs {kind} of this recipe lands):\n\n" + "\n".join(lines)


def arena_cell(m: dict[str, Any], ref: str, results: Path) -> str:
    """The card's TFLM arena: the published figure, and where benchmarks/arena.py's latest line finds TFLM
    starts the model only in more (a version that recorded TFLM's allocation total), that too."""

    cell = f"{m['tflm_arena_bytes']:,} B"
    if (runs_in := arena_needed(m, ref, results)) is not None:
        cell += (
            f" published, but TFLM needs {runs_in:,} B, which the firmware kit allocates "
            "(`python benchmarks/arena.py`)"
        )
    return cell


def arena_needed(m: dict[str, Any], ref: str, results: Path) -> int | None:
    """The arena TFLM starts a version in, where benchmarks/arena.py's latest line finds it more than the
    published figure (None otherwise)."""
    from ..io import latest_json_lines

    path = results / "arena.jsonl"
    line = latest_json_lines(path, lambda x: x["benchmark"]).get("arena") if path.is_file() else None
    measured = (line or {}).get("versions", {}).get(ref)
    return measured["runs_in"] if measured and measured["runs_in"] > m["tflm_arena_bytes"] else None


def runtime_text(m: dict[str, Any]) -> str:
    v = m["verification"]
    if not v.get("int8_metrics_runtime"):
        return " The int8 metrics come from TFLM itself, on every frame."
    o = v["litert_optimized_vs_tflm"]
    return (
        f" Its config (`export.int8_runtime: litert`) takes the int8 metrics over the whole split from "
        f"LiteRT's optimized kernels, which are much faster than TFLM's host build; on the {v['frames']:,} frames above they give the same class as TFLM "
        f"for {100 * o['same_class']:.1f} % of frames ({o['frames_differing']:,} differ by at most "
        f"{o['largest_difference_int8_steps']} int8 steps)."
    )


def metric_rows(m: dict[str, Any], classes: list[str]) -> list[str]:
    """Per class, float / int8: support, sensitivity, positive predictivity, specificity and F1."""
    pct = lambda x: f"{100 * x:.1f}"  # noqa: E731
    rows = []
    for c in classes:
        f, q = m["float"]["per_class"][c], m["int8"]["per_class"][c]
        rows.append(
            f"| {c} | {f['support']:,} | {pct(f['sensitivity'])} / {pct(q['sensitivity'])} | "
            f"{pct(f['positive_predictivity'])} / {pct(q['positive_predictivity'])} | "
            f"{pct(f['specificity'])} / {pct(q['specificity'])} | {f['f1']:.3f} / {q['f1']:.3f} |"
        )
    return rows


def confusion_rows(m: dict[str, Any], classes: list[str]) -> list[str]:
    rows = []
    for c, counts, norm in zip(
        classes, m["int8"]["confusion"], m["int8"]["confusion_normalized"], strict=True
    ):
        cells = " | ".join(f"{n:,} ({100 * p:.1f} %)" for n, p in zip(counts, norm, strict=True))
        rows.append(f"| **{c}** | {cells} |")
    return rows


def device_bill_text(vdir: Path, arena: int | None = None) -> str:
    """The whole on-device bill of a model a wearable runs, for a Cortex-M4F: the model's flash and arena
    plus the firmware kit's C preprocessing (code and state), as `arm-none-eabi-gcc -Os` builds it. Kept
    in the per-user cache by the contract it was built for and the kit's sources and flags."""
    import hashlib

    from ..errors import HeartzooError
    from ..export.firmware_host import firmware_footprint
    from ..paths import cache_dir

    # the kit's C sources, the generator of its header and the build's flags: a change to any is another
    # build (a new compiler is not: clear the cache's site-firmware folder after installing one)
    package = Path(__file__).parents[1]
    sources = [
        *sorted((package / "firmware").glob("*.[ch]")),
        package / "export" / "firmware_kit.py",
        package / "export" / "firmware_host.py",
    ]
    key = hashlib.sha256((vdir / "configuration.json").read_bytes() + (vdir / "metrics.json").read_bytes())
    for source in sources:
        key.update(source.read_bytes())
    kept = cache_dir() / "site-firmware" / f"{key.hexdigest()}.json"
    if kept.is_file():
        bills = json.loads(kept.read_text())
    else:
        try:
            bills = [firmware_footprint(vdir, fixed) for fixed in (False, True)]
        except HeartzooError as exc:
            return f"\n\nThe on-device bill with the C preprocessing was not measured here: {exc}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        kept.write_text(json.dumps(bills))
    if arena is not None:  # TFLM starts the model only in more than its published arena: the kit's
        bills = [
            {**b, "arena_bytes": arena, "ram_bytes": b["ram_bytes"] + arena - b["arena_bytes"]} for b in bills
        ]
    rows = []
    for b, what in zip(bills, ("Cortex-M4F, float kit", "Cortex-M0+, fixed-point kit"), strict=True):
        p = b["preprocessing"]
        rows.append(
            f"| {what} | {b['model_bytes']:,} + {p['text_linked'] + p['data']:,} = **{b['flash_bytes']:,}** | "
            f"{b['arena_bytes']:,} + {p['state_bytes'] + p['data'] + p['bss']:,} = **{b['ram_bytes']:,}** |"
        )
    return (
        "\n\nThe whole on-device bill, with the firmware kit's C preprocessing (`heartzoo zoo c-array NAME "
        "--firmware`, streaming 360 Hz; built with `arm-none-eabi-gcc -Os`, runtime helpers linked in; "
        "TensorFlow Lite Micro itself and the golden self-test not counted):\n\n"
        "| target | flash: model + preprocessing (B) | RAM: arena + preprocessing state (B) |\n|---|---:|---:|\n"
        + "\n".join(rows)
        + _whole_bill_verdict(bills)
    )


def _whole_bill_verdict(bills: list[dict]) -> str:
    """Whether the whole bill, preprocessing included, still fits what the wearable spares the beat
    classifier (`WEARABLE`, whose budget counts the model's flash and arena alone)."""
    from ..zoo.recommend import WEARABLE

    flash, ram = WEARABLE["tflite_bytes"], WEARABLE["tflm_arena_bytes"]
    over = [
        f"{what} {b[key]:,} B of {kind} (over by {b[key] - limit:,} B)"
        for b, what in zip(bills, ("the float kit's", "the fixed-point kit's"), strict=True)
        for key, kind, limit in (("flash_bytes", "flash", flash), ("ram_bytes", "RAM", ram))
        if b[key] > limit
    ]
    if not over:
        return (
            f"\n\nWith its preprocessing it still fits what the wearable spares the classifier ({flash:,} B of "
            f"flash, {ram:,} B of RAM)."
        )
    return (
        f"\n\n**With its preprocessing it does not fit** what the wearable spares the classifier ({flash:,} B of "
        f"flash, {ram:,} B of RAM): {'; '.join(over)}. The budget above, and the recommendation's, count the "
        "model's `.tflite` and arena alone."
    )


def end_to_end_text(ref: str, results: Path) -> str:
    """From a raw recording: the model on the R peaks its detector found, scored beat by beat as AAMI
    EC57 does, beside the reference R peaks (`studies/end_to_end.py`; empty when not measured)."""
    lines = []
    for path in sorted(results.glob("end_to_end*.jsonl")):
        lines += [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    runs, learned = {}, {}
    for line in lines:
        if line["model"] == ref:
            noise = line.get("noise")
            # the latest line of each level; one gated by a quality model adds its gated row
            gate = line.get("gated", {}).get("gate")
            (learned if gate else runs)[None if noise is None else noise["snr_db"]] = line
    if None not in runs:
        return ""

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.2f}"

    rows = []
    for snr in [None, *sorted((s for s in runs if s is not None), reverse=True)]:
        line = runs[snr]
        kinds = [("detected", f"detected ({line['detector']})"), ("reference", "reference")]
        if "gated" in line:
            gated = f"detected, default gate `sqi` ({100 * line['gated']['beats_kept']:.1f} % of beats kept)"
            kinds.insert(1, ("gated", gated))
        if snr in learned:
            g = learned[snr]["gated"]
            kinds.insert(
                2, ("learned", f"detected, gate `{g['gate']}` ({100 * g['beats_kept']:.1f} % of beats kept)")
            )
        for kind, label in kinds:
            part = learned[snr]["gated"] if kind == "learned" else line[kind]
            e, c = part["ec57"], part["classes"]
            level = "clean" if snr is None else f"em {snr:g} dB"
            rows.append(
                f"| {level} | {label} | {pct(e['qrs_se'])} | {pct(e['qrs_pp'])} | {pct(e['veb_se'])} | "
                f"{pct(e['veb_pp'])} | {pct(e['sveb_se'])} | {pct(e['sveb_pp'])} | {c['macro_f1']:.4f} |"
            )
    clean = runs[None]
    return (
        "\n\n### From a raw recording\n\nThe numbers above use the database's reference R peaks. A wearable "
        f"detects beats itself: here the int8 model classifies the beats `heartzoo annotate` finds with its "
        f"default detector ({clean['detector']}) on the {len(clean['records'])} DS2 records, scored beat by "
        "beat against the reference annotations as AAMI EC57 (WFDB `bxb`) does: 150 ms match window, from the "
        "5-minute mark; macro-F1 over the matched beats. The `em` rows add NSTDB electrode-motion noise to "
        "the whole records first (`python studies/end_to_end.py`).\n\n"
        "| noise | R peaks | QRS Se % | QRS +P % | VEB Se % | VEB +P % | SVEB Se % | SVEB +P % | macro-F1 |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows)
    )
