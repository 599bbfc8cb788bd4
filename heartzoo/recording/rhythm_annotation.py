"""The rhythm of a recording beside its beats (`heartzoo annotate --rhythm MODEL`): a recording classifier
(af-4) runs on consecutive windows of its own length, neighbouring windows of one class make an episode,
and each episode is written the MIT-BIH way, a `+` annotation whose aux note names the rhythm."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..errors import RecordingWarning
from ..tasks import RECORDING_MAX_S, RECORDING_MIN_S

#: class -> the aux note of its `+` annotation: WFDB's rhythm codes where one exists
AUX = {"N": "(N", "A": "(AFIB", "O": "(O", "~": "(NOISE"}


@dataclass(frozen=True)
class Episode:
    start: int  # sample
    end: int  # sample, exclusive
    label: str  # the model's class
    windows: int
    probability: float  # the mean probability of its class over its windows
    #: where each window's stretch starts, and its probability of the class: a part of the episode
    #: (`missing.episodes` cuts one) is given the windows that read it, not all of them
    window_starts: tuple[int, ...] = field(default=(), compare=False, repr=False)
    window_probabilities: tuple[float, ...] = field(default=(), compare=False, repr=False)

    @property
    def aux(self) -> str:
        return AUX.get(self.label, f"({self.label}")

    def to_dict(self) -> dict:
        return {
            "start": self.start,
            "end": self.end,
            "class": self.label,
            "aux": self.aux,
            "windows": self.windows,
            "probability": round(self.probability, 4),
        }


def rhythm_episodes(x, fs: float, model) -> list[Episode]:
    """The episodes of one lead: `model` (a `hub.LoadedModel` of a per-recording task) on its windows
    (non-overlapping from the start, the last one ending at the recording's end), runs of one class merged."""
    from ..data.recording_windows import recording_window_starts
    from ..evaluation.aggregation import single_windows
    from ..zoo.hub import predict

    spec = model.config.input  # `x` is read in windows (`predict`): a lead left on disk stays there
    n = spec.frame_samples(fs)
    starts = np.arange(0, max(len(x) - n, 0) + 1, n, dtype=np.int64)
    # shorter than a window: one window centred on it, as the whole recording's class reads it (not padded
    # at one end)
    if len(x) < n:
        starts = recording_window_starts(len(x), n)
    elif starts[-1] + n < len(x):
        starts = np.r_[starts, len(x) - n]  # the tail, in a window that overlaps the one before
    # each window is read as the model's aggregation reads a recording of that one window
    probs = single_windows(predict(model, x, fs, np.clip(starts + n // 2, 0, len(x) - 1)), model.aggregation)
    classes = probs.argmax(axis=1)
    # each window speaks for its own stretch of the grid; the tail only for what the grid left over
    bounds = np.r_[np.maximum(starts, np.arange(len(starts)) * n), len(x)]
    out: list[Episode] = []
    i = 0
    while i < len(classes):
        j = i
        while j + 1 < len(classes) and classes[j + 1] == classes[i]:
            j += 1
        out.append(
            Episode(
                int(bounds[i]),
                int(min(bounds[j + 1], len(x))),
                model.class_names[classes[i]],
                j - i + 1,
                float(probs[i : j + 1, classes[i]].mean()),
                tuple(int(b) for b in bounds[i : j + 1]),
                tuple(float(q) for q in probs[i : j + 1, classes[i]]),
            )
        )
        i = j + 1
    return out


def window_probabilities(model, x, fs: float, missing=(), bridge_s: float = 0.0) -> np.ndarray:
    """`model`'s probabilities on the windows a recording is scored on: non-overlapping from its start,
    one centred when it is shorter (`recording_windows.recording_window_starts`); none that holds a
    stretch the file marks `missing` (its (start, end) stretches) longer than `bridge_s` seconds."""
    from ..data.recording_windows import recording_window_starts
    from ..zoo.hub import predict
    from .missing import overlap, unbridged

    spec = model.config.input
    n = spec.frame_samples(fs)
    starts = recording_window_starts(len(x), n)
    longer = unbridged(missing, fs, bridge_s)
    starts = starts[[not overlap(longer, int(s), int(s) + n) for s in starts]]
    if not len(starts):
        return np.zeros((0, len(model.class_names)), np.float32)
    return predict(model, x, fs, starts + n // 2)


def recording_class(x, fs: float, model, missing=(), bridge_s: float = 0.0) -> dict | None:
    """The class of the whole recording as the model's card scores one: its `window_probabilities` made
    one by the model's aggregation; with the class probabilities. Windows that hold a stretch the file
    marks `missing` (longer than `bridge_s` s; `studies/missing_bridge.py --rhythm` found af-4 should read
    through none) are left out; None where every window holds one."""
    from ..evaluation.aggregation import one_recording

    probs = window_probabilities(model, np.asarray(x, dtype=np.float32), fs, missing, bridge_s)
    if not len(probs):
        return None
    p = one_recording(probs, model.aggregation)
    names = list(model.class_names)
    return {
        "class": names[int(p.argmax())],
        "windows": len(probs),
        "aggregation": model.aggregation.method,
        "probabilities": {c: round(float(v), 4) for c, v in zip(names, p, strict=True)},
    }


def classify_recording(model, signal, fs: float) -> dict:
    """The rhythm of a whole one-lead recording (mV, any sampling rate) by a model labelled per recording
    (af-4: N, A, O, ~), as its card scores one: {"class", "probabilities", "windows", "aggregation"}.
    `model` is a `load_model` result or NAME[@VERSION] (int8, the local zoo first). NaN samples are
    missing (`missing.of_array`): the windows that hold one are left out."""
    from ..errors import HeartzooError
    from ..preprocess import check_recording
    from ..tasks import get_task
    from ..zoo.hub import resolve_model
    from .missing import of_array

    loaded = resolve_model(model)
    if not get_task(loaded.config.task).per_recording:
        raise HeartzooError(
            f"{loaded.config.name}: the model of task {loaded.config.task} classifies beats or windows, not recordings "
            "(use heartzoo.predict); recording models: af-4"
        )
    signal, missing = of_array(signal)  # NaN: samples missing
    x, rate, _ = check_recording(signal, fs, np.zeros(0, np.int64))
    if len(x) > RECORDING_MAX_S * rate:
        raise HeartzooError(
            f"the recording is {len(x) / rate:.0f} s long at the stated {rate:g} Hz (is that its sampling "
            f"rate?); {loaded.config.name} gives one class to "
            f"recordings of at most {RECORDING_MAX_S:g} s, as CinC 2017's are: read a longer one by its "
            "rhythm episodes and AF burden (heartzoo annotate --rhythm)"
        )
    if len(x) < RECORDING_MIN_S * rate:
        held = int(len(x) / rate * 100) / 100  # rounded down: 8.96 s is not "9.0 s"
        raise HeartzooError(
            f"the recording is {held:.2f} s long; {loaded.config.name} gives one class to "
            f"recordings of at least {RECORDING_MIN_S:g} s, as CinC 2017's are"
        )
    for doubt in lead_doubts(x, rate, missing):
        warnings.warn(doubt, RecordingWarning, stacklevel=2)
    whole = recording_class(x, rate, loaded, missing)
    if whole is None:
        spec = loaded.config.input
        raise HeartzooError(
            f"every {spec.frame_size / spec.fs:g}-s window of the recording holds missing (NaN) samples: no "
            "window to classify it by"
        )
    return whole


def lead_doubts(x, fs: float, missing=()) -> list[str]:
    """What the lead says at its detected beats was given wrong (`quality.findings_at`: a unit other than
    mV, a rate that is not the recording's, a lead that is no ECG), as `annotate` says it."""
    from ..detect import detect
    from .quality import findings_at

    return [f.message for f in findings_at(x, fs, detect(x, fs), missing)]


def recording_rhythm(
    x, fs: float, rhythm, *, zoo=None, missing=(), unreadable=()
) -> tuple[tuple[Episode, ...], str, dict | None]:
    """The episodes of one lead by the rhythm model (int8: a `LoadedModel`, or NAME[@VERSION] loaded),
    NAME@vN, and the whole recording's class (`recording_class`; None for one shorter than
    `RECORDING_MIN_S` or longer than `RECORDING_MAX_S`, which has no one class). A stretch the quality
    gate could not read (`unreadable`) for a whole window of the model or more is cut out of the episodes
    as too noisy (`~`), as a missing one is: no rhythm is read, nor counted read, where no beat was."""
    from ..errors import HeartzooError
    from ..tasks import get_task
    from ..zoo.hub import resolve_model
    from .missing import episodes as cut
    from .missing import less

    model = resolve_model(rhythm, zoo=zoo)
    ref = f"{model.config.name}@{model.folder.name}"
    if not get_task(model.config.task).per_recording:
        raise HeartzooError(
            f"--rhythm {ref}: a model of task {model.config.task}; --rhythm (rhythm= in Python) takes a model "
            "of af-4, the rhythm of a whole recording (e.g. af-4-cnn4-student)"
        )
    classified = RECORDING_MIN_S * fs <= len(x) <= RECORDING_MAX_S * fs  # the lengths it was fitted on
    whole = recording_class(x, fs, model, missing) if classified else None
    window = model.config.input.frame_samples(fs)
    # a missing stretch is cut as such (scan); what is left of the gate's stretch around it must be a window
    noisy = [(a, b) for a, b in less(tuple(unreadable), tuple(missing)) if b - a >= window]
    return cut(rhythm_episodes(x, fs, model), noisy), ref, whole


def s_in_af_to_n(
    probs: np.ndarray, peaks: np.ndarray, episodes, class_names, whole: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """AAMI defines no S beat in atrial fibrillation: inside the episodes the rhythm model calls AF, each
    beat's S probability is moved to N (a supraventricular beat of the rhythm is N), so a beat called V by
    less than its S probability becomes N too; elsewhere, and for a
    model without both classes (beat-2's `ectopic` holds V too), nothing changes. With `whole`, the
    recording's class as a whole (`recording_class`), a recording called AF has every beat so moved.
    Returns the probabilities and which beats were called S before (studies/af_s_gate.py measures what it
    does)."""
    names = list(class_names)
    if "S" not in names or "N" not in names or not len(peaks):
        return probs, np.zeros(len(peaks), bool)
    s, n = names.index("S"), names.index("N")
    inside = np.full(len(peaks), (whole or {}).get("class") == "A")
    for e in episodes:
        if e.aux == AUX["A"]:
            inside |= (peaks >= e.start) & (peaks < e.end)
    out = np.array(probs, dtype=np.float32, copy=True)
    relabelled = inside & (out.argmax(axis=1) == s)
    out[inside, n] += out[inside, s]
    out[inside, s] = 0.0
    return out, relabelled


def relabelled_calls(annotated, by_recording: bool = True) -> np.ndarray:
    """The class index of each beat of an annotation made with `keep_s_in_af`, as `annotate` writes it
    without (`s_in_af_to_n`, with the whole recording's class unless not `by_recording`): one run gives
    the beat model's calls and the line's."""
    whole = annotated.rhythm_recording if by_recording else None
    probs, _ = s_in_af_to_n(
        annotated.probabilities, annotated.samples, annotated.rhythm, annotated.class_names, whole
    )
    return probs.argmax(axis=1)


def annotation_rows(episodes) -> list[tuple[int, str, int, str]]:
    """(sample, symbol, subtype, aux note) of a `+` annotation where the rhythm changes: at each episode
    but one that goes on its neighbour's rhythm (a missing stretch, `~`, beside the model's own `~`)."""
    return [
        (e.start, "+", 0, e.aux) for i, e in enumerate(episodes) if i == 0 or e.aux != episodes[i - 1].aux
    ]


def noise_finding(episodes, fs: float, whole: dict | None = None):
    """The warning for what the rhythm model itself reads as too noisy (`~`: episodes of its windows, not the
    stretches the gate or the file cut out, which have their own), or None: the quality gate read those
    beats and the beat model classified them, so a user must know the rhythm model could not."""
    from .quality import Finding

    own = [e for e in episodes if e.label == "~" and e.windows > 0]
    noisy_whole = whole is not None and whole["class"] == "~"
    if not own and not noisy_whole:
        return None
    parts = []
    longest = max(own, key=lambda e: e.end - e.start, default=None)
    if longest is not None:

        def seconds(a: int, b: int) -> str:
            return f"{(b - a) / fs:,.{0 if b - a >= 10 * fs else 1}f} s"

        where = (
            f"from {longest.start / fs:.1f} s"
            if len(own) == 1
            else f"{len(own)} stretches, the longest {seconds(longest.start, longest.end)} from "
            f"{longest.start / fs:.1f} s"
        )
        parts.append(f"{seconds(0, sum(e.end - e.start for e in own))} of it ({where})")
    if noisy_whole:
        p = whole["probabilities"]["~"]
        parts.append(f"the recording as a whole (p {p:.2f}" + (")" if own else "), though no window alone"))
    return Finding(
        "rhythm-noise",
        f"the rhythm model reads the lead as too noisy to tell its rhythm (~): {', and '.join(parts)}; its "
        "beats were classified all the same, to review",
        None if longest is None else longest.start,
        None if longest is None else longest.end,
    )
