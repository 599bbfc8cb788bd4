"""Fetch a PhysioNet database, verified against its SHA256SUMS.txt, resuming partial files.

Each file is streamed into `<name>.part` and renamed into place only once its sha256 matches the
published list, so the data folder never holds a half-downloaded or corrupted file under its real name.
A dropped connection resumes from the bytes already on disk (HTTP Range); a file that still does not
match its checksum is removed and reported by name.
"""

from __future__ import annotations

import http.client
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths
from ..errors import DownloadError
from ..io import atomic_path, sha256_of

CHUNK = 1 << 16
OnProgress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class RemoteDataset:
    name: str
    url: str
    folder: str
    include: str  # regular expression over file names in SHA256SUMS.txt
    checksums: str = "SHA256SUMS.txt"


DATASETS: dict[str, RemoteDataset] = {
    "mitdb": RemoteDataset(
        name="mitdb",
        url="https://physionet.org/files/mitdb/1.0.0/",
        folder="mitdb",
        include=r"^(\d{3}\.(hea|dat|atr)|RECORDS|ANNOTATORS)$",
    ),
    "svdb": RemoteDataset(
        name="svdb",
        url="https://physionet.org/files/svdb/1.0.0/",
        folder="svdb",
        include=r"^(\d{3}\.(hea|dat|atr)|RECORDS|ANNOTATORS)$",
    ),
    "nstdb": RemoteDataset(
        name="nstdb",
        url="https://physionet.org/files/nstdb/1.0.0/",
        folder="nstdb_noise",
        include=r"^(bw|em|ma)\.(hea|dat)$",
    ),
}


def remote_dataset(name: str) -> RemoteDataset:
    if name not in DATASETS:
        raise DownloadError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return DATASETS[name]


@dataclass
class DownloadReport:
    folder: Path
    downloaded: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def parse_checksums(text: str, source: str) -> dict[str, str]:
    """`sha256  name` lines -> {name: sha256}; a malformed line is an error naming it."""
    out: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = re.fullmatch(r"([0-9a-fA-F]{64})\s+\*?(.+?)\s*", line)
        if not m:
            raise DownloadError(f"{source}: line {i} is not '<sha256>  <file>': {line[:80]!r}")
        out[m.group(2)] = m.group(1).lower()
    return out


class _SameOrigin(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme, host and port: a server is not allowed to send us
    to fetch from somewhere else."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        a, b = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(newurl)
        if (a.scheme, a.hostname, a.port) != (b.scheme, b.hostname, b.port):
            raise DownloadError(f"{req.full_url}: refused a redirect to another host ({newurl})")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def open_url(url: str | urllib.request.Request, timeout: float, *, same_origin: bool = False):
    opener = urllib.request.build_opener(_SameOrigin) if same_origin else urllib.request.build_opener()
    return opener.open(url, timeout=timeout)


def fetch_bytes(url: str, timeout: float, *, max_bytes: int, same_origin: bool = False) -> bytes:
    """The body of `url`, refused past `max_bytes`."""
    try:
        with open_url(url, timeout, same_origin=same_origin) as resp:
            data = resp.read(max_bytes + 1)
    except DownloadError:
        raise
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise DownloadError(f"cannot fetch {url}: {exc}") from None
    except ValueError as exc:  # not a URL at all: a folder's path, say
        raise DownloadError(
            f"cannot fetch {url}: {exc} (heartzoo fetches http://, https:// and file:// addresses)"
        ) from None
    if len(data) > max_bytes:
        raise DownloadError(f"{url}: refused, larger than {max_bytes:,} bytes")
    return data


def _fetch_text(url: str, timeout: float) -> str:
    return fetch_bytes(url, timeout, max_bytes=64 << 20).decode("utf-8", errors="replace")


def fetch_resumable(
    url: str,
    part: Path,
    timeout: float,
    retries: int,
    name: str,
    on_progress: OnProgress | None,
    *,
    max_bytes: int | None = None,
    same_origin: bool = False,
) -> None:
    """Stream `url` into `part`, resuming from its current size after a dropped connection. With
    `max_bytes`, a body (or a Content-Length) past it is refused and the partial file removed."""
    last_error: Exception | None = None
    for attempt in range(retries + 1):
        have = part.stat().st_size if part.exists() else 0
        req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with open_url(req, timeout, same_origin=same_origin) as resp:
                if resp.status == 206:
                    mode, done = "ab", have
                else:  # the server ignored the range: start over
                    mode, done = "wb", 0
                length = resp.headers.get("Content-Length")
                if length is not None and not length.strip().isdigit():
                    raise DownloadError(
                        f"{name}: refused, the server's Content-Length {length[:40]!r} is no size"
                    )
                total = done + int(length) if length is not None else None
                if max_bytes is not None and total is not None and total > max_bytes:
                    raise _TooLarge(
                        f"{name}: refused, the server announces {total:,} bytes and the "
                        f"index lists {max_bytes:,}"
                    )
                with open(part, mode) as out:
                    while True:
                        block = resp.read(CHUNK)
                        if not block:
                            break
                        done += len(block)
                        if max_bytes is not None and done > max_bytes:
                            raise _TooLarge(
                                f"{name}: refused, the server sent more than the "
                                f"{max_bytes:,} bytes the index lists"
                            )
                        out.write(block)
                        if on_progress:
                            on_progress(name, done, total)
                if total is not None and done < total:
                    raise ConnectionError(f"connection closed after {done} of {total} bytes")
                return
        except _TooLarge as exc:
            part.unlink(missing_ok=True)
            raise DownloadError(str(exc)) from None
        except DownloadError:
            raise
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and have:  # our partial file is not a prefix the server knows: restart
                part.unlink()
                last_error = exc
                continue
            raise DownloadError(f"{name}: HTTP {exc.code} from {url}") from None
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
            OSError,
        ) as exc:
            last_error = exc
            time.sleep(min(0.2 * 2**attempt, 2.0))
    raise DownloadError(f"{name}: download from {url} failed after {retries + 1} attempts: {last_error}")


