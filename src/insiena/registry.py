"""The source registry: where every raw file comes from, and the checksum it must have.

`load_registry` gives the validated table (pandas + pandera); `registry_rows` gives the same rows as
plain dicts for the Snakefile, which reads the registry at every start: it validates with pandera only
when the file (or the schema) changed since the last successful validation, so that Snakemake's start
does not pay for importing pandera and validating 280 rows.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
from pathlib import Path
from typing import TYPE_CHECKING

from insiena.errors import RegistryError, InputRejected
from insiena.paths import project_root

if TYPE_CHECKING:
    import pandas as pd

# Columns whose blank means "none" (as load_registry reads them).
_BLANK_IS_NONE = ("upstream_url", "note")


def registry_path(root: Path | None = None) -> Path:
    return (root or project_root()) / "config" / "sources.csv"


def load_registry(path: str | Path | None = None, root: Path | None = None) -> pd.DataFrame:
    import pandas as pd

    from insiena.schemas.registry import SourceRegistry
    from insiena.validation import validate

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


def _validation_stamp(content: bytes, root: Path) -> Path:
    schema = importlib.util.find_spec("insiena.schemas.registry").origin
    digest = hashlib.sha256(content + Path(schema).read_bytes()).hexdigest()[:20]
    return root / ".snakemake" / "insiena" / f"registry-{digest}.validated"


def registry_rows(path: str | Path | None = None, root: Path | None = None) -> dict[str, dict[str, str | None]]:
    """{source id: row} in file order, each value a string (None for a blank URL or note).

    The rows are those load_registry validates: the first call for a given file content runs it (and
    raises RegistryError as it does); later calls find its stamp in .snakemake/insiena/ and only read
    the CSV."""
    from insiena.io import write_text

    root = root or project_root()
    path = Path(path) if path else registry_path(root)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the source registry: {exc}") from None
    stamp = _validation_stamp(content, root)
    if not stamp.is_file():
        load_registry(path, root=root)
        write_text(stamp, f"{path.name} validated against insiena.schemas.registry.SourceRegistry\n")
    rows = csv.DictReader(io.StringIO(content.decode("utf-8"), newline=""))
    return {r["id"]: {k: (v or None) if k in _BLANK_IS_NONE else v for k, v in r.items()} for r in rows}
