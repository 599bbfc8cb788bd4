"""`heartzoo evaluate` and `export`: scores of a run or zoo folder, and a run made a zoo version."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..environment import Environment
from .common import (
    AdcBits,
    AdcGain,
    CacheDir,
    DataDir,
    FixedPoint,
    KitPrefix,
    RecordingHz,
    ZooDir,
    ZooUrl,
    app,
    confusion_table,
    console,
    err_console,
    kit_folder,
    kit_options,
    print_whole,
    report_table,
    tested_on,
)


@app.command("evaluate")
def evaluate_cmd(
    model: Annotated[
        str,
        typer.Argument(
            help="A zoo model, NAME or NAME@VERSION (local zoo first, else downloaded), or a run or zoo "
            "version folder (model.keras + its configuration)",
            metavar="MODEL",
            show_default=False,
        ),
    ],
    split: Annotated[
        str,
        typer.Option(
            help="ds2 or test (the protocol's held-out records: DS2, a patient deal's or af-4's test split), "
            "val, train, ds1; DATABASE:SET for an external test (e.g. svdb:all)"
        ),
    ] = "ds2",
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Test on every record of this database instead (svdb): an external test, refused "
            "for a model trained on it"
        ),
    ] = None,
    noise: Annotated[
        bool, typer.Option(help="Also evaluate under NSTDB em noise at 24/18/12/6/0 dB (float model)")
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            metavar="P",
            help="Reject beats whose top probability is below P: they leave the scores, and the table "
            "counts them per class",
        ),
    ] = None,
    int8: Annotated[
        bool,
        typer.Option(
            "--int8",
            help="Also score the int8 model (a zoo version's model.tflite; a run is converted as export "
            "converts it) in the runtime its published int8 numbers come from",
        ),
    ] = False,
    calibrate_minutes: Annotated[
        float | None,
        typer.Option(
            help="Calibrate to each test patient on the beats of its first MINUTES, without labels "
            "(batch-norm statistics); later beats are scored by the calibrated model. A protocol of "
            "its own, reported as such"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    output: Annotated[Path | None, typer.Option(help="Also write the JSON report here")] = None,
    zoo: ZooDir = None,
    base_url: ZooUrl = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Per-class Se, +P, specificity, F1, macro-F1, accuracy and the confusion matrix of a model.

    The float model by default; with --int8 also the int8 one, each in a table of its own."""
    from ..evaluation.evaluate import evaluate
    from ..io import check_output, write_json

    if output:
        check_output(output)
    folder = _model_folder(model, zoo=zoo, base_url=base_url, cache_dir=cache_dir)
    with err_console.status(f"evaluating {model}"):
        result = evaluate(
            folder,
            split,
            noise_stress=noise,
            dataset=dataset,
            env=Environment(data_dir=data_dir, cache_dir=cache_dir),
            threshold=threshold,
            calibrate_minutes=calibrate_minutes,
            int8=int8,
        )
    text = json.dumps(result, indent=2)
    if output:
        write_json(output, result)
    if as_json:
        sys.stdout.write(text + "\n")
        return
    flt = result["float"]
    note = " — LEAKY random-beat split, inflated" if flt.get("leaky") else ""
    if flt.get("calibration"):
        note += (
            f" — calibrated to each patient on its first {flt['calibration']['minutes']:g} min "
            "of unlabelled beats"
        )
    if result.get("folds_checked") is False:
        note += (
            " — out of fold, by folds dealt from the data here: this version records none to check them by"
        )
    named = (
        f"{result['model']}@{result['version']}" if result["version"] else result["model"]
    )  # a run: its name
    on = f"{named} on {result['split']}{note}"
    print_whole(report_table(f"float: {on}", flt))
    print_whole(confusion_table(flt, "float"))
    _patients(flt, "float")
    if q := result.get("int8"):
        print_whole(report_table(f"int8 ({q['runtime']}): {on}", q))
        print_whole(confusion_table(q, "int8"))
        _patients(q, "int8")
    for label, rep in result.get("noise", {}).items():
        console.print(
            f"float {label}: macro-F1 {rep['macro_f1']:.4f}  accuracy {rep['accuracy']:.4f}  "
            + "  ".join(f"F1[{c}] {rep['per_class'][c]['f1']:.3f}" for c in rep["classes"])
        )
    if (cal := flt.get("calibration")) and (later := cal.get("later_beats")):
        console.print(
            f"float, the {later['beats']:,} beats after each record's first {cal['minutes']:g} min alone (as EC57 "
            f"scores a device that learns): macro-F1 {later['macro_f1']:.4f}"
        )
    for note in result.get("notes", ()):
        console.print(f"note: {note}", markup=False, highlight=False)


