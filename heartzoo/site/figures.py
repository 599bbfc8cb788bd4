"""The site's figures, drawn at build time from the zoo's own files (matplotlib, no pyplot state): the
home page's quality-against-flash overview, and each card's training curve and confusion matrix."""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: one marker per family, so a student and a teacher of the same architecture look different
MARKERS = {"students": "o", "comparison architectures": "s", "teachers": "^", "ensembles": "D"}


def _figure(width: float, height: float, **margins: float):
    """A figure with fixed margins (fractions of its size): no layout engine, so it is drawn once."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, facecolor="white")
    fig.subplots_adjust(**margins)
    return fig


def _save(fig, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100, metadata={"Software": None})
    return out


def _key(x: Any) -> Any:
    if isinstance(x, Path):  # a file drawn from: its content
        return hashlib.sha256(x.read_bytes()).hexdigest()
    raise TypeError(f"cannot key a figure on {type(x).__name__}")


def cached(draw: Callable[..., Path]) -> Callable[..., Path]:
    """A figure function whose last argument is where the PNG goes: drawn once per distinct input (the
    files it reads by content) and this module's code, then copied from the per-user cache, so a zoo
    whose versions never change is not drawn again on every build."""

    @functools.wraps(draw)
    def wrapper(*args: Any) -> Path:
        import shutil

        import matplotlib

        from ..paths import cache_dir

        *inputs, out = args
        code = Path(__file__).read_bytes()
        key = json.dumps([draw.__name__, inputs, matplotlib.__version__], default=_key).encode()
        kept = cache_dir() / "site-figures" / f"{hashlib.sha256(code + key).hexdigest()}.png"
        if not kept.is_file():
            part = kept.with_name(f"{kept.stem}.{os.getpid()}.part.png")
            draw(*inputs, part)
            os.replace(part, kept)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, out)
        return Path(out)

    return wrapper


@cached
def overview(points: list[dict[str, Any]], panels: list[tuple[str, str]], budget: int, out: Path) -> Path:
    """int8 macro-F1 against flash (.tflite bytes, log x), one panel per task (`panels`: each task and the
    test set its numbers are on), one dot per model (`points`: task, arch, family, flash, f1, recommended),
    colour by architecture, shape by family; the recommended model of each task ringed, and the
    wearable's flash budget as a dashed line."""
    import matplotlib
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    archs = sorted({p["arch"] for p in points})
    cmap = matplotlib.colormaps["tab20"]
    colour = {a: cmap(i % 20) for i, a in enumerate(archs)}
    cols = 3
    rows = max(1, -(-len(panels) // cols))
    fig = _figure(
        11.5, 2.9 * rows + 0.4, left=0.06, right=0.8, bottom=0.1, top=0.93, wspace=0.25, hspace=0.55
    )
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    for ax, (task, test) in zip(axes, panels, strict=False):
        here = [p for p in points if p["task"] == task]
        for p in here:
            ax.scatter(
                p["flash"],
                p["f1"],
                s=34,
                color=colour[p["arch"]],
                marker=MARKERS.get(p["family"], "o"),
                edgecolors="black",
                linewidths=0.4,
                zorder=3,
            )
            if p["recommended"]:
                ax.scatter(
                    p["flash"],
                    p["f1"],
                    s=260,
                    facecolors="none",
                    edgecolors="#d62728",
                    linewidths=2.0,
                    zorder=4,
                )
                ax.annotate(
                    p["name"].removeprefix(f"{task}-"),
                    (p["flash"], p["f1"]),
                    xytext=(12, -16),
                    textcoords="offset points",
                    fontsize=8,
                    color="#d62728",
                    zorder=5,
                    bbox={
                        "boxstyle": "round,pad=0.15",
                        "facecolor": "white",
                        "edgecolor": "none",
                        "alpha": 0.85,
                    },
                )
        ax.axvline(budget, color="0.4", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlim(2**12, 2**24)
        ax.xaxis.set_major_locator(FixedLocator(_SIZES))
        ax.xaxis.set_major_formatter(FuncFormatter(_kib))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(f"{task}: {test}", fontsize=10)
        ax.set_xlabel("flash: .tflite size (log)", fontsize=9)
        ax.set_ylabel("int8 macro-F1", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.tick_params(labelsize=8)
        if here:
            lo = min(p["f1"] for p in here)
            ax.set_ylim(max(0.0, lo - 0.05), min(1.0, max(p["f1"] for p in here) + 0.05))
    arch_handles = [Line2D([], [], marker="o", linestyle="", color=colour[a], label=a) for a in archs]
    # the families' keys hollow, so none is read as an architecture's colour
    extra = [
        Line2D([], [], marker=m, linestyle="", markerfacecolor="white", markeredgecolor="black", label=f)
        for f, m in MARKERS.items()
        if any(p["family"] == f for p in points)
    ]
    extra += [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor="none",
            markeredgecolor="#d62728",
            markersize=11,
            markeredgewidth=2,
            label="recommended",
        ),
        Line2D([], [], color="0.4", linestyle="--", label=f"wearable flash ({budget // 1024} KiB)"),
    ]
    fig.legend(
        handles=arch_handles + extra, loc="center left", bbox_to_anchor=(0.81, 0.5), fontsize=8, frameon=False
    )
    return _save(fig, out)


#: flash ticks a panel has room for: every fourfold
_SIZES = [4**k for k in range(5, 13)]


def _kib(x: float, _pos: int) -> str:
    return f"{x / 2**20:g}M" if x >= 2**20 else f"{x / 2**10:g}K"


def read_history(path: Path) -> list[dict[str, float]]:
    """history.csv as numbers: one row per epoch, empty cells left out."""
    with path.open(newline="") as f:
        return [{k: float(v) for k, v in row.items() if v not in (None, "")} for row in csv.DictReader(f)]


@cached
def training_curve(history: Path, title: str, out: Path) -> Path:
    """Loss (training and validation) and the validation macro-F1 per epoch, the best epoch marked."""
    rows = read_history(history)
    epochs = [r["epoch"] for r in rows]
    fig = _figure(8.0, 2.6, left=0.08, right=0.98, bottom=0.17, top=0.87, wspace=0.28)
    left, right = fig.subplots(1, 2)
    for key, label in (("loss", "training loss"), ("val_loss", "validation loss")):
        if any(key in r for r in rows):
            left.plot(
                [r["epoch"] for r in rows if key in r],
                [r[key] for r in rows if key in r],
                marker=".",
                label=label,
            )
    left.set_xlabel("epoch", fontsize=9)
    left.set_ylabel("loss", fontsize=9)
    left.legend(fontsize=8)
    scored = [(r["epoch"], r["val_macro_f1"]) for r in rows if "val_macro_f1" in r]
    if scored:
        right.plot([e for e, _ in scored], [v for _, v in scored], marker=".", color="#2ca02c")
        best = max(scored, key=lambda ev: ev[1])
        right.scatter(
            [best[0]],
            [best[1]],
            s=80,
            facecolors="none",
            edgecolors="#d62728",
            linewidths=1.5,
            zorder=3,
            label=f"kept: epoch {best[0]:.0f}, {best[1]:.4f}",
        )
        right.legend(fontsize=8)
    right.set_xlabel("epoch", fontsize=9)
    right.set_ylabel("validation macro-F1", fontsize=9)
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
        if epochs:
            ax.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
    fig.suptitle(title, fontsize=10)
    return _save(fig, out)


@cached
def confusion(matrix: list[list[int]], classes: list[str], scored: list[str], title: str, out: Path) -> Path:
    """The confusion matrix (rows true, columns predicted), each cell's count and share of its row; the
    rows and columns of classes left out of macro-F1 (not in `scored`) greyed."""
    import numpy as np

    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    n = len(classes)
    fig = _figure(
        1.0 + 0.9 * n,
        1.0 + 0.8 * n,
        left=0.8 / (1.0 + 0.9 * n),
        right=0.97,
        bottom=0.6 / (1.0 + 0.8 * n),
        top=1 - 0.35 / (1.0 + 0.8 * n),
    )
    ax = fig.subplots()
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    left_out = [i for i, c in enumerate(classes) if c not in scored]
    for i in left_out:
        ax.axhspan(i - 0.5, i + 0.5, color="0.82", zorder=2)
        ax.axvspan(i - 0.5, i + 0.5, color="0.82", zorder=2)
    for i in range(n):
        for j in range(n):
            grey = i in left_out or j in left_out
            dark = share[i, j] > 0.55 and not grey
            ax.text(
                j,
                i,
                f"{int(counts[i, j]):,}\n{100 * share[i, j]:.1f} %",
                ha="center",
                va="center",
                fontsize=8,
                zorder=3,
                color="white" if dark else ("0.45" if grey else "black"),
            )
    ax.set_xticks(range(n), classes)
    ax.set_yticks(range(n), classes)
    for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
        for label, c in zip(labels, classes, strict=True):
            if c not in scored:
                label.set_color("0.55")
    ax.set_xlabel("predicted", fontsize=9)
    ax.set_ylabel("true", fontsize=9)
    note = (
        f" · grey: not in macro-F1 ({', '.join(c for c in classes if c not in scored)})" if left_out else ""
    )
    ax.set_title(title + note, fontsize=8)
    return _save(fig, out)
