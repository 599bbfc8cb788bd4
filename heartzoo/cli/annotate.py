"""`heartzoo annotate` (a recording -> labelled beats, written as WFDB annotations, CSV and JSON) and
`heartzoo ec57` (beat-by-beat comparison of two annotation sets, as WFDB's bxb)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from .common import ZooDir, app, console, counting_bar, err_console, print_whole

_DEFAULT_EXT = "heartzoo"  # annotation_files.DEFAULT_EXTENSION, without importing the library at start-up
_DEFAULT_GATE = "sqi"  # quality.DEFAULT_GATE, likewise


@app.command("annotate")
def annotate_cmd(
    recordings: Annotated[
        list[Path],
        typer.Argument(
            metavar="RECORDING...",
            help="WFDB record (RECORD or RECORD.hea), .edf or .bdf, an ISHNE Holter .ecg, .csv (an Apple "
            "Watch ECG export and PhysioNet's CSV too), .mat, .npy, a Polar ECG file (Polar Sensor "
            "Logger's _ECG.txt) or an OpenSignals .txt (BITalino, biosignalsplux); several: each "
            "annotated, a bad one reported, and annotate-summary.csv beside them",
        ),
    ],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="Zoo model, NAME (its latest version) or NAME@VERSION (local zoo first, else downloaded), "
            "or a zoo version's folder",
        ),
    ],
    float_model: Annotated[
        bool,
        typer.Option(
            "--float", help="Classify with the float Keras model instead of the int8 one (as on the MCU)"
        ),
    ] = False,
    lead: Annotated[
        str | None,
        typer.Option(
            help=(
                "Lead to use: its name, or its number in the file from 0 (where two leads share a name, "
                "or a CSV/.npy column)"
            ),
            show_default="the model's",
        ),
    ] = None,
    fs: Annotated[
        float | None,
        typer.Option(
            min=1.0,
            help="Sampling rate in Hz of a CSV, .mat or .npy (the files that may carry none; in a batch, "
            "records whose header states theirs keep it). Give the recorder's own: a wrong rate is caught "
            "only when it puts the heart rate, the QRS width or the two together out of range",
        ),
    ] = None,
    invert: Annotated[
        bool,
        typer.Option(
            "--invert",
            help="Turn the lead over first (electrodes swapped, a device held the other way): the beat "
            "models learnt upright beats, and annotate warns where most beats point down",
        ),
    ] = False,
    reference_peaks: Annotated[
        str | None,
        typer.Option(help="Use the beats of this WFDB annotation file of the record (e.g. atr) as R peaks"),
    ] = None,
    detector: Annotated[str, typer.Option(help="R-peak detector: pan-tompkins, xqrs, gqrs")] = "pan-tompkins",
    output_dir: Annotated[
        Path, typer.Option(help="Folder for RECORD.EXT, RECORD.EXT.csv, RECORD.EXT.json")
    ] = Path("."),
    extension: Annotated[str, typer.Option(help="Annotation file extension (letters)")] = _DEFAULT_EXT,
    quality: Annotated[
        bool,
        typer.Option(
            "--quality/--no-quality",
            help="Leave the beats of unreadable windows unclassified, marked as noise (detected peaks only)",
        ),
    ] = True,
    gate: Annotated[
        str,
        typer.Option(
            help="Signal-quality gate: sqi (template matching, Orphanidou et al. 2015) or a quality "
            "model of the zoo, NAME[@VERSION] (e.g. quality-cnn3)"
        ),
    ] = _DEFAULT_GATE,
    rhythm: Annotated[
        str | None,
        typer.Option(
            help="Also write the rhythm by this rhythm model of the zoo, NAME[@VERSION] (e.g. "
            "af-4-cnn4-student); beats inside its atrial fibrillation are never S (AAMI defines none there)"
        ),
    ] = None,
    keep_s_in_af: Annotated[
        bool,
        typer.Option(help="With --rhythm: keep the beat model's S calls inside atrial fibrillation"),
    ] = False,
    plot: Annotated[
        bool,
        typer.Option(
            "--plot",
            help="Also draw RECORD.EXT.png: 10-s strips of the start and of each warning, beats labelled",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
    zoo: ZooDir = None,
) -> None:
    """Detect the beats of a recording, classify each with a zoo model, write them as annotations."""
    from ..errors import HeartzooError
    from ..io import check_outside_zoo
    from ..recording.annotation import annotate_file
    from ..recording.annotation_files import write_annotations

    if not extension.isalpha() or not extension.isascii():
        raise HeartzooError(f"--extension {extension!r}: letters only (wfdb-python writes no other)")
    # before the models load and the recordings are read (write_annotations would refuse after)
    check_outside_zoo(output_dir, what="the annotations", option="--output-dir")
    if keep_s_in_af and rhythm is None:
        raise HeartzooError(
            "--keep-s-in-af keeps the S calls inside the AF that --rhythm finds: give --rhythm"
        )
    if not quality and gate != _DEFAULT_GATE:
        raise HeartzooError(
            f"--gate {gate} scores windows that --no-quality does not gate: give one or the other"
        )
    if reference_peaks is not None and gate != _DEFAULT_GATE:
        raise HeartzooError(
            f"--gate {gate} gates detected beats; reference peaks (--reference-peaks) are never gated"
        )
    options = dict(
        lead=lead,
        fs=fs,
        reference=reference_peaks,
        detector=detector,
        zoo=zoo,
        float_model=float_model,
        quality=quality,
        gate=gate,
        rhythm=rhythm,
        keep_s_in_af=keep_s_in_af,
        invert=invert,
    )
    if len(recordings) > 1:
        return _annotate_many(recordings, model, output_dir, extension, as_json, {**options, "plot": plot})
    bar = counting_bar(elapsed=True)
    task = bar.add_task("reading", total=None)

    def progress(description: str, done: int, total: int | None) -> None:
        bar.update(task, description=description, completed=done, total=total)

    with bar:
        result = annotate_file(recordings[0], model, progress=progress, **options)
        paths = write_annotations(result, output_dir, extension)
        if plot:
            from ..recording.plot import plot_file

            bar.update(task, description="drawing", completed=0, total=None)
            paths["png"] = plot_file(
                recordings[0], result, output_dir, extension, fs=fs, lead=lead, invert=invert
            )
    summary = {**result.summary(), "files": {k: str(v) for k, v in paths.items()}}
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    _print_result(result, summary)
    for p in paths.values():
        console.print(f"  wrote {p}", markup=False, highlight=False)


def _annotate_many(recordings, model, output_dir: Path, extension: str, as_json: bool, options) -> None:
    """Several recordings: each annotated and written as one is, a bad one reported and the rest go on;
    annotate-summary.csv beside them; exit status 2 if any was not annotated."""
    from ..recording.batch import Interrupted, annotate_files, batch_recordings, write_summary

    recordings, left = batch_recordings(recordings, extension)
    if left:
        shown = ", ".join(p.name for p in left[:4]) + (" ..." if len(left) > 4 else "")
        err_console.print(
            f"note: {len(left)} file(s) left out ({shown}): the other files of WFDB records whose header is "
            "given too, and heartzoo's own outputs",
            markup=False,
            highlight=False,
        )
    bar = counting_bar(elapsed=True)
    task = bar.add_task("annotating", total=len(recordings))
    try:
        with bar:
            outcomes = annotate_files(
                recordings,
                model,
                output_dir=output_dir,
                extension=extension,
                progress=lambda path, i, n: bar.update(task, description=escape(path.name), completed=i),
                **options,
            )
            bar.update(task, completed=len(recordings))
    except Interrupted as stop:  # the recordings finished before Ctrl-C, each written whole, listed
        path = write_summary(stop.outcomes, output_dir)
        err_console.print(
            f"interrupted: {len(stop.outcomes)} of {len(recordings)} recordings done, listed in {path}",
            markup=False,
            highlight=False,
        )
        sys.exit(130)
    summary_path = write_summary(outcomes, output_dir)
    failed = [o for o in outcomes if o.error]
    if as_json:
        sys.stdout.write(
            json.dumps(
                {"recordings": [o.to_dict() for o in outcomes], "summary": str(summary_path)}, indent=2
            )
            + "\n"
        )
    else:
        for o in outcomes:
            if o.result is not None:
                _print_result(o.result, o.result.summary(), brief=True)
            if o.error:
                err_console.print(f"[red]error:[/] {escape(o.error)}", highlight=False)
        console.print(
            f"{len(outcomes) - len(failed)} of {len(outcomes)} recordings annotated; wrote {summary_path}",
            markup=False,
            highlight=False,
        )
    if failed:
        raise typer.Exit(2)


def _print_result(result, summary: dict, brief: bool = False) -> None:
    """One recording's summary on the terminal (`brief`: without the line that names the model and lead)."""
    from ..tasks import RECORDING_MAX_S, RECORDING_MIN_S

    counts = "  ".join(f"{c} {n:,}" for c, n in summary["counts"].items())
    unread = (
        f", {result.unclassified:,} more in unreadable windows left unclassified"
        if result.unclassified
        else ""
    )
    console.print(
        f"{escape(result.record)}: {summary['beats']:,} beats ({escape(result.peaks)}{unread}) · {counts}"
        + (
            ""
            if brief
            else f"\n  {result.model}, {result.runtime}, lead {escape(str(result.lead))}, {result.fs:g} Hz"
        )
        + ("" if brief or summary["start"] is None else f", from {summary['start'].replace('T', ' ')}"),
        highlight=False,
    )
    if result.rhythm_model:
        spans = "  ".join(
            f"{e.label} {_seconds(e.start / result.fs)}-{_seconds(e.end / result.fs)} s"
            for e in result.rhythm[:8]
        )
        more = f"  (+{len(result.rhythm) - 8} more)" if len(result.rhythm) > 8 else ""
        whole = result.rhythm_recording
        reading = (
            f"the recording {whole['class']} (p {whole['probabilities'][whole['class']]:.2f}, "
            f"{whole['windows']} window{'' if whole['windows'] == 1 else 's'}, {whole['aggregation']})"
            if whole
            else "no class for the whole recording (the model classifies recordings of "
            f"{RECORDING_MIN_S:g}-{RECORDING_MAX_S:g} s)"
        )
        console.print(
            f"  rhythm ({result.rhythm_model}): {reading} · episodes {spans}{more}"
            + (
                f"\n  {result.s_relabelled_in_af:,} beats called S inside atrial fibrillation written N"
                if result.s_relabelled_in_af
                else ""
            ),
            highlight=False,
        )
        if (af := result.af_burden) is not None and af.burden is not None:
            from ..tasks import AF_EPISODE_S

            console.print(
                f"  AF burden {100 * af.burden:.1f} % ({af.af_s:,.0f} of the {af.analysed_s:,.0f} s read), "
                f"{len(af.episodes)} AF episode(s) of {AF_EPISODE_S} s or more, the longest AF "
                f"{af.longest_s:,.0f} s" + ("" if af.rate_bpm is None else f", {af.rate_bpm:.0f} bpm in AF"),
                highlight=False,
            )
    if result.ventricular_runs:
        from ..tasks import VENTRICULAR_RUN_BEATS, VT_BPM

        vt = sum(r.tachycardia for r in result.ventricular_runs)
        console.print(
            f"  ventricular runs ({VENTRICULAR_RUN_BEATS} or more V beats): {len(result.ventricular_runs):,}, "
            f"{vt:,} above {VT_BPM} bpm",
            highlight=False,
        )
    from ..recording.hours import hours_table

    hrv = summary["hrv"]
    if hrv["sdnn_ms"] is not None:
        console.print(
            f"  heart rate variability ({hrv['nn_intervals']:,} NN intervals"
            + (", outside AF" if result.rhythm_model else "")
            + f"): SDNN {hrv['sdnn_ms']:.0f} ms"
            + ("" if hrv["sdann_ms"] is None else f", SDANN {hrv['sdann_ms']:.0f} ms")
            + ("" if hrv["rmssd_ms"] is None else f", RMSSD {hrv['rmssd_ms']:.0f} ms")
            + ("" if hrv["pnn50"] is None else f", pNN50 {100 * hrv['pnn50']:.1f} %")
            + (
                ""
                if hrv["af_left_out"]
                else "; atrial fibrillation, if any, counted in (--rhythm leaves it out)"
            ),
            highlight=False,
        )

    if result.hours is not None and len(result.hours) > 1:  # a Holter's hourly table
        console.print(
            "\n".join(f"  {line}" for line in hours_table(result.hours, result.fs, result.start)),
            highlight=False,
        )
    for f in result.findings:
        at = result.clock(f.start)  # where the recorder's clock is known: when to look
        when = "" if at is None else " (recorder's clock: " + at.replace("T", " ") + ")"
        console.print(
            f"  [{'dim' if f.code == 'read' else 'yellow'}]{'note' if f.code == 'read' else 'warning'}: "
            f"{escape(f.message)}{when}[/]",
            highlight=False,
        )


