"""WFDB signal files read where they lie (`stored_samples`): the two formats long recordings come in, 16
(little-endian int16: a patch such as Icentia11k's, CinC 2017's `.mat` after its preamble) and 212 (two
12-bit samples in three bytes: MIT-BIH's, and its long-term databases', a day or more a record). wfdb's
reader holds several int64 and float64 copies of a whole file, gigabytes for a patch's week; these give
one lead's digital samples a stretch at a time, the values wfdb reads (`records.read_signal` converts them
an hour at a time)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class Packed212:
    """One signal of a format-212 file, decoded where it is sliced: `lead[a:b]` is its samples a..b-1
    (int16, -2048...2047), read from the bytes that hold them."""

    def __init__(self, dat: Path, offset: int, length: int, signals: int, position: int) -> None:
        self.length, self.signals, self.position = length, signals, position
        size = -(-length * signals * 3 // 2)  # 3 bytes a pair of samples, 2 for a last odd one
        self.raw = np.memmap(dat, dtype=np.uint8, mode="r", offset=offset, shape=(size,))

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, part: slice) -> np.ndarray:
        a, b, step = part.indices(self.length)
        if step != 1:
            raise ValueError("a stored signal is read in stretches")
        b = max(a, b)
        first, last = a * self.signals, b * self.signals  # samples of every signal, in frame order
        p0, p1 = first // 2, -(-last // 2)  # the pairs that hold them
        raw = self.raw[3 * p0 : 3 * p1]
        bytes3 = np.zeros(3 * (p1 - p0), np.int16)
        bytes3[: len(raw)] = raw
        t = bytes3.reshape(-1, 3)
        pairs = np.empty((len(t), 2), np.int16)
        pairs[:, 0] = t[:, 0] | ((t[:, 1] & 0x0F) << 8)
        pairs[:, 1] = t[:, 2] | ((t[:, 1] & 0xF0) << 4)
        flat = pairs.reshape(-1)
        flat[flat >= 2048] -= 4096  # 12-bit two's complement
        frames = flat[first - 2 * p0 : last - 2 * p0].reshape(-1, self.signals)
        return frames[:, self.position]


def stored_samples(header, ch: int, dat: Path) -> np.ndarray | Packed212 | None:
    """Signal `ch`'s digital samples where they lie on disk (a memmap column for format 16, `Packed212` for
    212), for a file whose size `records._check_dat_size` has checked, one sample of each of its signals a
    frame and no skew; None for any other layout, which wfdb reads."""
    in_file = [i for i, f in enumerate(header.file_name) if f == header.file_name[ch]]
    fmt = str(header.fmt[ch])
    spf = header.samps_per_frame or [1] * len(header.file_name)
    skew = header.skew or [0] * len(header.file_name)
    length = int(header.sig_len or 0)
    if (
        fmt not in ("16", "212")
        or not length
        or any(str(header.fmt[i]) != fmt or (spf[i] or 1) != 1 or (skew[i] or 0) != 0 for i in in_file)
    ):
        return None
    offset = int((header.byte_offset or [0] * (ch + 1))[ch] or 0)
    if fmt == "212":
        return Packed212(dat, offset, length, len(in_file), in_file.index(ch))
    frames = np.memmap(dat, dtype="<i2", mode="r", offset=offset, shape=(length, len(in_file)))
    return frames[:, in_file.index(ch)]