def _patients(rep: dict, label: str) -> None:
    """The report's scores by patient (a beat task's; `evaluation.per_record`), in two lines."""
    if not (p := rep.get("patients")):
        return
    ci = p["interval"]
    if rep.get("threshold") is not None:  # as the table above: the beats a threshold left out are not in it
        label += f" (the beats accepted at P >= {rep['threshold']:g})"

    def pct(v) -> str:
        return "–" if v is None else f"{100 * v:.1f}"

    def span(v) -> str:
        return "–" if v is None else f"{100 * v[0]:.1f}–{100 * v[1]:.1f}"

    if ci["macro_f1"] is not None:
        console.print(
            f"{label}, by patient ({p['records']} records): macro-F1 {ci['macro_f1'][0]:.4f}–{ci['macro_f1'][1]:.4f} "
            f"(95 % interval, records resampled {ci['draws']:,} times); "
            + " · ".join(f"{c} Se {span(ci[c]['se'])} +P {span(ci[c]['pp'])}" for c in p["average"]),
            highlight=False,
        )
    console.print(
        f"{label}, mean over records (EC57's average statistics): "
        + " · ".join(f"{c} Se {pct(a['se'])} +P {pct(a['pp'])}" for c, a in p["average"].items()),
        highlight=False,
    )


def _model_folder(model: str, *, zoo, base_url, cache_dir) -> Path:
    """The folder MODEL names: a path as it is; NAME[@VERSION] through the zoo (local, else downloaded
    into the cache), every file checked against its index entry."""
    path = Path(model)
    if path.exists() or "/" in model or os.sep in model or path.suffix == ".keras":
        return path
    from ..zoo.hub import verified_folder

    with err_console.status(f"finding {model}"):
        return verified_folder(model, zoo=zoo, base_url=base_url, cache_dir=cache_dir)


@app.command("export")
def export_cmd(
    run: Annotated[Path, typer.Argument(help="Trained run folder (model.keras + config.json)")],
    zoo: ZooDir = None,
    version: Annotated[
        str | None, typer.Option(help="Version to publish", show_default="the next free vN")
    ] = None,
    c_array: Annotated[
        Path | None,
        typer.Option(
            "--c-array",
            help="Also write the C files (model array, golden vectors) into this folder",
            parser=kit_folder,
        ),
    ] = None,
    firmware: Annotated[
        Path | None,
        typer.Option(
            "--firmware",
            help="Also write the firmware kit into this folder: the C preprocessing library for the model's "
            "contract, the model array, golden vectors, an example TFLM main.cc and Make/CMake snippets",
            parser=kit_folder,
        ),
    ] = None,
    fixed_point: FixedPoint = False,
    recording_hz: RecordingHz = None,
    adc_gain: AdcGain = None,
    adc_bits: AdcBits = None,
    prefix: KitPrefix = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Export a run as a new zoo version, its int8 TFLite model verified in LiteRT and TFLM.

    The version folder holds the Keras and int8 models, their configuration and firmware contract, and
    the float and int8 metrics on the held-out split; --c-array also writes the C array, --firmware the
    whole firmware kit (docs/deploy.md)."""
    from ..io import check_output_dir, check_outside_zoo
    from ..meta import check_version
    from ..training.runs import stage_to_export
    from ..zoo.index import exportable_run, publish, zoo_dir

    if version is not None:
        check_version(version)
    kit = kit_options(firmware is not None, fixed_point, recording_hz, adc_gain, adc_bits, prefix)
    # the kit's folders before a version is published (publish checks the zoo's itself)
    for out in (c_array, firmware):
        if out is not None:
            check_output_dir(out)
            # the zoo publishing may be about to make, too
            kind = ("the kit", "--firmware") if out is firmware else ("the C array", "--c-array")
            check_outside_zoo(out, zoo_dir(zoo), *kind)
    if (stage := stage_to_export(run)).resolve() != Path(run).resolve():
        console.print(f"exporting {stage}: the stage the run publishes (export.stage)")
        run = stage
    config = exportable_run(run)[1]  # a missing model or a bad config is named before TensorFlow loads
    if firmware is not None:  # the kit's options, and a folder holding another model's kit, before publishing
        from ..export.firmware_kit import RECORDING_HZ, check_kit_options
        from ..export.kit_names import DEFAULT_PREFIX, check_kit_folder

        check_kit_options(**kit)
        hz = kit.get("recording_hz", RECORDING_HZ)
        check_kit_folder(firmware, kit.get("prefix", DEFAULT_PREFIX), config.name, hz)

    with err_console.status("exporting") as status:
        target = publish(
            run,
            zoo,
            version=version,
            env=Environment(data_dir=data_dir, cache_dir=cache_dir, progress=status.update),
        )
    if c_array is not None:
        from ..export import write_c_array

        for path in write_c_array(target, c_array):
            console.print(f"C array: {path}")
    if firmware is not None:
        from ..export.firmware_kit import write_firmware_kit

        for path in write_firmware_kit(target, firmware, **kit):
            console.print(f"firmware kit: {path}")
    from ..meta import read_metrics

    m = read_metrics(target).model_dump(mode="json")
    console.print(
        f"[green]{target}[/]: {tested_on(m)} macro-F1 float {m['float']['macro_f1']:.4f} · int8 {m['int8']['macro_f1']:.4f} · "
        f"{m['params']:,} params · {m['macs']:,} MACs · {m['tflite_bytes']:,} B tflite · "
        f"{m['tflm_arena_bytes']:,} B arena · {m['host_latency_ms']:.2f} ms/inference (host TFLM)",
        soft_wrap=True,
    )
