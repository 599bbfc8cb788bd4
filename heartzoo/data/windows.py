"""Prepared beats: frames, labels, records and RR intervals of a set of beats (the frames come from
`heartzoo.preprocess.Preprocessor`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..preprocess import InputSpec, Preprocessor
from ..preprocess.rr_features import with_rr_context


@dataclass
class WindowSet:
    """Frames and their labels for a set of beats; concatenation of records keeps the beat order."""

    x: np.ndarray  # (n, frame_size) float32
    aami: np.ndarray  # (n,) int8, index into AAMI_CLASSES
    record: np.ndarray  # (n,) <U8 or wider, record name
    sample: np.ndarray  # (n,) int64, R-peak sample at the record's own sampling rate
    rr: np.ndarray  # (n, 5 + history) float32: `rr_features.rr_intervals` (RRs in s, the irregularity, ...)
    meta: dict = field(default_factory=dict)
    #: (n, frame_size) the record's running beat template (see `beat_templates`), when the input uses it
    template: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.aami)

    def subset(self, index: np.ndarray) -> WindowSet:
        return WindowSet(
            self.x[index],
            self.aami[index],
            self.record[index],
            self.sample[index],
            self.rr[index],
            dict(self.meta),
            None if self.template is None else self.template[index],
        )

    def with_context(self, spec: InputSpec) -> WindowSet:
        """This set with what `spec`'s inputs read from a record's earlier beats: its running beat
        templates, its RR history and the running median of its RR intervals (it must hold whole records in
        beat order)."""
        if spec.rr_features:
            self.rr = with_rr_context(self.rr, self.record, spec.rr_history, spec.rr_normaliser)
        self.template = Preprocessor(spec).templates(self.x, self.record, self.rr)
        return self

    @staticmethod
    def of_record(arrays: dict[str, np.ndarray], record: str) -> WindowSet:
        """The frames of one record from its prepared arrays (the cache's: x, aami, sample, rr)."""
        n = len(arrays["aami"])
        record_names = np.full(n, record, dtype=f"<U{max(8, len(record))}")
        return WindowSet(arrays["x"], arrays["aami"], record_names, arrays["sample"], arrays["rr"])

    @staticmethod
    def concat(parts: list[WindowSet], meta: dict | None = None) -> WindowSet:
        """The parts one after the other; their running templates too, when every part has them."""
        if not parts:
            raise ValueError("no window sets to concatenate")
        templates = [p.template for p in parts]
        return WindowSet(
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.aami for p in parts]),
            np.concatenate([p.record for p in parts]),
            np.concatenate([p.sample for p in parts]),
            np.concatenate([p.rr for p in parts]),
            dict(meta or {}),
            None if any(t is None for t in templates) else np.concatenate(templates),
        )

    def model_inputs(self, pre: Preprocessor):
        """What the model takes for these beats (`pre` must be the preprocessor that made the frames)."""
        return pre.inputs(self.x, self.template, self.rr if pre.rr_features else None)

    def for_task(self, task) -> tuple[WindowSet, np.ndarray]:
        """The beats `task` keeps and their task labels."""
        labels = task.labels(self.aami)
        keep = labels >= 0
        return self.subset(keep), labels[keep].astype(np.int64)
