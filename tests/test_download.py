"""`heartzoo data download` against a real HTTP server on 127.0.0.1 serving a WFDB tree the test writes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_record
from httpserver import FolderServer

from heartzoo.data.download import download_dataset
from heartzoo.errors import DownloadError

RECORDS = ("900", "901", "902")


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A PhysioNet-like folder: records, RECORDS, a subfolder we must not fetch, SHA256SUMS.txt."""
    site = tmp_path / "site"
    for i, r in enumerate(RECORDS):
        write_record(site, r, seconds=30 + i)
    (site / "RECORDS").write_text("\n".join(RECORDS) + "\n")
    (site / "mitdbdir").mkdir()
    (site / "mitdbdir" / "notes.txt").write_text("not a record file")
    files = sorted(p for p in site.rglob("*") if p.is_file())
    lines = [f"{_sha(p)}  {p.relative_to(site).as_posix()}" for p in files]
    (site / "SHA256SUMS.txt").write_text("\n".join(lines) + "\n")
    return site


def test_downloads_and_verifies(remote, tmp_path):
    dest = tmp_path / "data"
    with FolderServer(remote) as srv:
        report = download_dataset("mitdb", dest, base_url=srv.url)
        fetched = {path for path, _ in srv.log}
    assert sorted(report.downloaded) == sorted(
        [f"{r}.{e}" for r in RECORDS for e in ("atr", "dat", "hea")] + ["RECORDS"]
    )
    for name in report.downloaded:
        assert _sha(dest / "mitdb" / name) == _sha(remote / name)
    assert "mitdbdir/notes.txt" not in fetched
    assert not list((dest / "mitdb").glob("*.part"))
    # A second run verifies what is there and fetches nothing but the checksum list.
    with FolderServer(remote) as srv:
        again = download_dataset("mitdb", dest, base_url=srv.url)
        assert [p for p, _ in srv.log] == ["SHA256SUMS.txt"]
    assert again.downloaded == [] and len(again.already_present) == len(report.downloaded)


def test_corrupted_file_is_refused_and_removed(remote, tmp_path):
    dat = remote / "901.dat"
    raw = bytearray(dat.read_bytes())
    raw[100] ^= 0xFF  # the server now serves bytes that do not match SHA256SUMS.txt
    dat.write_bytes(bytes(raw))
    dest = tmp_path / "data"
    with FolderServer(remote) as srv, pytest.raises(DownloadError) as exc:
        download_dataset("mitdb", dest, base_url=srv.url)
    msg = str(exc.value)
    assert "901.dat: sha256" in msg and "does not match the published" in msg and "file removed" in msg
    assert not (dest / "mitdb" / "901.dat").exists()
    assert not (dest / "mitdb" / "901.dat.part").exists()
    assert _sha(dest / "mitdb" / "900.dat") == _sha(remote / "900.dat")  # the good ones landed


def test_resumes_a_partial_file(remote, tmp_path):
    dest = tmp_path / "data" / "mitdb"
    dest.mkdir(parents=True)
    full = (remote / "902.dat").read_bytes()
    (dest / "902.dat.part").write_bytes(full[:1000])
    with FolderServer(remote) as srv:
        download_dataset("mitdb", tmp_path / "data", base_url=srv.url, records=["902"])
        ranges = dict(srv.log)
    assert ranges["902.dat"] == "bytes=1000-"
    assert (dest / "902.dat").read_bytes() == full


def test_connection_dropped_half_way_is_resumed(remote, tmp_path):
    with FolderServer(remote, drop_once={"900.dat"}) as srv:
        download_dataset("mitdb", tmp_path / "data", base_url=srv.url, records=["900"])
        requests = [(p, r) for p, r in srv.log if p == "900.dat"]
    assert len(requests) == 2
    assert requests[0][1] is None and requests[1][1].startswith("bytes=")
    assert _sha(tmp_path / "data" / "mitdb" / "900.dat") == _sha(remote / "900.dat")


def test_server_without_range_support_starts_over(remote, tmp_path):
    dest = tmp_path / "data" / "mitdb"
    dest.mkdir(parents=True)
    (dest / "900.hea.part").write_bytes(b"garbage that is not a prefix")
    with FolderServer(remote, honour_range=False) as srv:
        download_dataset("mitdb", tmp_path / "data", base_url=srv.url, records=["900"])
    assert _sha(dest / "900.hea") == _sha(remote / "900.hea")


def test_missing_file_on_server_is_named(remote, tmp_path):
    (remote / "900.atr").unlink()
    with FolderServer(remote) as srv, pytest.raises(DownloadError, match=r"900.atr: HTTP 404"):
        download_dataset("mitdb", tmp_path / "data", base_url=srv.url, retries=0)


def test_cli_reports_the_bad_file(remote, tmp_path):
    (remote / "900.hea").write_text("tampered\n")
    with FolderServer(remote) as srv:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "heartzoo",
                "data",
                "download",
                "mitdb",
                "--base-url",
                srv.url,
                "--data-dir",
                str(tmp_path / "data"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2
    assert "900.hea: sha256" in proc.stderr and "Traceback" not in proc.stderr


def test_the_folder_list_vouches_only_for_verified_files_and_grows_with_records(remote, tmp_path):
    """The folder's SHA256SUMS.txt: a --records subset adds to it (it used to replace the whole list
    with the subset), and a file that failed is not listed (it used to be, whatever happened)."""
    dest = tmp_path / "data"
    listed = dest / "mitdb" / "SHA256SUMS.txt"
    with FolderServer(remote) as srv:
        download_dataset("mitdb", dest, base_url=srv.url, records=["900"])
        download_dataset("mitdb", dest, base_url=srv.url, records=["901"])
    names = {line.split()[1] for line in listed.read_text().splitlines()}
    assert names == {f"{r}.{e}" for r in ("900", "901") for e in ("atr", "dat", "hea")}
    (remote / "902.dat").write_bytes(b"not the published bytes")
    with FolderServer(remote) as srv, pytest.raises(DownloadError, match=r"902\.dat: sha256"):
        download_dataset("mitdb", dest, base_url=srv.url, records=["902"])
    names = {line.split()[1] for line in listed.read_text().splitlines()}
    assert "902.dat" not in names and {"902.hea", "900.dat"} <= names


def test_an_unknown_record_is_named_and_no_folder_is_left(remote, tmp_path):
    dest = tmp_path / "data"
    with FolderServer(remote) as srv, pytest.raises(DownloadError, match=r"mitdb has no record\(s\) 999"):
        download_dataset("mitdb", dest, base_url=srv.url, records=["900", "999"])
    assert not (dest / "mitdb").exists()
