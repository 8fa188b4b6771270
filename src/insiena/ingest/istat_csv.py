"""Read an ISTAT CSV export into strings, keeping the line number of every row.

demo.istat.it and esploradati.istat.it files differ in small ways that break a naive `read_csv`:
a quoted title line before the header (or none), a UTF-8 byte-order mark (or none), `;` or `,`,
quoted numbers, a trailing note line, and names such as the comune "None" that pandas would read as
missing. Everything is read as text here; the pandera models coerce and check the values, and every
failure points at the line an analyst opens in an editor.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Callable, NamedTuple

import pandas as pd

from insiena.validation import reject, relpath

BOM = b"\xef\xbb\xbf"


class RawTable(NamedTuple):
    frame: pd.DataFrame  # official headers, string dtype, RangeIndex
    lines: pd.Series  # line of each row in the raw file (1-based), aligned with frame.index
    title: str | None
    notes: tuple[str, ...]
    source: str  # the file as named in messages


def _fields(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep, quotechar='"'), [])


def _fail(name: str, source: str, row: int | str, column: str, check: str, value: str, what: str) -> None:
    reject(name, source, pd.DataFrame([{"file": source, "row": str(row), "column": column, "check": check,
                                        "value": value}]), what=what)


def read_official_csv(path: str | Path, *, name: str, sep: str, title: bool,
                      normalise: Callable[[str], str] | None = None,
                      expected: list[str] | None = None) -> RawTable:
    """Parse one ISTAT CSV; reject encoding, title, separator, column and field-count problems.

    name: the failures file stem (the source id); title: whether a title line precedes the header;
    normalise: applied to each header (e.g. to drop P2/P3 "(v)" markers); expected: headers that must
    all be present (after normalisation).
    """
    source = relpath(path)
    data = Path(path).read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        _fail(name, source, line, "", "encoding utf-8", repr(data[exc.start:exc.start + 8]),
              "not a UTF-8 file")
    raw_lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    while raw_lines and not raw_lines[-1].strip():
        raw_lines.pop()
    if len(raw_lines) < 2:
        _fail(name, source, len(raw_lines), "", "header and at least one data row", "", "empty or truncated file")

    first = _fields(raw_lines[0], sep)
    other = "," if sep == ";" else ";"
    if title and len(first) != 1:
        _fail(name, source, 1, "", "title line before the header", raw_lines[0][:80],
              "missing title line (demo.istat.it files start with a quoted title)")
    if not title and len(first) == 1:
        if len(_fields(raw_lines[0], other)) > 1:
            _fail(name, source, 1, "", f"separator '{sep}'", f"found '{other}'", "wrong separator")
        _fail(name, source, 1, "", "header on line 1 (no title line)", raw_lines[0][:80], "unexpected title line")
    header_at = 1 if title else 0
    header = _fields(raw_lines[header_at], sep)
    if len(header) <= 1:
        value = f"found '{other}'" if len(_fields(raw_lines[header_at], other)) > 1 else raw_lines[header_at][:80]
        _fail(name, source, header_at + 1, "", f"separator '{sep}'", value, "wrong separator")

    # Trailing note lines ("Nota: ...") are one field long; data rows never are.
    end = len(raw_lines)
    while end > header_at + 1 and len(_fields(raw_lines[end - 1], sep)) == 1:
        end -= 1
    notes = tuple(_fields(ln, sep)[0] for ln in raw_lines[end:])

    columns = [normalise(h) if normalise else h for h in header]
    if expected is not None:
        missing = [c for c in expected if c not in columns]
        if missing:
            reject(name, source, pd.DataFrame({"row": str(header_at + 1), "column": missing,
                                               "check": "column present", "value": ""}),
                   what="missing columns")
    body = "\n".join(raw_lines[header_at:end])
    try:
        frame = pd.read_csv(io.StringIO(body), sep=sep, quotechar='"', dtype=str, keep_default_na=False,
                            na_values=[""], skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+), saw (\d+)", str(exc))
        row = header_at + int(match.group(1)) if match else ""
        _fail(name, source, row, "", f"{len(header)} fields per row", match.group(2) if match else str(exc),
              "malformed row")
    frame.columns = columns
    frame = frame.astype("string")
    lines = pd.Series(range(header_at + 2, header_at + 2 + len(frame)), index=frame.index)
    return RawTable(frame, lines, first[0] if title else None, notes, source)
