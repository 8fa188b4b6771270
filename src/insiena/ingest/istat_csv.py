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


def _is_note(line: str, sep: str) -> bool:
    """A trailing note ("Nota: ...") is one closed quoted field of words. A data row cut short after
    its first field ("052032") or inside it is not a note: it must reach the field-count check."""
    text = line.strip()
    return (len(text) > 1 and text[0] == '"' and text[-1] == '"' and len(_fields(text, sep)) == 1
            and re.search(r"[A-Za-zÀ-ÿ]{3}", text) is not None)


def bad_byte_location(data: bytes, start: int, sep: str, title: bool) -> tuple[int, str]:
    """(line, column) of the byte at `start` that is not UTF-8. The column is the header of the field
    the byte falls in; on the header line, that header's own text; on a title line, none."""
    line_start = data.rfind(b"\n", 0, start) + 1
    line_end = data.find(b"\n", start)
    line = data[:start].count(b"\n") + 1
    index = len(_fields(data[line_start:start].decode("utf-8", errors="replace") + "x", sep)) - 1
    header_at = 1 if title else 0
    if title and line == 1:
        return line, ""
    if line == header_at + 1:
        text = data[line_start:line_end if line_end >= 0 else len(data)].decode("latin-1")
        names = _fields(text.lstrip("\ufeff").rstrip("\r"), sep)
    else:
        lines = data.split(b"\n", header_at + 1)
        names = _fields(lines[header_at].decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r"), sep)
    return line, names[index] if index < len(names) else ""


def _check_fields(body_lines: list[str], header: list[str], sep: str, first_line: int) -> tuple[int, str, str] | None:
    """The first data row whose field count differs from the header's: (line, column, value).
    A row cut short (a truncated download) names its first missing column."""
    reader = csv.reader(body_lines, delimiter=sep, quotechar='"', strict=True)
    n = len(header)
    try:
        for i, record in enumerate(reader):
            if len(record) != n:
                column = header[len(record)] if len(record) < n else f"(field {n + 1}, after {header[-1]})"
                return first_line + i, column, f"{len(record)} fields: {sep.join(record)[:80]}"
    except csv.Error as exc:
        return first_line + reader.line_num - 1, "", f"unclosed quote ({exc})"
    return None


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
        line, column = bad_byte_location(data, exc.start, sep, title)
        _fail(name, source, line, column, "encoding utf-8", repr(data[exc.start:exc.start + 8]),
              "not a UTF-8 file (Latin-1 or Windows-1252? re-export it as UTF-8)")
    raw_lines = [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]
    while raw_lines and not raw_lines[-1].strip():
        raw_lines.pop()
    if len(raw_lines) < 2:
        _fail(name, source, max(len(raw_lines), 1), "", "header and at least one data row",
              f"{len(data)} bytes", "empty or truncated file")

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
    while end > header_at + 1 and _is_note(raw_lines[end - 1], sep):
        end -= 1
    notes = tuple(_fields(ln, sep)[0] for ln in raw_lines[end:])

    columns = [normalise(h) if normalise else h for h in header]
    if expected is not None:
        missing = [c for c in expected if c not in columns]
        if missing:
            reject(name, source, pd.DataFrame({"row": str(header_at + 1), "column": missing,
                                               "check": "column present", "value": ""}),
                   what="missing columns")
    # pandas pads a short row with blanks (read as "not reported") and names only the line of a long
    # one: count the fields of every row first, so that a truncated row is reported as such.
    bad = _check_fields(raw_lines[header_at + 1:end], header, sep, header_at + 2)
    if bad:
        line, column, value = bad
        _fail(name, source, line, column, f"{len(header)} fields per row", value, "malformed row")
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
