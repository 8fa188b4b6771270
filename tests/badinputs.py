"""Helpers of tests/test_bad_inputs.py: one good build copied per case, a scratch mirror, mutations.

Every bad input is a real file of the mirror changed a little. The scratch mirror is a tree of
symbolic links to the real one, so that a case replaces one link with the mutated file and leaves
the read-only mirror alone.

Snakemake re-runs a job whose parameters or input list change, and the retrieve rules carry the
mirror's absolute path in both. So the good build and every case run in the same folder
(`Lab.work`, with its mirror inside): a case starts from a byte-for-byte, timestamp-preserving copy
of the good build, and only the jobs that read the mutated file run again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import SNAKEMAKE, copy_project, mirror_dir

SMALL = 1 << 20  # files below this size are compared by content when restoring a build
# What an earlier good run produced and a failed run must leave untouched.
PROTECTED = ("data/processed", "results")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(project: Path, tops=PROTECTED) -> dict[str, str]:
    """sha256 of every file under `tops`.

    Not the modification times: when a job fails, Snakemake puts the earlier outputs of an `update`
    rule back from .snakemake/backups by copying them, so their bytes are the good run's but their
    time is the failed run's."""
    out = {}
    for top in tops:
        for path in sorted((project / top).rglob("*")):
            if path.is_file():
                out[path.relative_to(project).as_posix()] = sha256(path)
    return out


def symlink_mirror(real: Path, dest: Path) -> None:
    for path in sorted(real.rglob("*")):
        if path.is_file():
            link = dest / path.relative_to(real)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)


def _entries(top: Path) -> dict[str, os.stat_result]:
    out = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(folder, name)
            out[path.relative_to(top).as_posix()] = path.lstat()
    return out


def sync_tree(src: Path, dst: Path) -> None:
    """Make dst identical to src (content, links, modification times), copying only what differs."""
    import stat as st

    want, have = _entries(src), _entries(dst)
    for rel in sorted(set(have) - set(want), reverse=True):  # children before their folder
        path = dst / rel
        if st.S_ISDIR(have[rel].st_mode):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_symlink() or path.exists():
            path.unlink()
    for rel in sorted(want):
        s, d = want[rel], have.get(rel)
        source, target = src / rel, dst / rel
        if st.S_ISDIR(s.st_mode):
            if d is not None and not st.S_ISDIR(d.st_mode):
                target.unlink()
            target.mkdir(exist_ok=True)
            continue
        same = (d is not None and st.S_IFMT(d.st_mode) == st.S_IFMT(s.st_mode) and d.st_size == s.st_size
                and d.st_mtime_ns == s.st_mtime_ns)
        if same and st.S_ISLNK(s.st_mode):
            same = os.readlink(source) == os.readlink(target)
        elif same and s.st_size < SMALL:
            # An edit that keeps size and time (the registry, see Lab.set_registry) shows in the bytes.
            same = source.read_bytes() == target.read_bytes()
        if same:
            continue
        if d is not None:
            if st.S_ISDIR(d.st_mode):
                shutil.rmtree(target)
            else:
                target.unlink()
        if st.S_ISLNK(s.st_mode):
            target.symlink_to(os.readlink(source))
            os.utime(target, ns=(s.st_atime_ns, s.st_mtime_ns), follow_symlinks=False)
        else:
            shutil.copy2(source, target)
    # Folder times last: filling a folder changes its time.
    for rel in sorted(want, reverse=True):
        if st.S_ISDIR(want[rel].st_mode):
            os.utime(dst / rel, ns=(want[rel].st_atime_ns, want[rel].st_mtime_ns))


@dataclass
class Run:
    returncode: int
    output: str  # stdout + stderr, as the analyst sees them in the terminal


