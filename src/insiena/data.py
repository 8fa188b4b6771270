"""One way for notebooks and scripts to read processed tables: `insiena.load("population")`.

National tables (parsed once for every territory) live in data/processed/<name>.parquet; tables
built for one province live in data/processed/<province>/<name>.parquet.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insiena.io import read_parquet
from insiena.paths import project_root


def processed_dir(root: Path | None = None) -> Path:
    return (root or project_root()) / "data" / "processed"


def list_tables(province: str | None = None, root: Path | None = None) -> list[str]:
    """Names of the processed tables on disk (national, plus the province's when given)."""
    base = processed_dir(root)
    names = {p.stem for p in base.glob("*.parquet")}
    if province:
        names |= {p.stem for p in (base / province).glob("*.parquet")}
    return sorted(names)


def load(name: str, province: str | None = None, root: Path | None = None, **filters) -> pd.DataFrame:
    """Read a processed table; keyword filters keep rows whose column equals (or is in) the value.

    >>> load("population", territory_level="provincia", date="2025-01-01")   # doctest: +SKIP
    """
    base = processed_dir(root)
    candidates = ([base / province / f"{name}.parquet"] if province else []) + [base / f"{name}.parquet"]
    for path in candidates:
        if path.is_file():
            df = read_parquet(path)
            break
    else:
        where = f" for province {province}" if province else ""
        raise FileNotFoundError(
            f"no processed table '{name}'{where} under {base}: run `make report` first "
            f"(available: {', '.join(list_tables(province, root)) or 'none'})")
    for column, value in filters.items():
        if column not in df.columns:
            raise KeyError(f"table '{name}' has no column '{column}' (columns: {', '.join(df.columns)})")
        values = value if isinstance(value, (list, tuple, set)) else [value]
        df = df[df[column].isin(values)]
    return df.reset_index(drop=True)
