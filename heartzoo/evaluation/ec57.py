"""Beat-by-beat comparison of two annotation sets per ANSI/AAMI EC57, as WFDB's `bxb` does it.

Source: `bxb.c` of the WFDB Software Package (G. Moody, last revised 10 August 2010), which implements
the comparison of AAMI EC38:1998 and EC57:1998; the rules below are that program's, restated:

- Match window: 150 ms (bxb's `-w` default; `int(0.15 * fs + 0.5)` samples, as bxb's `strtim` rounds). Scoring starts 5 minutes into
  the record (bxb's `-f` default: the learning period is not scored) and ends at the end of the record
  (its length from the header) or, without one (or a sample count in it), at the last reference beat.
  Another start or window is bxb's own "nonstandard comparison": `Report.standard` is then False and
  outputs say so.
- Pairing: bxb's two-pointer loop. The earlier of the current reference (T) and test (t) beat is paired
  with the other when they are within the window and no neighbour matches better (bxb's 2002 rule: the
  pair is kept also when the next test and next reference beats match each other better); else the
  earlier beat is unmatched (pseudo-beat `O`). At the start, a test beat just before the start may pair
  with the first reference beat, and a test beat within the window after the start that matches no
  reference beat better than its successor does is dropped uncounted.
- Ventricular flutter/fibrillation (`[` ... `]` in the reference): reference annotations inside are
  ignored, and test beats inside are not counted at all (bxb pairs them with `*`).
- Shutdown: a noise annotation `~` whose subtype has bits 4 and 5 set (-1, "all signals unreadable", as
  `heartzoo annotate` writes its unreadable stretches) starts one, the next `~` without both bits ends
  it (rhythm changes and comments between the two are passed over, where bxb would read the first as a
  lone one); a lone one (the AHA database's style) spans from a window after the beat before it to a
  window before the annotation after it. An unmatched reference beat in the test's shutdown is paired with the
  pseudo-beat `X` instead of `O`, an unmatched test beat in the reference's shutdown likewise: the same
  misses and extras, reported apart (bxb's "beats missed in shutdown", "total shutdown time", here the
  test's shutdown within the scored period; bxb also counts the learning period's).
- Statistics from the confusion counts (rows: reference N S V F Q O X, columns: test n s v f q o x):
  QRS: TP = every reference beat matched to a test beat (any classes), FN = reference beats unmatched
  (o and x), FP = test beats unmatched (O and X). VEB: TP = Vv; FN = Vn+Vs+Vf+Vq+Vo+Vx; FP = Nv+Sv+Ov+Xv
  (a reference F or Q beat labelled V is *not* a VEB false positive); TN = the N, S, F, Q, O, X rows x
  the n, s, f, q columns; FPR = FP / (TN + FP). SVEB (bxb's -C/-L/-S reports): TP = Ss;
  FN = Sn+Sv+Sf+Sq+So+Sx; FP = Ns+Vs+Fs+Os+Xs (a reference Q beat labelled S is not an SVEB false
  positive; an F beat is).
  Se = TP / (TP + FN), +P = TP / (TP + FP); a statistic with a zero denominator is undefined (None).
- Gross statistics: from the counts summed over records. Average statistics: the mean of each record's
  statistic over the records where it is defined.

Not implemented: the RMS RR-interval error. Symbols map to AAMI classes by heartzoo's map
(`data.records.SYMBOL_TO_AAMI`, de Chazal 2004): it puts `e` and `j` (atrial and nodal escape) in N
where bxb's `amap` puts them in S; it holds `r` (R-on-T, V), `n` (supraventricular escape, S) and `?` (Q),
which bxb also counts as beats.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.records import SYMBOL_TO_AAMI
from ..errors import HeartzooError

CLASSES = ("N", "S", "V", "F", "Q")
#: reference classes, then O: no reference beat (an extra test beat), X: none, in the reference's shutdown;
#: the same letters name the test's columns (o: a missed beat, x: missed in the test's shutdown)
ROWS = (*CLASSES, "O", "X")
STANDARD_START_S = 300.0
STANDARD_WINDOW_S = 0.15
_HUGE = 2**62
_STATS = ("qrs_se", "qrs_pp", "veb_se", "veb_pp", "veb_fpr", "sveb_se", "sveb_pp")


@dataclass(frozen=True)
class Annotations:
    """Beats of one record: sample indices, AAMI class letters, and where known the record length, the
    ventricular flutter/fibrillation episodes and the shutdown stretches (sample pairs)."""

    samples: np.ndarray
    labels: np.ndarray
    fs: float
    record: str = ""
    length: int | None = None
    vf: tuple[tuple[int, int], ...] = ()
    #: where the annotator marked every signal unreadable (WFDB's shutdown), sample pairs
    shutdown: tuple[tuple[int, int], ...] = ()
    #: beats written as Q with the note `ectopic` (beat-2's "S or V" class, as `annotate` writes it)
    ectopic_q: int = 0
    file: str = ""  # the file read, for messages
    #: the file gave no rate (nor a header beside it): read at the one given, the reference's (`notes`)
    rate_given: bool = False

    @classmethod
    def of(cls, samples, labels, fs: float, **kw) -> Annotations:
        s = np.asarray(samples, dtype=np.int64).reshape(-1)
        lab = np.asarray(labels, dtype="<U1").reshape(-1)
        if len(s) != len(lab):
            raise HeartzooError(f"{len(s)} beat samples but {len(lab)} labels")
        bad = sorted(set(lab.tolist()) - set(CLASSES))
        if bad:
            raise HeartzooError(f"beat labels must be AAMI classes {', '.join(CLASSES)}; got {bad}")
        if np.any(np.diff(s) < 0):
            raise HeartzooError("beat samples must be in time order")
        return cls(s, lab, float(fs), **kw)


def read_annotations(
    path: str | os.PathLike[str],
    extension: str | None = None,
    *,
    need_beats: bool = True,
    fs: float | None = None,
) -> Annotations:
    """A WFDB annotation file (`FOLDER/RECORD.EXT`, or the record path and `extension`): its beats as
    AAMI classes, its VF episodes, and the record length when the record's header is beside it. `fs`:
    the rate to read a file at that gives none and has no header beside it (a test file is read at its
    reference's, as bxb reads both at the record's)."""
    import wfdb

    from ..data.annotation_files import annotation_file_complete, rate_problem

    p = Path(path)
    if extension is None:
        if not p.suffix:
            raise HeartzooError(f"{p}: give an annotation file RECORD.EXT (e.g. 100.atr)")
        p, extension = p.with_suffix(""), p.suffix[1:]
    file = p.with_name(f"{p.name}.{extension}")
    if not file.is_file():
        raise HeartzooError(f"{file}: no such annotation file")
    # wfdb reads a header, a signal file, a text file or an annotation file cut short as annotations
    # (a few made-up beats, or none), and they would be scored: only a file that ends where its own
    # words say it does is one
    if not annotation_file_complete(file.read_bytes()):
        raise HeartzooError(f"{file}: truncated or not a WFDB annotation file")
    try:
        ann = wfdb.rdann(str(p), extension)
    except Exception as exc:  # wfdb raises bare ValueErrors/IndexErrors on damaged files
        raise HeartzooError(f"{file}: not a readable WFDB annotation file ({exc})") from None
    # ann.fs: the rate the file stores, else (wfdb's fallback) the header's
    length, given, fs = None, fs, ann.fs
    hea = p.with_name(f"{p.name}.hea")
    if hea.is_file():
        try:
            header = wfdb.rdheader(str(p))
        except Exception as exc:
            raise HeartzooError(f"{hea}: cannot parse header ({exc})") from None
        # a header may leave out the sample count: then scoring runs to the last reference beat
        length = int(header.sig_len) if header.sig_len else None
        if problem := rate_problem(fs, header.fs, f"{hea.name} beside it"):
            raise HeartzooError(f"{file}: {problem}")
    if not fs and not given:
        raise HeartzooError(f"{file}: no sampling rate in the file and no {p.name}.hea beside it")
    rate_given, fs = not fs, fs or given
    symbols = list(ann.symbol or [])
    # a reference without beats scores nothing; test annotations may honestly hold none (a detector that
    # found no beat, a recording unreadable throughout): their Se is 0, and `heartzoo ec57` says why
    if need_beats and not any(sym in SYMBOL_TO_AAMI for sym in symbols):
        raise HeartzooError(f"{file}: holds no beat annotations")
    notes = list(ann.aux_note or [""] * len(symbols))
    samples = np.asarray(ann.sample, dtype=np.int64)
    subtypes = np.asarray(ann.subtype if ann.subtype is not None else np.zeros(len(symbols)), dtype=np.int64)
    vf, on, keep = [], None, []
    for i, (s, sym) in enumerate(zip(samples.tolist(), symbols, strict=True)):
        if sym == "[":
            on = s
        elif sym == "]" and on is not None:
            vf.append((on, s))
            on = None
        elif sym in SYMBOL_TO_AAMI and on is None:  # bxb reads and ignores annotations inside VF
            keep.append(i)
    if on is not None:
        vf.append((on, _HUGE))
    # the lone form's margin: the standard window, rounded as `compare` rounds it
    shutdown = _shutdown(
        samples.tolist(), symbols, subtypes.tolist(), int(STANDARD_WINDOW_S * float(fs) + 0.5)
    )
    labels = [SYMBOL_TO_AAMI[symbols[i]] for i in keep]
    ectopic = sum(symbols[i] == "Q" and notes[i] == "ectopic" for i in keep)
    try:
        return Annotations.of(
            samples[keep],
            labels,
            float(fs),
            record=p.name,
            length=length,
            vf=tuple(vf),
            shutdown=shutdown,
            ectopic_q=ectopic,
            file=str(file),
            rate_given=rate_given,
        )
    except HeartzooError as exc:
        raise HeartzooError(f"{file}: {exc}") from None


def _shutdown(samples: list[int], symbols: list[str], subtypes: list[int], window: int) -> tuple:
    """bxb's shutdown stretches: a `~` with subtype bits 4 and 5 set to the next `~` without them; a lone
    one (a beat comes first) from a window after the beat before it to a window before the annotation
    after it; one the file never ends, to its end. Unlike bxb, annotations that are neither beats nor
    noise between the two (`annotate --rhythm` writes a `+` at a stretch's start, and where the rhythm
    changes inside it) do not make the first `~` a lone one."""
    out, k, last_beat = [], 0, 0
    while k < len(samples):
        if symbols[k] in SYMBOL_TO_AAMI:
            last_beat = samples[k]
        elif symbols[k] == "~" and subtypes[k] & 0x30 == 0x30:
            j = k + 1
            while j < len(samples) and symbols[j] != "~" and symbols[j] not in SYMBOL_TO_AAMI:
                j += 1
            if j == len(samples):
                out.append((samples[k], _HUGE))
            elif symbols[j] == "~" and subtypes[j] & 0x30 != 0x30:
                out.append((samples[k], samples[j]))
                k = j
            else:  # the lone form: the stretch is around it, between its neighbours
                on, off = last_beat + window, samples[k + 1] - window
                out.append((min(on, off), off))
        k += 1
    return tuple(out)


def _inside(t: int, stretches) -> bool:
    return any(on <= t <= off for on, off in stretches)


class _Stream:
    """bxb's getref()/gettest(): the current and the next beat as (time, label, index); before the first
    beat the current one is (0, None, -1) as in bxb, past the last (huge, '*', -1)."""

    def __init__(self, a: Annotations) -> None:
        self.times, self.labels, self.k = a.samples.tolist(), a.labels.tolist(), 0
        self.t, self.a, self.i = 0, None, -1
        self.tn, self.an, self.inext = 0, None, -1

    def advance(self) -> None:
        self.t, self.a, self.i = self.tn, self.an, self.inext
        if self.k < len(self.times):
            self.tn, self.an, self.inext = self.times[self.k], self.labels[self.k], self.k
            self.k += 1
        else:
            self.tn, self.an, self.inext = _HUGE, "*", -1


def match(
    ref: Annotations, test: Annotations, *, start: int, window: int, end: int
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """bxb's pairing loop. Returns the (7, 7) counts (rows reference N S V F Q O X, columns test n s v f
    q o x) and every counted pair as (reference index, test index), -1 for the missing side. `start`,
    `window`, `end` in samples; `end` -1: to the last reference beat."""
    counts = np.zeros((7, 7), dtype=np.int64)
    pairs: list[tuple[int, int]] = []
    index = {c: i for i, c in enumerate(ROWS)}

    def pair(r, t, ri: int, ti: int) -> None:
        if r in index and t in index:  # None (before the first beat) and '*' (in VF) are not counted
            counts[index[r], index[t]] += 1
            pairs.append((ri, ti))

    def unmatched_test(t: int) -> str:  # bxb's rpann()
        return "*" if _inside(t, ref.vf) else "X" if _inside(t, ref.shutdown) else "O"

    def unmatched_reference(t: int) -> str:  # bxb's tpann()
        return "X" if _inside(t, test.shutdown) else "O"

    R, S = _Stream(ref), _Stream(test)
    R.advance()
    while R.t < start:  # the first reference beat at or after the start
        R.advance()
    S.advance()
    while S.tn < start:  # the last test beat before the start, and the first after it next
        S.advance()
    T, t = R.t, S.t
    if T - t < abs(T - S.tn) and T - t <= window:
        pair(R.a, S.a, R.i, S.i)
        R.advance()
        S.advance()
    else:
        S.advance()
        if S.t - start <= window and abs(T - S.tn) < abs(T - S.t):
            S.advance()  # dropped uncounted: within the window of the start, and no better match
    while (end >= 0 and (R.t <= end or S.t <= end)) or (end < 0 and R.t != _HUGE):
        T, Tn, t, tn = R.t, R.tn, S.t, S.tn
        if t < T:
            if T - t <= window and (T - t < abs(T - tn) or abs(Tn - tn) < abs(T - tn)):
                pair(R.a, S.a, R.i, S.i)
                R.advance()
                S.advance()
            else:
                pair(unmatched_test(t), S.a, -1, S.i)
                S.advance()
        elif t - T <= window and (t - T < abs(t - Tn) or abs(tn - Tn) < abs(t - Tn)):
            pair(R.a, S.a, R.i, S.i)
            R.advance()
            S.advance()
        else:
            pair(R.a, unmatched_reference(T), R.i, -1)
            R.advance()
    return counts, pairs


def _ratio(a: int, b: int) -> float | None:
    return a / b if b > 0 else None


@dataclass(frozen=True)
class Counts:
    """The confusion counts of one record (or of several, summed) and bxb's statistics from them."""

    matrix: np.ndarray  # (7, 7): reference N S V F Q O X x test n s v f q o x

    def _sum(self, rows: str, cols: str) -> int:
        ri = [ROWS.index(r) for r in rows]
        ci = [ROWS.index(c) for c in cols]
        return int(self.matrix[np.ix_(ri, ci)].sum())

    @property
    def tallies(self) -> dict[str, int]:
        s = self._sum
        return {
            "qrs_tp": s("NSVFQ", "NSVFQ"),
            "qrs_fn": s("NSVFQ", "OX"),
            "qrs_fp": s("OX", "NSVFQ"),
            "veb_tp": s("V", "V"),
            "veb_fn": s("V", "NSFQOX"),
            "veb_fp": s("NSOX", "V"),
            "veb_tn": s("NSFQOX", "NSFQ"),
            "sveb_tp": s("S", "S"),
            "sveb_fn": s("S", "NVFQOX"),
            "sveb_fp": s("NVFOX", "S"),
            # of the QRS FN, reference beats in the test's shutdown (bxb's "beats missed in shutdown")
            "shutdown_fn": s("NSVFQ", "X"),
            "reference_v": s("V", "NSVFQOX"),
            "reference_s": s("S", "NSVFQOX"),
        }

    @property
    def stats(self) -> dict[str, float | None]:
        c = self.tallies
        return {
            "qrs_se": _ratio(c["qrs_tp"], c["qrs_tp"] + c["qrs_fn"]),
            "qrs_pp": _ratio(c["qrs_tp"], c["qrs_tp"] + c["qrs_fp"]),
            "veb_se": _ratio(c["veb_tp"], c["veb_tp"] + c["veb_fn"]),
            "veb_pp": _ratio(c["veb_tp"], c["veb_tp"] + c["veb_fp"]),
            "veb_fpr": _ratio(c["veb_fp"], c["veb_tn"] + c["veb_fp"]),
            "sveb_se": _ratio(c["sveb_tp"], c["sveb_tp"] + c["sveb_fn"]),
            "sveb_pp": _ratio(c["sveb_tp"], c["sveb_tp"] + c["sveb_fp"]),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            # rows: the reference's class (O: none), keys within: the test's (O: none, X: in its shutdown)
            "matrix": {
                r: dict(zip(ROWS, map(int, row), strict=True))
                for r, row in zip(ROWS, self.matrix, strict=True)
            },
            **self.tallies,
            **self.stats,
        }


