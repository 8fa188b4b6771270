"""Run pandera models lazily and turn their failures into a file an analyst can read.

A rejected input stops the run with one message naming the file, the first failing rows, columns
and checks, and the path of the full list of failure cases (logs/validation/<name>.failures.csv).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pandera.errors

from insiena.errors import InputRejected
from insiena.io import write_csv
from insiena.paths import project_root

FAILURE_COLUMNS = ["file", "row", "column", "check", "value"]
# pandera's checks of the header itself (a column the model does not know, or one it lacks).
COLUMN_CHECKS = ("column_in_schema", "column_in_dataframe")


def failures_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "logs" / "validation"


def failures_path(name: str, root: Path | None = None) -> Path:
    return failures_dir(root) / f"{name}.failures.csv"


def reject(name: str, source: str, failures: pd.DataFrame, what: str = "failed validation",
           root: Path | None = None) -> None:
    """Write `failures` (FAILURE_COLUMNS) and raise InputRejected with a readable summary."""
    failures = failures.reindex(columns=FAILURE_COLUMNS).astype("string")
    failures["file"] = failures["file"].fillna(source)
    path = failures_path(name, root)
    write_csv(path, failures, sort_by=[])
    lines = []
    for rec in failures.head(5).itertuples(index=False):
        # A row absent from the file (a missing comune) has no line; a problem of a whole line (the
        # title, the separator, the encoding of a title) has no column: say so rather than print blanks.
        row = f"row {rec.row}" if _given(rec.row) else "row (absent)"
        column = f"column {rec.column}" if _given(rec.column) else "whole line"
        lines.append(f"{row}, {column}: check '{rec.check}' failed for value {rec.value}")
    more = f" (+{len(failures) - 5} more)" if len(failures) > 5 else ""
    # The failures file relative to the project, as the analyst's shell sees it from the project root.
    raise InputRejected(f"{source}: {what}: " + "; ".join(lines) + more
                        + f". All failure cases: {relpath(path, root)}", failures_path=str(path))


def _given(value) -> bool:
    return not (value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) or value == "")


def validate(df: pd.DataFrame, model, *, name: str, source: str, row_offset: pd.Series | None = None,
             root: Path | None = None) -> pd.DataFrame:
    """Validate lazily; return the validated frame or raise InputRejected.

    `row_offset`, aligned with df's index, maps each row to its line number in the raw file so that
    failure cases point at the line an analyst opens in an editor.
    """
    try:
        return model.validate(df, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases.copy()
        # The header is the line above the first data row: where an extra or missing column is.
        header = str(int(row_offset.min()) - 1) if row_offset is not None and len(row_offset) else ""
        records = cases.to_dict("records")
        missing = any(r.get("check") == "column_in_dataframe" for r in records)
        rows = []
        for rec in records:
            idx = rec.get("index")
            line = None
            if idx is not None and not (isinstance(idx, float) and pd.isna(idx)):
                line = int(row_offset.loc[idx]) if row_offset is not None and idx in row_offset.index else idx
            case = rec.get("failure_case")
            if rec.get("check") in COLUMN_CHECKS:
                # pandera names the model as the column and the offending header as the value.
                rows.append({"file": source, "row": header, "column": str(case), "check": str(rec.get("check")),
                             "value": "(extra column)" if rec.get("check") == "column_in_schema" else "(missing)"})
                continue
            if missing and str(case).startswith("KeyError("):
                continue  # a frame check that could not run for want of a column: not a failure of its own
            # A dataframe-level check that returns a boolean frame reports each failing row as a dict
            # {column: value} of its failing cells: one failure per cell names the right column.
            cells = case.items() if isinstance(case, dict) else [(rec.get("column"), case)]
            for column, value in cells:
                rows.append({
                    "file": source,
                    "row": "" if line is None else str(line),
                    "column": "" if column is None else str(column),
                    "check": str(rec.get("check")),
                    "value": str(value),
                })
        reject(name, source, pd.DataFrame(rows, columns=FAILURE_COLUMNS), root=root)
    raise AssertionError("unreachable")


def relpath(path: str | os.PathLike, root: Path | None = None) -> str:
    p = Path(path).resolve()
    try:
        return p.relative_to((root or project_root()).resolve()).as_posix()
    except ValueError:
        return str(path)
