"""Bring each raw file into data/raw/ from the mirror or its upstream URL, checksum verified.

Nothing unverified ever reaches data/raw/: bytes go to a temporary file beside the target, are
checked against the registry's sha256 and size, and only then renamed over the target. On any
failure the temporary file is removed and an earlier good copy stays untouched.

An upstream URL may name a member of a zip archive (ISTAT serves zips) with a fragment:
`https://demo.istat.it/data/posas/POSAS_2024_it_Comuni.zip#POSAS_2024_it_Comuni.csv`. Members are
extracted by name only, with path traversal refused and the uncompressed size capped.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import sys
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from insiena.errors import ChecksumMismatch, RetrievalError, UnsafeArchive
from insiena.io import atomic_path

log = logging.getLogger(__name__)
CHUNK = 1 << 20
USER_AGENT = "insiena-retrieve/0.1 (+reproducible pipeline)"


@dataclass(frozen=True)
class Source:
    id: str
    path: str
    sha256: str
    size: int
    upstream_url: str | None = None


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(tmp: Path, src: Source, target: Path, origin: str) -> None:
    actual = sha256_file(tmp)
    size = tmp.stat().st_size
    if actual != src.sha256 or size != src.size:
        raise ChecksumMismatch(
            f"{target}: checksum mismatch for source '{src.id}' retrieved from {origin}: "
            f"expected sha256 {src.sha256} ({src.size} bytes), got {actual} ({size} bytes). "
            f"Nothing was written; an earlier copy, if any, is untouched. If the source was "
            f"deliberately updated, add a new entry to config/sources.csv.")


def safe_extract_member(archive: Path, member: str, dest: Path, max_bytes: int) -> None:
    """Copy one member of a zip to `dest`, refusing traversal, links and oversized content."""
    name = PurePosixPath(member)
    if name.is_absolute() or ".." in name.parts or "\\" in member:
        raise UnsafeArchive(f"{archive}: refused member name {member!r} (absolute or '..' path)")
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise UnsafeArchive(f"{archive}: not a valid zip archive: {exc}") from None
    with zf:
        for info in zf.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.filename.startswith("/") or ".." in parts or "\\" in info.filename:
                raise UnsafeArchive(f"{archive}: refused archive with unsafe member path {info.filename!r}")
        try:
            info = zf.getinfo(member)
        except KeyError:
            raise RetrievalError(f"{archive}: no member {member!r} (members: "
                                 f"{', '.join(i.filename for i in zf.infolist()[:10])})") from None
        if info.file_size > max_bytes:
            raise UnsafeArchive(f"{archive}: member {member!r} declares {info.file_size} bytes, "
                                f"over the limit of {max_bytes} (max_archive_bytes)")
        written = 0
        try:
            with zf.open(info) as src, open(dest, "wb") as out:
                # The declared size can lie (zip bombs): count what is actually inflated.
                for chunk in iter(lambda: src.read(CHUNK), b""):
                    written += len(chunk)
                    if written > max_bytes:
                        raise UnsafeArchive(f"{archive}: member {member!r} inflates past the limit of "
                                            f"{max_bytes} bytes (max_archive_bytes)")
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError) as exc:
            raise UnsafeArchive(f"{archive}: member {member!r} is corrupt or lies about its size: {exc}") from None


def download(url: str, dest: Path, timeout: float, retries: int, max_bytes: int) -> None:
    """GET `url` into `dest`; any non-2xx answer is an error (curl --fail semantics)."""
    last: Exception | None = None
    for attempt in range(1, retries + 1):
        try:
            req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
            with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:
                written = 0
                for chunk in iter(lambda: resp.read(CHUNK), b""):
                    written += len(chunk)
                    if written > max_bytes:
                        raise UnsafeArchive(f"{url}: response exceeds {max_bytes} bytes")
                    out.write(chunk)
            return
        except UnsafeArchive:
            raise
        except urllib.error.HTTPError as exc:
            last = exc
            if 400 <= exc.code < 500 and exc.code != 429:
                break  # a missing or forbidden file will not appear by retrying
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            last = exc
        if attempt < retries:
            # ISTAT blocks clients that retry in a tight loop: back off.
            time.sleep(min(2 ** attempt, 30))
    raise RetrievalError(f"{url}: download failed after {retries} attempt(s): {last}")


def retrieve(src: Source, raw_dir: Path, mirror_dir: Path | None, mode: str = "fallback",
             timeout: float = 60, retries: int = 3, max_bytes: int = 512 * 1024 * 1024) -> dict:
    """Place `src` at raw_dir/src.path, verified. Returns what was done, for the log."""
    target = Path(raw_dir) / src.path
    mirror_file = Path(mirror_dir) / src.path if mirror_dir else None
    use_mirror = mode != "always" and mirror_file is not None and mirror_file.is_file()
    if not use_mirror and (mode == "never" or not src.upstream_url):
        raise RetrievalError(
            f"{target}: source '{src.id}' is not in the mirror ({mirror_file}) and "
            + ("downloads are disabled (download: never)" if mode == "never" else "has no upstream URL"))
    with atomic_path(target) as tmp:
        if use_mirror:
            shutil.copyfile(mirror_file, tmp)
            origin = str(mirror_file)
        else:
            url, _, member = src.upstream_url.partition("#")
            origin = src.upstream_url
            if member:
                with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
                    archive = Path(scratch) / "archive.zip"
                    try:
                        download(url, archive, timeout, retries, max_bytes)
                        safe_extract_member(archive, member, tmp, max_bytes)
                    except UnsafeArchive as exc:
                        # The archive is a temporary file: name the file and the source being retrieved.
                        raise UnsafeArchive(f"{target}: source '{src.id}' from {src.upstream_url}: {exc}. "
                                            f"Nothing was extracted; an earlier copy, if any, is untouched.") from None
            else:
                download(url, tmp, timeout, retries, max_bytes)
        _check(tmp, src, target, origin)
    log.info("retrieved %s from %s (%d bytes, sha256 ok)", target, origin, src.size)
    return {"id": src.id, "target": str(target), "origin": origin, "sha256": src.sha256, "size": src.size}


def read_registry_rows(registry: Path, dataset: str) -> list[Source]:
    """The registry rows of one dataset, read without pandas (retrieval jobs must start fast).
    The registry itself is validated when the workflow starts (insiena.registry)."""
    with open(registry, encoding="utf-8", newline="") as fh:
        return [Source(id=r["id"], path=r["path"], sha256=r["sha256"], size=int(r["size"]),
                       upstream_url=r["upstream_url"] or None)
                for r in csv.DictReader(fh) if r["dataset"] == dataset]


def main(argv: list[str] | None = None) -> int:
    """`python -m insiena.retrieve --dataset posas ...`: the body of the retrieve rules."""
    p = argparse.ArgumentParser(prog="python -m insiena.retrieve")
    p.add_argument("--registry", required=True, type=Path)
    p.add_argument("--dataset", required=True)
    p.add_argument("--raw-dir", required=True, type=Path)
    p.add_argument("--mirror-dir", required=True, type=Path)
    p.add_argument("--mode", choices=["never", "fallback", "always"], default="fallback")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--max-bytes", type=int, default=512 * 1024 * 1024)
    p.add_argument("--log", type=Path, required=True)
    a = p.parse_args(argv)
    a.log.parent.mkdir(parents=True, exist_ok=True)
    done = []
    rows = read_registry_rows(a.registry, a.dataset)
    if not rows:
        print(f"ERROR: dataset '{a.dataset}' has no row in {a.registry}", file=sys.stderr)
        return 1
    try:
        for src in rows:
            done.append(retrieve(src, a.raw_dir, a.mirror_dir, a.mode, a.timeout, a.retries, a.max_bytes))
    except RetrievalError as exc:
        a.log.write_text(json.dumps(done, indent=2) + f"\nERROR: {exc}\n", encoding="utf-8")
        print(f"ERROR: {exc}", file=sys.stderr)
        return 1
    a.log.write_text(json.dumps(done, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