@dataclass(frozen=True)
class RecordResult:
    record: str
    counts: Counts
    #: (reference index, test index) of every counted pair, -1 for the missing side
    pairs: list[tuple[int, int]] = field(default_factory=list, repr=False)
    #: seconds of the test's shutdown within the scored period
    shutdown_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, **self.counts.to_dict(), "shutdown_s": self.shutdown_s}


@dataclass(frozen=True)
class Report:
    """Per-record results, gross statistics (summed counts) and average statistics (mean of records);
    `skipped`: (record, why) of the records of a batch too short to score."""

    records: list[RecordResult]
    start_s: float = STANDARD_START_S
    window_s: float = STANDARD_WINDOW_S
    skipped: tuple[tuple[str, str], ...] = ()
    gross: Counts = field(init=False)
    average: dict[str, float | None] = field(init=False)

    def __post_init__(self) -> None:
        total = sum((r.counts.matrix for r in self.records), np.zeros((7, 7), dtype=np.int64))
        object.__setattr__(self, "gross", Counts(total))
        avg: dict[str, float | None] = {}
        for k in _STATS:
            vals = [v for r in self.records if (v := r.counts.stats[k]) is not None]
            avg[k] = float(np.mean(vals)) if vals else None
        object.__setattr__(self, "average", avg)

    @property
    def shutdown_s(self) -> float:
        """Seconds of the test annotations' shutdown within the scored periods, summed over records."""
        return float(sum(r.shutdown_s for r in self.records))

    @property
    def standard(self) -> bool:
        """Whether the comparison is EC57's (5-minute start, 150 ms window)."""
        return self.start_s == STANDARD_START_S and self.window_s == STANDARD_WINDOW_S

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "ANSI/AAMI EC57 beat-by-beat comparison (WFDB bxb rules)"
            + ("" if self.standard else " - NONSTANDARD start or match window"),
            "standard": self.standard,
            "start_s": self.start_s,
            "window_s": self.window_s,
            "matrix_axes": "rows: reference class (O: no reference beat, X: none, in its shutdown); "
            "within each: test class (O: missed, X: missed in the test's shutdown)",
            "records": [r.to_dict() for r in self.records],
            "skipped": [{"record": r, "why": why} for r, why in self.skipped],
            "gross": {**self.gross.to_dict(), "shutdown_s": self.shutdown_s},
            "average": self.average,
        }


