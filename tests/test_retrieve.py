"""Retrieval from the mirror and from an upstream URL (a local HTTP server on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from insiena.errors import ChecksumMismatch, RetrievalError, UnsafeArchive
from insiena.retrieve import Source, retrieve, safe_extract_member

PAYLOAD = b'"Codice comune";"Comune"\n"052032";"Siena"\n'


def source(path="istat/x.csv", data=PAYLOAD, url=None):
    return Source(id="x", path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data), upstream_url=url)


@pytest.fixture
def dirs(tmp_path):
    mirror, raw = tmp_path / "mirror", tmp_path / "raw"
    (mirror / "istat").mkdir(parents=True)
    raw.mkdir()
    return mirror, raw


@pytest.fixture
def server(tmp_path):
    """Serve tmp_path/www on 127.0.0.1, counting requests per path."""
    www = tmp_path / "www"
    www.mkdir()
    hits: dict[str, int] = {}

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def do_GET(self):
            hits[self.path] = hits.get(self.path, 0) + 1
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()


def test_copies_from_the_mirror_when_the_checksum_matches(dirs):
    mirror, raw = dirs
    (mirror / "istat/x.csv").write_bytes(PAYLOAD)
    done = retrieve(source(), raw, mirror)
    assert (raw / "istat/x.csv").read_bytes() == PAYLOAD
    assert done["origin"].endswith("mirror/istat/x.csv")


def test_checksum_mismatch_names_file_and_both_checksums_and_keeps_the_good_copy(dirs):
    mirror, raw = dirs
    (mirror / "istat/x.csv").write_bytes(PAYLOAD)
    retrieve(source(), raw, mirror)
    corrupted = bytearray(PAYLOAD)
    corrupted[10] ^= 0x01
    (mirror / "istat/x.csv").write_bytes(bytes(corrupted))
    with pytest.raises(ChecksumMismatch) as exc:
        retrieve(source(), raw, mirror, mode="never")
    msg = str(exc.value)
    assert "istat/x.csv" in msg
    assert hashlib.sha256(PAYLOAD).hexdigest() in msg
    assert hashlib.sha256(bytes(corrupted)).hexdigest() in msg
    assert (raw / "istat/x.csv").read_bytes() == PAYLOAD
    assert [p.name for p in (raw / "istat").iterdir()] == ["x.csv"], "no temporary file is left behind"


def test_mismatch_without_earlier_copy_leaves_nothing(dirs):
    mirror, raw = dirs
    (mirror / "istat/x.csv").write_bytes(PAYLOAD + b"extra")
    with pytest.raises(ChecksumMismatch):
        retrieve(source(), raw, mirror, mode="never")
    assert list((raw / "istat").iterdir()) == []


def test_missing_in_mirror_with_downloads_disabled(dirs):
    mirror, raw = dirs
    with pytest.raises(RetrievalError, match="download: never"):
        retrieve(source(url="http://127.0.0.1:9/x.csv"), raw, mirror, mode="never")


def test_downloads_when_the_mirror_lacks_the_file(dirs, server):
    mirror, raw = dirs
    www, base, hits = server
    (www / "x.csv").write_bytes(PAYLOAD)
    done = retrieve(source(url=f"{base}/x.csv"), raw, mirror, mode="fallback", timeout=5, retries=1)
    assert (raw / "istat/x.csv").read_bytes() == PAYLOAD
    assert done["origin"] == f"{base}/x.csv"
    assert hits == {"/x.csv": 1}


def test_download_of_a_changed_upstream_file_fails_the_checksum(dirs, server):
    mirror, raw = dirs
    www, base, _ = server
    (www / "x.csv").write_bytes(PAYLOAD.replace(b"Siena", b"Sienna"))
    with pytest.raises(ChecksumMismatch):
        retrieve(source(url=f"{base}/x.csv"), raw, mirror, mode="always", timeout=5, retries=1)
    assert not (raw / "istat/x.csv").exists()


def test_http_404_fails_without_retrying(dirs, server):
    mirror, raw = dirs
    _, base, hits = server
    with pytest.raises(RetrievalError, match="404"):
        retrieve(source(url=f"{base}/missing.csv"), raw, mirror, mode="always", timeout=5, retries=3)
    assert hits == {"/missing.csv": 1}


def test_zip_member_is_extracted_from_an_upstream_archive(dirs, server):
    mirror, raw = dirs
    www, base, _ = server
    with zipfile.ZipFile(www / "POSAS.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("POSAS_2024_it_052.csv", PAYLOAD)
        zf.writestr("README.txt", b"note")
    retrieve(source(url=f"{base}/POSAS.zip#POSAS_2024_it_052.csv"), raw, mirror, mode="always", timeout=5, retries=1)
    assert (raw / "istat/x.csv").read_bytes() == PAYLOAD


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_zip_with_parent_paths_is_refused(tmp_path):
    archive = _zip(tmp_path / "evil.zip", {"../../etc/evil.csv": b"x", "ok.csv": b"y"})
    with pytest.raises(UnsafeArchive, match=r"\.\./\.\./etc/evil\.csv"):
        safe_extract_member(archive, "ok.csv", tmp_path / "out.csv", 1000)
    assert not (tmp_path / "out.csv").exists() or (tmp_path / "out.csv").stat().st_size == 0
    assert not (tmp_path.parent.parent / "etc" / "evil.csv").exists()


def test_oversized_zip_member_is_refused(tmp_path):
    archive = _zip(tmp_path / "bomb.zip", {"big.csv": b"0" * 200_000})
    with pytest.raises(UnsafeArchive, match="over the limit"):
        safe_extract_member(archive, "big.csv", tmp_path / "out.csv", 100_000)


def test_zip_member_lying_about_its_size_is_stopped_while_inflating(tmp_path):
    archive = tmp_path / "liar.zip"
    _zip(archive, {"big.csv": b"0" * 200_000})
    data = bytearray(archive.read_bytes())
    # Patch the declared uncompressed size (local header offset 22, central directory entry) to 10.
    central = data.rfind(b"PK\x01\x02")
    data[22:26] = (10).to_bytes(4, "little")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive, match="corrupt or lies about its size"):
        safe_extract_member(archive, "big.csv", tmp_path / "out.csv", 100_000)


def test_not_a_zip(tmp_path):
    fake = tmp_path / "fake.zip"
    fake.write_bytes(b"<html>rate limited</html>")
    with pytest.raises(UnsafeArchive, match="not a valid zip"):
        safe_extract_member(fake, "x.csv", tmp_path / "out.csv", 1000)
