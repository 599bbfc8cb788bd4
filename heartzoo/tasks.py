"""The classification tasks: which AAMI classes each one keeps and in which output order.

Light on purpose (numpy is imported inside the two methods that use it): the CLI reads the task names
and the default task at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

#: AAMI EC57 beat classes, in the order used for the integer labels stored in the cache.
AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")
#: rhythm classes of a window, in the order of the integer labels stored for windows (`data.rhythms`
#: maps annotated rhythm names to them)
RHYTHM_CLASSES: tuple[str, ...] = ("NSR", "AF", "other")
#: signal-quality classes of a window (`data.quality_windows` says how each is labelled)
QUALITY_CLASSES: tuple[str, ...] = ("readable", "unreadable")
#: a window is read when the gate's P(readable) is at least this; not its argmax, which an int8 model's
#: probabilities (not summing to one) may give the other way. Read by `recording.quality` and the
#: firmware kit's `hz_readable`.
READABLE_P = 0.5
#: the PhysioNet/CinC Challenge 2017's labels of a recording: normal, AF, other rhythm, too noisy
CINC_CLASSES: tuple[str, ...] = ("N", "A", "O", "~")
#: a run of ventricular beats: this many or more consecutive beats of class V; faster than `VT_BPM` it is
#: ventricular tachycardia (Zipes et al., ACC/AHA/ESC 2006 guidelines, Circulation 114:e385). Read by
#: `recording.ventricular_runs` and the firmware kit's `hz_vrun_*`.
VENTRICULAR_RUN_BEATS = 3
VT_BPM = 100
#: an episode of atrial fibrillation this long or longer on a single-lead tracing is clinical AF (Hindricks
#: et al., 2020 ESC guidelines for atrial fibrillation, Eur Heart J 42:373, 2021). Read by
#: `recording.af_burden` and the firmware kit's `hz_af_*`.
AF_EPISODE_S = 30
#: the longest recording a per-recording task (af-4) gives one class to: CinC 2017's recordings are 9 to
#: 61 s (its README), and the mean+max map that makes their windows one class was fitted on them; over a
#: day of windows the largest probability of every class is high, and the map's answer means nothing. A
#: longer recording is read by its rhythm episodes and AF burden (`heartzoo annotate --rhythm`).
RECORDING_MAX_S = 61.0
#: and the shortest: under one 10 s window, the map reads a window padded past the recording's end
RECORDING_MIN_S = 9.0


@dataclass(frozen=True)
class Task:
    """A task maps the classes of its unit (a beat's AAMI class, a window's rhythm class) to output
    classes; the ones it does not name are left out."""

    name: str
    class_names: tuple[str, ...]
    #: AAMI class (rhythm class for a window task) -> output class name
    aami_map: dict[str, str]
    description: str
    #: classes over which the headline macro-F1 is computed (all by default)
    macro_classes: tuple[str, ...] | None = None
    #: what one input is: a frame around a beat's R peak, or a window of a recording labelled by rhythm
    unit: str = "beat"
    #: what labels a window: its rhythm, whether it can be read (`quality`), or its whole recording's
    #: label (`recording`: scored per recording, its windows' probabilities averaged)
    window_labels: str = "rhythm"

    @property
    def source_classes(self) -> tuple[str, ...]:
        """The label space of the prepared data this task reads."""
        if self.unit == "beat":
            return AAMI_CLASSES
        return {"quality": QUALITY_CLASSES, "recording": CINC_CLASSES}.get(self.window_labels, RHYTHM_CLASSES)

    @property
    def left_out(self) -> tuple[str, ...]:
        """The classes of its source labels the task does not score (beat-2 and beat-3: F and Q)."""
        return tuple(c for c in self.source_classes if c not in self.aami_map)

    @property
    def per_recording(self) -> bool:
        """Scored per recording, by the class its windows make (`evaluation.aggregation`)."""
        return self.unit == "window" and self.window_labels == "recording"

    @property
    def is_quality_gate(self) -> bool:
        """Scores whether windows can be read (`quality`): the gate before the classifiers."""
        return self.unit == "window" and self.window_labels == "quality"

    @property
    def protocol(self) -> str:
        """The evaluation protocol its configs follow (beat tasks may also take the leaky one)."""
        return "patient-deal" if self.unit == "window" and self.window_labels == "rhythm" else "inter-patient"

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def label_lookup(self) -> np.ndarray:
        """Array indexed by source label (AAMI 0..4, or rhythm 0..2) giving the task label, or -1 where
        the beat or window is left out."""
        import numpy as np

        lut = np.full(len(self.source_classes), -1, dtype=np.int8)
        for source, target in self.aami_map.items():
            lut[self.source_classes.index(source)] = self.class_names.index(target)
        return lut

    def labels(self, aami_labels: np.ndarray) -> np.ndarray:
        """Task labels for an array of AAMI labels (-1 for beats the task leaves out)."""
        import numpy as np

        return self.label_lookup()[np.asarray(aami_labels, dtype=np.int64)]


TASKS: dict[str, Task] = {
    "beat-2": Task(
        name="beat-2",
        class_names=("normal", "ectopic"),
        aami_map={"N": "normal", "S": "ectopic", "V": "ectopic"},
        description="Normal vs ectopic (supraventricular or ventricular premature) beats; F and Q left out.",
    ),
    "beat-3": Task(
        name="beat-3",
        class_names=("N", "S", "V"),
        aami_map={"N": "N", "S": "S", "V": "V"},
        description="Normal, supraventricular ectopic (PAC) and ventricular ectopic (PVC) beats; F and Q left out.",
    ),
    "aami-5": Task(
        name="aami-5",
        class_names=("N", "S", "V", "F", "Q"),
        aami_map={c: c for c in AAMI_CLASSES},
        description="All five AAMI classes. Q has 8 DS1 and 7 DS2 beats, so macro-F1 is reported over N, S, V, F.",
        macro_classes=("N", "S", "V", "F"),
    ),
    "rhythm-3": Task(
        name="rhythm-3",
        class_names=RHYTHM_CLASSES,
        aami_map={c: c for c in RHYTHM_CLASSES},
        description="Rhythm of a 10 s window: normal sinus, atrial fibrillation or flutter, or any other "
        "rhythm (paced, bigeminy, tachycardias, ...).",
        unit="window",
    ),
    "quality": Task(
        name="quality",
        class_names=QUALITY_CLASSES,
        aami_map={c: c for c in QUALITY_CLASSES},
        description="Can a short window of ECG be read: readable, or unreadable (noise, artefacts, a lead "
        "off or a saturated amplifier), the gate before beat detection and classification.",
        unit="window",
        window_labels="quality",
    ),
    "af-4": Task(
        name="af-4",
        class_names=CINC_CLASSES,
        aami_map={c: c for c in CINC_CLASSES},
        description="The rhythm of a short single-lead recording as the PhysioNet/CinC Challenge 2017 labels it: "
        "normal sinus (N), atrial fibrillation (A), other rhythm (O), too noisy (~); scored per recording, "
        "F1 = (F1_N + F1_A + F1_O) / 3 as the challenge scores it.",
        macro_classes=("N", "A", "O"),
        unit="window",
        window_labels="recording",
    ),
}


def get_task(name: str) -> Task:
    """The task called `name`; an unknown name is an error listing the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}") from None


#: The task names, in the order the CLI and docs list them.
TASK_NAMES = tuple(TASKS)

#: The task a command works on when neither --task nor a configuration names one.
DEFAULT_TASK = "beat-3"
