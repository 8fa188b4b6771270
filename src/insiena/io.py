"""Atomic, deterministic writers.

Every output is written to a temporary file in the destination folder and renamed into place, so a
killed run leaves either the previous file or the new one, never half of one. Tables are sorted and
written without timestamps so that the same inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:  # pandas and pyarrow are imported where used: retrieval jobs must start fast.
    import pandas as pd


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600 files; outputs are meant to be shared like any file the user creates.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n")


def _sorted(df: "pd.DataFrame", sort_by: list[str] | None) -> pd.DataFrame:
    keys = sort_by if sort_by is not None else list(df.columns)
    if keys:
        df = df.sort_values(keys, kind="mergesort", na_position="last")
    return df.reset_index(drop=True)


def write_parquet(path: str | os.PathLike, df: "pd.DataFrame", sort_by: list[str] | None = None) -> None:
    """Write a deterministic Parquet file (sorted rows, no index, no creation timestamp)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(_sorted(df, sort_by), preserve_index=False)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", use_dictionary=True, write_statistics=True)
    write_bytes(path, buf.getvalue())


def write_csv(path: str | os.PathLike, df: "pd.DataFrame", sort_by: list[str] | None = None) -> None:
    """UTF-8 CSV with `.` decimals and LF endings: the machine-readable twin of each table."""
    text = _sorted(df, sort_by).to_csv(index=False, lineterminator="\n", float_format="%.10g")
    write_text(path, text)


def read_parquet(path: str | os.PathLike, strings: str = "python") -> "pd.DataFrame":
    """Nullable dtypes (Int64, Float64, boolean, string). `strings="pyarrow"` keeps text columns
    Arrow-backed: about ten times faster to read and compare on the large national tables."""
    import pandas as pd

    if strings == "pyarrow":
        import pyarrow as pa
        import pyarrow.parquet as pq

        mapping = {pa.string(): pd.StringDtype("pyarrow"), pa.large_string(): pd.StringDtype("pyarrow"),
                   pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(), pa.bool_(): pd.BooleanDtype()}
        return pq.read_table(path).to_pandas(types_mapper=mapping.get)
    return pd.read_parquet(path, dtype_backend="numpy_nullable")