class Unscorable(HeartzooError):
    """A record that ends before scoring starts, or whose reference beats all do."""


def compare(
    ref: Annotations,
    test: Annotations,
    *,
    start_s: float = STANDARD_START_S,
    window_s: float = STANDARD_WINDOW_S,
    end: int | None = None,
) -> RecordResult:
    """One record's comparison. `end`: last sample scored (default: the record length when known,
    else the last reference beat)."""
    # inf would pass the sign checks and overflow turning into samples; NaN fails them
    if not (math.isfinite(start_s) and math.isfinite(window_s) and start_s >= 0 and window_s > 0):
        raise HeartzooError(
            f"start must be a finite number >= 0 s and the window one > 0 s, got {start_s} s and {window_s} s"
        )
    if test.fs != ref.fs:
        raise HeartzooError(
            f"reference {ref.file or ref.record or '(unnamed)'} at {ref.fs:g} Hz but test annotations "
            f"{test.file or test.record or '(unnamed)'} at {test.fs:g} Hz"
        )
    first, end = scored_span(ref, test, start_s=start_s, end=end)
    window = int(window_s * ref.fs + 0.5)  # bxb's strtim rounds halves up, not to even
    counts, pairs = match(ref, test, start=first, window=window, end=end)
    last = end if end >= 0 else int(ref.samples[-1])
    shut = sum(max(0, min(off, last) - max(on, first)) for on, off in test.shutdown) / ref.fs
    return RecordResult(ref.record or test.record, Counts(counts), pairs, round(shut, 3))


