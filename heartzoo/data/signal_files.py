"""A signal left on disk and read where it is sliced (`StoredLead`), and the WFDB signal files read that
way (`stored_samples`): the formats long recordings come in, 16 (little-endian int16: a patch such as
Icentia11k's, CinC 2017's `.mat` after its preamble) and 212 (two 12-bit samples in three bytes:
MIT-BIH's, and its long-term databases', a day or more a record), and the other formats of whole bytes a
sample (24, 32, 61, 80, 160). wfdb's reader holds several int64 and float64 copies of a whole file,
gigabytes for a patch's week; these give one lead's digital samples a stretch at a time, the values wfdb
reads (`records.read_signal` checks them an hour at a time, and converts them where they are sliced)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class StoredLead:
    """A signal left on disk and read where it is sliced: `lead[a:b]` is `read(a, b)`, its samples a..b-1
    (the ISHNE and EDF readers give one in mV as float64, `stored_samples` one in a format's digital
    units), so that a recording of days is never read whole at once."""

    length: int
    read: Callable[[int, int], np.ndarray]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, part: slice) -> np.ndarray:
        start, stop, step = part.indices(self.length)
        if step != 1:
            raise ValueError("a stored signal is read in stretches")
        return self.read(start, max(start, stop))


def packed_212(dat: Path, offset: int, length: int, signals: int, position: int) -> StoredLead:
    """Signal `position` of `signals` in a format-212 file (two 12-bit samples in three bytes, frame by
    frame), decoded from the bytes that hold the stretch asked for (int16, -2048...2047)."""
    size = -(-length * signals * 3 // 2)  # 3 bytes a pair of samples, 2 for a last odd one
    raw = np.memmap(dat, dtype=np.uint8, mode="r", offset=offset, shape=(size,))

    def read(a: int, b: int) -> np.ndarray:
        first, last = a * signals, b * signals  # samples of every signal, in frame order
        p0, p1 = first // 2, -(-last // 2)  # the pairs that hold them
        held = raw[3 * p0 : 3 * p1]
        t = np.zeros(3 * (p1 - p0), np.int16)
        t[: len(held)] = held
        t = t.reshape(-1, 3)
        pairs = np.empty((len(t), 2), np.int16)
        pairs[:, 0] = t[:, 0] | ((t[:, 1] & 0x0F) << 8)
        pairs[:, 1] = t[:, 2] | ((t[:, 1] & 0xF0) << 4)
        flat = pairs.reshape(-1)
        flat[flat >= 2048] -= 4096  # 12-bit two's complement
        return flat[first - 2 * p0 : last - 2 * p0].reshape(-1, signals)[:, position]

    return StoredLead(length, read)


#: WFDB's formats of one whole number of bytes a sample: (numpy type on disk, the offset that makes it
#: signed: 80 and 160 are offset binary)
FIXED = {"16": ("<i2", 0), "61": (">i2", 0), "32": ("<i4", 0), "80": ("u1", 128), "160": ("<u2", 32768)}


def packed_24(dat: Path, offset: int, length: int, signals: int, position: int) -> StoredLead:
    """Signal `position` of `signals` in a format-24 file (little-endian 24-bit two's complement), decoded
    from the bytes of the stretch asked for (int32)."""
    raw = np.memmap(dat, dtype=np.uint8, mode="r", offset=offset, shape=(length, signals, 3))

    def read(a: int, b: int) -> np.ndarray:
        return int24(raw[a:b, position])

    return StoredLead(length, read)


def int24(raw: np.ndarray) -> np.ndarray:
    """Little-endian 24-bit two's complement samples, (n, 3) bytes, as int32 (WFDB's format 24, BDF's)."""
    t = np.asarray(raw).astype(np.int32)
    v = t[:, 0] | (t[:, 1] << 8) | (t[:, 2] << 16)
    return np.where(v >= 1 << 23, v - (1 << 24), v).astype(np.int32)


def _fixed(dat: Path, fmt: str, offset: int, length: int, signals: int, position: int):
    dtype, zero = FIXED[fmt]
    column = np.memmap(dat, dtype=dtype, mode="r", offset=offset, shape=(length, signals))[:, position]
    if not zero:
        return column
    return StoredLead(length, lambda a, b: column[a:b].astype(np.int32) - zero)


def stored_samples(header, ch: int, dat: Path) -> np.ndarray | StoredLead | None:
    """Signal `ch`'s digital samples where they lie on disk (a memmap column for formats 16, 61 and 32,
    one offset from its stored values for 80 and 160, `packed_24` and `packed_212` for 24 and 212), for a
    file whose size `records._check_dat_size` has checked, one sample of each of its signals a frame and
    no skew; None for any other layout or format (8's differences, 310 and 311's packing, FLAC), which
    wfdb reads."""
    in_file = [i for i, f in enumerate(header.file_name) if f == header.file_name[ch]]
    fmt = str(header.fmt[ch])
    spf = header.samps_per_frame or [1] * len(header.file_name)
    skew = header.skew or [0] * len(header.file_name)
    length = int(header.sig_len or 0)
    if (
        fmt not in (*FIXED, "24", "212")
        or not length
        or any(str(header.fmt[i]) != fmt or (spf[i] or 1) != 1 or (skew[i] or 0) != 0 for i in in_file)
    ):
        return None
    offset = int((header.byte_offset or [0] * (ch + 1))[ch] or 0)
    where = (dat, offset, length, len(in_file), in_file.index(ch))
    if fmt == "212":
        return packed_212(*where)
    if fmt == "24":
        return packed_24(*where)
    return _fixed(dat, fmt, *where[1:])


def every_sample_sum(record: Path, ch: int) -> int:
    """The sum of every stored sample of signal `ch` of the WFDB `record` (its path without .hea), several
    to a frame included: what its header's checksum sums, where the lead is read as each frame's mean."""
    import wfdb

    every = wfdb.rdrecord(str(record), channels=[ch], physical=False, smooth_frames=False)
    return int(np.sum(every.e_d_signal[0], dtype=np.int64))