class Lab:
    """A good build at a fixed path, restored before each case."""

    def __init__(self, base: Path):
        self.base = base
        self.work = base / "work"
        self.good = base / "good"
        self.mirror = self.work / "mirror"

    def env(self) -> dict[str, str]:
        return {**os.environ, "INSIENA_MIRROR": str(self.mirror), "INSIENA_ROOT": str(self.work),
                "MPLBACKEND": "Agg"}

    def build(self) -> None:
        copy_project(self.work)
        symlink_mirror(mirror_dir(), self.mirror)
        # The good build also holds the input summary, so that `check_inputs` is incremental too.
        run = self.snakemake("all", "check_inputs")
        if run.returncode != 0:
            raise AssertionError(f"good build failed:\n{run.output[-6000:]}")
        shutil.copytree(self.work, self.good, symlinks=True)

    def restore(self) -> Path:
        """Make `work` a copy of the good build again, timestamps included (nothing may look newer
        than it is). Only what differs is copied: a case changes a few files of a 100 MB tree."""
        if not self.work.exists():
            shutil.copytree(self.good, self.work, symlinks=True)
        else:
            sync_tree(self.good, self.work)
        return self.work

    def snakemake(self, *args: str, timeout: int = 900) -> Run:
        proc = subprocess.run([SNAKEMAKE, "--cores", "2", *args], cwd=self.work, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)
        return Run(proc.returncode, proc.stdout + proc.stderr)

    def insiena(self, *args: str, timeout: int = 900) -> Run:
        proc = subprocess.run([sys.executable, "-m", "insiena", *args], cwd=self.work, env=self.env(),
                              capture_output=True, text=True, timeout=timeout)
        return Run(proc.returncode, proc.stdout + proc.stderr)

    # -- the scratch mirror and the registry ------------------------------------------------------

    def registry_row(self, source_id: str) -> dict[str, str]:
        import csv
        with open(self.work / "config/sources.csv", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["id"] == source_id:
                    return row
        raise KeyError(source_id)

    def mirror_file(self, source_id: str) -> Path:
        return self.mirror / self.registry_row(source_id)["path"]

    def raw_file(self, source_id: str) -> Path:
        return self.work / "data/raw" / self.registry_row(source_id)["path"]

    def read(self, source_id: str) -> bytes:
        return self.mirror_file(source_id).read_bytes()

    def put(self, source_id: str, data: bytes, register: bool = True) -> Path:
        """Replace a mirror file; with `register`, record its new sha256 and size as an analyst
        registering a new version would, so that the parser and the validator must catch it."""
        target = self.mirror_file(source_id)
        target.unlink()
        target.write_bytes(data)
        if register:
            self.set_registry(source_id, sha256=hashlib.sha256(data).hexdigest(), size=str(len(data)))
        return target

    def set_registry(self, source_id: str, **fields: str) -> None:
        """Edit one registry row in place (text replacement: the other rows keep their bytes).

        The file's timestamp is kept: jobs that read the whole registry (the report's source list)
        would otherwise re-run beside the failing ingest and make the outcome depend on scheduling.
        Which jobs a changed checksum or URL re-runs is decided by the retrieve rule's parameters.
        """
        path = self.work / "config/sources.csv"
        stat = path.stat()
        row = self.registry_row(source_id)
        lines = path.read_text(encoding="utf-8").split("\n")
        index = next(i for i, ln in enumerate(lines) if ln.startswith(source_id + ","))
        line = lines[index]
        for key, value in fields.items():
            old = row[key]
            assert old and line.count(old) == 1, f"cannot edit {key} of {source_id} in place"
            line = line.replace(old, value)
        lines[index] = line
        path.write_text("\n".join(lines), encoding="utf-8")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


# -- mutations of CSV text -------------------------------------------------------------------------

BOM = b"\xef\xbb\xbf"


def split(data: bytes) -> tuple[bytes, list[str]]:
    """(BOM or b"", lines without their line break); the last element is "" when the file ends
    with a line break."""
    bom = BOM if data.startswith(BOM) else b""
    return bom, data[len(bom):].decode("utf-8").split("\n")


def join(bom: bytes, lines: list[str], encoding: str = "utf-8") -> bytes:
    return bom + "\n".join(lines).encode(encoding)


def find_line(lines: list[str], *starts: str) -> int:
    """Index of the only line starting with one of `starts` (a row picked by its key)."""
    hits = [i for i, ln in enumerate(lines) if ln.startswith(starts)]
    assert len(hits) == 1, f"{starts}: {len(hits)} lines"
    return hits[0]


def column_index(header: str, sep: str, name: str) -> int:
    """Index of a header, matched as the parser matches P2/P3 headers (without their "(v)" markers)."""
    from insiena.ingest.istat_bilancio import normalise_header

    names = [normalise_header(h.strip('"')) for h in header.split(sep)]
    return names.index(name)