class _TooLarge(Exception):
    pass


def download_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    base_url: str | None = None,
    records: list[str] | None = None,
    timeout: float = 60.0,
    retries: int = 3,
    on_progress: OnProgress | None = None,
) -> DownloadReport:
    """Download dataset `name` into `<data_dir>/<folder>`; raise `DownloadError` naming any bad file.

    Files already present with the right checksum are kept; the others are fetched (resuming any
    `.part` left by an interrupted run) and verified before they take their real name.
    """
    ds = remote_dataset(name)
    url = (base_url or ds.url).rstrip("/") + "/"
    folder = paths.data_dir(data_dir) / ds.folder
    sums = parse_checksums(_fetch_text(url + ds.checksums, timeout), url + ds.checksums)
    pattern = re.compile(ds.include)
    files = {f: h for f, h in sums.items() if "/" not in f and ".." not in f and pattern.match(f)}
    wanted = {f: h for f, h in files.items() if records is None or f.split(".")[0] in records}
    unknown = sorted(set(records or ()) - {f.split(".")[0] for f in files})
    if unknown:
        shown = ", ".join(unknown[:8]) + (" ..." if len(unknown) > 8 else "")
        raise DownloadError(f"{url}{ds.checksums}: {name} has no record(s) {shown}")
    if not wanted:
        raise DownloadError(f"{url}{ds.checksums} lists no files of {name} (matching {ds.include})")
    folder.mkdir(parents=True, exist_ok=True)  # only once there is something to fetch into it
    report = DownloadReport(folder)
    for fname, expected in sorted(wanted.items()):
        dest = folder / fname
        if dest.is_file() and sha256_of(dest) == expected:
            report.already_present.append(fname)
            continue
        if dest.exists():  # present but corrupted: it must not keep its real name meanwhile
            dest.unlink()
        part = dest.with_name(dest.name + ".part")
        try:
            fetch_resumable(url + fname, part, timeout, retries, fname, on_progress)
        except DownloadError as exc:
            report.failed[fname] = str(exc)
            continue
        got = sha256_of(part)
        if got != expected:
            part.unlink()
            report.failed[fname] = (
                f"{fname}: sha256 {got} does not match the published {expected}; file removed"
            )
            continue
        os.replace(part, dest)
        report.downloaded.append(fname)
    # the folder's own list: what it held before, with the files verified now (a --records subset
    # added to it, not replacing it; a file that failed not vouched for)
    listed = folder / ds.checksums
    try:
        kept = parse_checksums(listed.read_text(encoding="utf-8"), str(listed)) if listed.is_file() else {}
    except (DownloadError, OSError, UnicodeDecodeError):
        kept = {}  # a damaged list is rewritten from what is verified
    kept = {f: h for f, h in kept.items() if f not in report.failed}
    kept.update({f: wanted[f] for f in (*report.already_present, *report.downloaded)})
    with atomic_path(listed) as tmp:
        tmp.write_text("".join(f"{h}  {f}\n" for f, h in sorted(kept.items())))
    if report.failed:
        lines = "\n".join(f"  - {msg}" for msg in report.failed.values())
        err = DownloadError(f"{len(report.failed)} file(s) of {name} failed:\n{lines}")
        err.report = report  # type: ignore[attr-defined]
        raise err
    return report