def scored_span(
    ref: Annotations,
    test: Annotations | None = None,
    *,
    start_s: float = STANDARD_START_S,
    end: int | None = None,
) -> tuple[int, int]:
    """(first, end) samples of `ref`'s record EC57 scores: from `start_s` to `end` (default: the record
    length when known, its `test`'s else, else -1: to the last reference beat). `Unscorable` where the
    record ends, or its reference beats do, before the start."""
    fs, name = ref.fs, ref.record or (test.record if test is not None else "")
    if end is None:
        length = ref.length if ref.length is not None or test is None else test.length
        # no length (None, or 0 from a header without one) means, as for bxb, "to the last reference beat"
        end = length if length else -1
    first = int(start_s * fs + 0.5)  # bxb's strtim rounds halves up, not to even
    hint = (
        " (EC57 does not score the first 5 minutes; a shorter recording needs --start)"
        if start_s == STANDARD_START_S
        else ""
    )
    if end >= 0 and end <= first:
        raise Unscorable(f"record {name}: {end / fs:.1f} s long, but scoring starts at {start_s:g} s" + hint)
    # to the last reference beat with none at or after the start, nothing would be scored (all dashes)
    if end < 0 and not np.any(ref.samples >= first):
        last = (
            f"its last reference beat is at {ref.samples[-1] / fs:.1f} s"
            if len(ref.samples)
            else "no reference beats"
        )
        raise Unscorable(f"record {name}: {last}, but scoring starts at {start_s:g} s{hint}")
    return first, end


def score(pairs, *, start_s: float = STANDARD_START_S, window_s: float = STANDARD_WINDOW_S) -> Report:
    """A report over (reference, test) `Annotations` pairs, one per record. Of several, a record too short
    to score is left out and named in `Report.skipped` (a database's one short record would leave the
    others unscored); a lone one, or every one, is an error."""
    pairs, results, skipped = list(pairs), [], []
    for r, t in pairs:
        try:
            results.append(compare(r, t, start_s=start_s, window_s=window_s))
        except Unscorable as exc:
            if len(pairs) == 1:
                raise
            skipped.append((r.record or t.record or "", str(exc)))
    if not results:
        raise Unscorable("; ".join(why for _, why in skipped))
    return Report(results, start_s, window_s, tuple(skipped))
