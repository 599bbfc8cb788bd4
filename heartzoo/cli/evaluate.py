"""`heartzoo evaluate` and `export`: scores of a run or zoo folder, and a run made a zoo version."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    CacheDir,
    DataDir,
    ZooDir,
    _confusion_table,
    _report_table,
    _tested_on,
    app,
    console,
    err_console,
)


@app.command("evaluate")
def evaluate_cmd(
    model: Annotated[Path, typer.Argument(help="Run or zoo folder (model.keras + its configuration)")],
    split: Annotated[str, typer.Option(help="ds2 (test records), val, train, ds1")] = "ds2",
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Test on every record of this database instead (svdb): an external test, refused "
            "for a model trained on it"
        ),
    ] = None,
    noise: Annotated[
        bool, typer.Option(help="Also evaluate under NSTDB em noise at 24/18/12/6/0 dB")
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Reject beats whose top probability is below this (reported)"),
    ] = None,
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
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Per-class Se, +P, specificity, F1, macro-F1, accuracy and the confusion matrix."""
    from ..evaluate import evaluate

    result = evaluate(
        model,
        split,
        noise_stress=noise,
        dataset=dataset,
        data_dir=data_dir,
        cache_dir=cache_dir,
        threshold=threshold,
        calibrate_minutes=calibrate_minutes,
    )
    text = json.dumps(result, indent=2)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n")
    if as_json:
        sys.stdout.write(text + "\n")
        return
    clean = result["clean"]
    note = " — LEAKY random-beat split, inflated" if clean.get("leaky") else ""
    if clean.get("calibration"):
        note += (
            f" — calibrated to each patient on its first {clean['calibration']['minutes']:g} min "
            "of unlabelled beats"
        )
    console.print(_report_table(f"{result['model']} on {result['split']}{note}", clean))
    console.print(_confusion_table(clean))
    for label, rep in result.get("noise", {}).items():
        console.print(
            f"{label}: macro-F1 {rep['macro_f1']:.4f}  accuracy {rep['accuracy']:.4f}  "
            + "  ".join(f"F1[{c}] {rep['per_class'][c]['f1']:.3f}" for c in rep["classes"])
        )


@app.command("export")
def export_cmd(
    run: Annotated[Path, typer.Argument(help="Trained run folder (model.keras + config.json)")],
    zoo: ZooDir = None,
    version: Annotated[
        str | None, typer.Option(help="Version to publish [default: the next free vN]")
    ] = None,
    c_array: Annotated[
        Path | None,
        typer.Option(
            "--c-array", help="Also write the C files (model array, golden vectors) into this folder"
        ),
    ] = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
) -> None:
    """Export a run as a new zoo version: int8 TFLite verified in LiteRT and TFLM, metrics (and the C
    array with --c-array)."""
    from ..evaluate import run_config
    from ..meta import check_version
    from ..zoo import publish

    if version is not None:
        check_version(version)
    run_config(run)  # a missing model or a bad config is named before TensorFlow loads

    with err_console.status("exporting") as status:
        target = publish(
            run, zoo, version=version, data_dir=data_dir, cache_dir=cache_dir, progress=status.update
        )
    if c_array is not None:
        from ..export import write_c_array

        for path in write_c_array(target, c_array):
            console.print(f"C array: {path}")
    from ..meta import read_metrics

    m = read_metrics(target).model_dump(mode="json")
    console.print(
        f"[green]{target}[/]: {_tested_on(m)} macro-F1 float {m['float']['macro_f1']:.4f} · int8 {m['int8']['macro_f1']:.4f} · "
        f"{m['params']:,} params · {m['macs']:,} MACs · {m['tflite_bytes']:,} B tflite · "
        f"{m['tflm_arena_bytes']:,} B arena · {m['host_latency_ms']:.2f} ms/inference (host TFLM)"
    )
