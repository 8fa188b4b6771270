"""The source registry: where every raw file comes from, and the checksum it must have."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insiena.errors import RegistryError, InputRejected
from insiena.paths import project_root
from insiena.schemas.registry import SourceRegistry
from insiena.validation import validate


def registry_path(root: Path | None = None) -> Path:
    return (root or project_root()) / "config" / "sources.csv"


def load_registry(path: str | Path | None = None, root: Path | None = None) -> pd.DataFrame:
    path = Path(path) if path else registry_path(root)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path}: cannot read the source registry: {exc}") from None
    df = df.replace({"upstream_url": {"": None}, "note": {"": None}})
    try:
        df = validate(df, SourceRegistry, name="sources", source=str(path),
                      row_offset=pd.Series(df.index + 2, index=df.index), root=root)
    except InputRejected as exc:
        raise RegistryError(str(exc)) from None
    return df.set_index("id", drop=False)


def entry(registry: pd.DataFrame, source_id: str) -> pd.Series:
    if source_id not in registry.index:
        raise RegistryError(f"source id '{source_id}' is not in config/sources.csv")
    return registry.loc[source_id]


def by_path(registry: pd.DataFrame) -> dict[str, pd.Series]:
    return {row.path: row for _, row in registry.iterrows()}