def _pct(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{100 * v:.{digits}f}"


@app.command("ec57")
def ec57_cmd(
    ref: Annotated[
        Path,
        typer.Argument(
            help="Reference annotations: RECORD.EXT (or RECORD with --ref-ext), or a folder of them"
        ),
    ],
    test: Annotated[
        Path,
        typer.Argument(help="Test annotations: RECORD.EXT (or RECORD with --test-ext), or a folder of them"),
    ],
    ref_ext: Annotated[
        str, typer.Option(help="Reference annotation extension (for a folder or a record path)")
    ] = "atr",
    test_ext: Annotated[
        str, typer.Option(help="Test annotation extension (for a folder or a record path)")
    ] = _DEFAULT_EXT,
    records: Annotated[
        str | None, typer.Option(help="Comma-separated records to compare (folders)", show_default="all")
    ] = None,
    start: Annotated[float, typer.Option(min=0.0, help="Start of scoring in minutes (EC57: 5)")] = 5.0,
    window: Annotated[float, typer.Option(min=1.0, help="Match window in ms (EC57: 150)")] = 150.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Beat-by-beat comparison per ANSI/AAMI EC57 (WFDB bxb's rules): QRS, VEB and SVEB Se/+P per record,
    gross and average."""
    from rich import box
    from rich.table import Table

    from ..evaluation.ec57 import score
    from ..evaluation.ec57_pairs import notes, read_pairs

    chosen = [r.strip() for r in records.split(",") if r.strip()] if records else None
    pairs = read_pairs(ref, test, ref_ext=ref_ext, test_ext=test_ext, records=chosen)
    report = score(pairs, start_s=60.0 * start, window_s=window / 1000.0)
    said = "\n".join(notes(pairs, report))
    if as_json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        if said:
            err_console.print(said, style="dim", highlight=False, soft_wrap=True)
        return
    note = "" if report.standard else " — NONSTANDARD start or window"
    table = Table(title=f"EC57 beat-by-beat: {ref} vs {test} (from {start:g} min, {window:g} ms){note}")
    table.box, table.collapse_padding = box.SIMPLE_HEAD, True
    for c in (
        "record",
        "FN",
        "FP",
        "ref\nV",
        "ref\nS",
        "QRS\nSe",
        "QRS\n+P",
        "VEB\nSe",
        "VEB\n+P",
        "VEB\nFPR",
        "SVEB\nSe",
        "SVEB\n+P",
    ):
        table.add_column(
            c,
            justify="left" if c == "record" else "right",
            no_wrap=True,
            min_width=2 if c.startswith(("F", "ref")) else 5,
        )

    def row(name: str, stats: dict, tallies: dict | None, **kw) -> None:
        # the reference's V and S beats: the denominators of VEB and SVEB Se
        counted = ("qrs_fn", "qrs_fp", "reference_v", "reference_s")
        counts = ("",) * 4 if tallies is None else tuple(f"{tallies[k]:,}" for k in counted)
        keys = ("qrs_se", "qrs_pp", "veb_se", "veb_pp", "veb_fpr", "sveb_se", "sveb_pp")
        table.add_row(name, *counts, *(_pct(stats[k], 3 if k == "veb_fpr" else 2) for k in keys), **kw)

    for r in report.records:
        row(r.record, r.counts.stats, r.counts.tallies)
    table.add_section()
    row("gross", report.gross.stats, report.gross.tallies, style="bold")
    row("average", report.average, None, style="bold")
    print_whole(table)
    if said:
        console.print(said, style="dim", highlight=False, soft_wrap=True)


def _seconds(v: float) -> str:
    """Seconds to a tenth, without a trailing .0: an episode of 0.4 s is not "10-10 s"."""
    return f"{v:.1f}".removesuffix(".0")
