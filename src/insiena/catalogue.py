"""The indicator catalogue, the benchmark tables and the initiatives catalogue (all in config/).

Loaders validate each file and fail with one line naming the entry and the key, so that a typo in a
theme, a level or a source id is fixed without reading a traceback:

    load_catalogue()      config/indicators.yaml, flattened: one row per indicator x level
    read_catalogue()      the same file as a validated dict (formulas, quantities, series breaks)
    load_siena2030()      config/benchmarks/siena2030.csv (latest version by default)
    load_samedi()         config/benchmarks/samedi.yaml
    load_initiatives()    config/initiatives.csv

`availability_matrix()` and `gaps()` turn the catalogue into the two tables the report prints: the
theme x level matrix of the four themes, and the Lab conoscitivo agenda of missing data.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

# Same guard as insiena.config: jsonschema would otherwise compile IRI grammars at import time.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import jsonschema  # noqa: E402

from insiena.config import load_yaml  # noqa: E402
from insiena.errors import ConfigError, InputRejected  # noqa: E402
from insiena.paths import project_root  # noqa: E402
from insiena.schemas.catalogue import (  # noqa: E402
    BREAKDOWNS, FOUR_THEMES, GAP_KINDS, PERIOD_TYPES, POPULATIONS, STATUS_LABELS,
    STATUSES, THEMES, ZARAGOZA_DOMAINS, AvailabilityMatrix, CatalogueLevels, GapAgenda, GapAgendaByIndicator, Initiatives,
    Siena2030Benchmark,
)
from insiena.schemas.registry import LEVELS  # noqa: E402

__all__ = [
    "THEMES", "FOUR_THEMES", "LEVELS", "read_catalogue", "load_catalogue", "catalogue_frame",
    "resolve_sources", "availability_matrix", "gaps", "load_siena2030", "load_samedi",
    "load_initiatives", "validate_catalogue",
]

_ID = r"^[a-z][a-z0-9_]*$"
_DATE = r"\d{4}-\d{2}-\d{2}"
_PERIOD = rf"^(\d{{4}}|{_DATE})(/(\d{{4}}|{_DATE}))?$"
_PERIOD_BY_TYPE = {
    "stock": re.compile(rf"^{_DATE}(/{_DATE})?$"),
    "flow": re.compile(r"^\d{4}$"),
    "annual_average": re.compile(r"^\d{4}$"),
}
DATASET_PREFIX = "dataset:"

_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}

_LEVEL_ENTRY = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status"],
    "properties": {
        "status": {"enum": STATUSES},
        "periods": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": _PERIOD}},
        "sources": {**_STRINGS, "minItems": 1},
        "missing": {"type": "object", "additionalProperties": {"type": "string", "minLength": 3}},
        "gap_kind": {"enum": GAP_KINDS},
        "would_need": {"type": "string", "minLength": 10},
        "holder": {"type": "string", "minLength": 2},
        "note": {"type": "string", "minLength": 1},
    },
}

CATALOGUE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "quantities", "indicators"],
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "quantities": {
            "type": "object",
            "propertyNames": {"pattern": _ID},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "minLength": 3},
                    "sources": _STRINGS,
                    "derived_from": {**_STRINGS, "minItems": 1},
                    "note": {"type": "string"},
                },
            },
        },
        "indicators": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "theme", "name", "definition", "unit", "period_type", "formula",
                             "sources", "status", "levels"],
                "properties": {
                    "id": {"type": "string", "pattern": _ID},
                    "theme": {"enum": THEMES},
                    "zaragoza": {"enum": [*ZARAGOZA_DOMAINS, None]},
                    "name": {"type": "string", "minLength": 3},
                    "definition": {"type": "string", "minLength": 10},
                    "unit": {"type": "string", "minLength": 1},
                    "population": {"enum": POPULATIONS},
                    "compare_with": {"type": "string", "pattern": _ID},
                    "breakdown": {"enum": [*BREAKDOWNS, None]},
                    "context": {"type": "boolean"},
                    "period_type": {"enum": PERIOD_TYPES},
                    "formula": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["words", "numerator", "denominator", "scale"],
                        "properties": {
                            "words": {"type": "string", "minLength": 5},
                            "numerator": {"type": "string", "pattern": _ID},
                            "denominator": {"type": ["string", "null"], "pattern": _ID},
                            "scale": {"type": "number", "exclusiveMinimum": 0},
                        },
                    },
                    "sources": _STRINGS,
                    "series_breaks": {"type": "object", "additionalProperties": {"type": "string", "minLength": 5}},
                    "note": {"type": "string", "minLength": 1},
                    "status": {"enum": STATUSES},
                    "levels": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"enum": LEVELS},
                        "additionalProperties": _LEVEL_ENTRY,
                    },
                },
            },
        },
    },
}


# --------------------------------------------------------------------------------------------------
# paths and small helpers


def _root(root: Path | None) -> Path:
    return Path(root) if root else project_root()


def _shown(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def catalogue_path(root: Path | None = None) -> Path:
    return _root(root) / "config" / "indicators.yaml"


def siena2030_path(root: Path | None = None) -> Path:
    return _root(root) / "config" / "benchmarks" / "siena2030.csv"


def samedi_path(root: Path | None = None) -> Path:
    return _root(root) / "config" / "benchmarks" / "samedi.yaml"


def initiatives_path(root: Path | None = None) -> Path:
    return _root(root) / "config" / "initiatives.csv"


def _plain(obj: Any) -> Any:
    """YAML reads unquoted 2022-01-01 as a date and 2025 as an int: give periods back as strings."""
    if isinstance(obj, dict):
        return {_plain_key(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    return obj


def _plain_key(key: Any) -> Any:
    if isinstance(key, (dt.date, dt.datetime)):
        return key.isoformat()
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    return key


def _registry_ids(root: Path) -> tuple[set[str], set[str]]:
    from insiena.registry import load_registry

    reg = load_registry(root=root)
    return set(reg["id"]), set(reg["dataset"])


def resolve_sources(refs: Iterable[str], registry: pd.DataFrame) -> list[str]:
    """Source refs of the catalogue -> registry ids ("dataset:x" expands to every row of dataset x)."""
    out: list[str] = []
    for ref in refs:
        if ref.startswith(DATASET_PREFIX):
            out.extend(sorted(registry.loc[registry["dataset"] == ref[len(DATASET_PREFIX):], "id"]))
        else:
            out.append(ref)
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------------------------
# the indicator catalogue


class _Where:
    """Formats `<file>: indicator '<id>', key '<path>': <problem>` for one indicator."""

    def __init__(self, source: str, indicator: str | None = None):
        self.source, self.indicator = source, indicator

    def fail(self, key: str, problem: str) -> ConfigError:
        who = f"indicator '{self.indicator}', " if self.indicator else ""
        return ConfigError(f"{self.source}: {who}key '{key}': {problem}")


def _schema_error(doc: dict, err: jsonschema.ValidationError, source: str) -> ConfigError:
    path = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set(err.schema.get("properties", {}))
        extra = sorted(k for k in err.instance if k not in allowed)
        if extra:
            path.append(extra[0])
            problem = f"unknown key (allowed: {', '.join(sorted(allowed))})"
        else:
            problem = err.message
    elif "propertyNames" in err.schema_path:
        path.append(err.instance)
        problem = f"unknown name '{err.instance}' (allowed: {', '.join(err.validator_value)})" \
            if err.validator == "enum" else f"name '{err.instance}' is not valid ({err.message})"
    elif err.validator == "enum":
        allowed = ", ".join("null" if v is None else str(v) for v in err.validator_value)
        problem = f"{err.instance!r} is not one of: {allowed}"
    elif err.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", err.message)
        if missing:
            path.append(missing[0])
        problem = "required key is missing"
    else:
        value = err.instance if not isinstance(err.instance, (dict, list)) else ""
        problem = f"value {value!r} is not valid: {err.message}" if value != "" else err.message
    indicator = None
    if len(path) >= 2 and path[0] == "indicators" and isinstance(path[1], int):
        item = doc["indicators"][path[1]]
        indicator = item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else f"#{path[1] + 1}"
        path = path[2:]
    key = ".".join(str(p) for p in path) or "(top level)"
    return _Where(source, indicator).fail(key, problem)


def _error_order(err: jsonschema.ValidationError) -> list[str]:
    """File order: the first error of the first entry (list indexes compared as numbers)."""
    return [f"{p:08d}" if isinstance(p, int) else str(p) for p in err.absolute_path]


def _available(qid: str, quantities: dict, seen: frozenset = frozenset()) -> bool:
    spec = quantities[qid]
    if spec.get("sources"):
        return True
    return any(_available(d, quantities, seen | {qid}) for d in spec.get("derived_from", []) if d not in seen)


def validate_catalogue(doc: Any, source_ids: set[str], datasets: set[str],
                       source: str = "config/indicators.yaml") -> dict:
    """Check the structure (JSON Schema) and the cross-references; return the normalised document."""
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: the top level must be a mapping with version, quantities, indicators")
    doc = _plain(doc)
    errors = sorted(jsonschema.Draft202012Validator(CATALOGUE_SCHEMA).iter_errors(doc), key=_error_order)
    if errors:
        raise _schema_error(doc, errors[0], source)

    def check_ref(where: _Where, key: str, ref: str) -> None:
        if ref.startswith(DATASET_PREFIX):
            if ref[len(DATASET_PREFIX):] not in datasets:
                raise where.fail(key, f"unknown dataset '{ref[len(DATASET_PREFIX):]}' (not in config/sources.csv)")
        elif ref not in source_ids:
            raise where.fail(key, f"unknown source id '{ref}' (not in config/sources.csv)")

    quantities = doc["quantities"]
    for qid, spec in quantities.items():
        where = _Where(source)
        for ref in spec.get("sources", []):
            check_ref(where, f"quantities.{qid}.sources", ref)
        for dep in spec.get("derived_from", []):
            if dep not in quantities:
                raise where.fail(f"quantities.{qid}.derived_from", f"unknown quantity '{dep}'")
        if "sources" not in spec and "derived_from" not in spec:
            raise where.fail(f"quantities.{qid}", "needs sources (possibly []) or derived_from")

    ids = [ind["id"] for ind in doc["indicators"]]
    seen: set[str] = set()
    for ind in doc["indicators"]:
        where = _Where(source, ind["id"])
        if ind["id"] in seen:
            raise where.fail("id", "duplicate indicator id")
        seen.add(ind["id"])
        if ind.get("compare_with") is not None and ind["compare_with"] not in ids:
            raise where.fail("compare_with", f"unknown indicator '{ind['compare_with']}'")
        for part in ("numerator", "denominator"):
            qid = ind["formula"][part]
            if qid is not None and qid not in quantities:
                raise where.fail(f"formula.{part}", f"unknown quantity '{qid}' (see quantities:)")
        for ref in ind["sources"]:
            check_ref(where, "sources", ref)
        used: set[str] = set()
        any_computed = False
        pattern = _PERIOD_BY_TYPE[ind["period_type"]]
        for level, entry in ind["levels"].items():
            key = f"levels.{level}"
            if entry["status"] == "computed":
                any_computed = True
                for field in ("periods", "sources"):
                    if field not in entry:
                        raise where.fail(f"{key}.{field}", "required for a computed level")
                for field in ("gap_kind", "would_need", "holder"):
                    if field in entry:
                        raise where.fail(f"{key}.{field}", "only a gap level may say what would fill it")
                for period in entry["periods"]:
                    if not pattern.match(period):
                        raise where.fail(f"{key}.periods", f"'{period}' does not fit period_type "
                                                           f"'{ind['period_type']}'")
                for ref in entry["sources"]:
                    check_ref(where, f"{key}.sources", ref)
                    if ref not in ind["sources"]:
                        raise where.fail(f"{key}.sources", f"'{ref}' is not listed in the indicator's sources")
                used.update(entry["sources"])
            else:
                for field in ("gap_kind", "would_need", "holder"):
                    if field not in entry:
                        raise where.fail(f"{key}.{field}", "required for a gap level")
                for field in ("periods", "sources"):
                    if field in entry:
                        raise where.fail(f"{key}.{field}", "a gap level has no periods or sources")
        unused = [ref for ref in ind["sources"] if ref not in used]
        if any_computed and unused:
            raise where.fail("sources", f"'{unused[0]}' is used by no computed level")
        expected = "computed" if any_computed else "gap"
        if ind["status"] != expected:
            raise where.fail("status", f"is '{ind['status']}' but the levels make it '{expected}' "
                                       f"(computed when at least one level is computed)")
        if any_computed:
            for part in ("numerator", "denominator"):
                qid = ind["formula"][part]
                if qid is not None and not _available(qid, quantities):
                    raise where.fail(f"formula.{part}", f"quantity '{qid}' has no source in the mirror, "
                                                        f"so the indicator cannot be computed")
    return doc


def read_catalogue(path: str | Path | None = None, root: Path | None = None) -> dict:
    """The validated catalogue as a dict: {'version', 'quantities', 'indicators': [...]}."""
    root = _root(root)
    path = Path(path) if path else catalogue_path(root)
    source_ids, datasets = _registry_ids(root)
    return validate_catalogue(load_yaml(path), source_ids, datasets, source=_shown(path, root))


def catalogue_frame(doc: dict) -> pd.DataFrame:
    """Flatten a validated catalogue dict: one row per indicator x listed level (CatalogueLevels)."""
    rows = []
    for ind in doc["indicators"]:
        for level in LEVELS:
            entry = ind["levels"].get(level)
            if entry is None:
                continue
            missing = entry.get("missing")
            rows.append({
                "indicator_id": ind["id"],
                "theme": ind["theme"],
                "zaragoza_domain": ind.get("zaragoza"),
                "name": ind["name"],
                "unit": ind["unit"],
                "population": ind.get("population"),
                "period_type": ind["period_type"],
                "breakdown": ind.get("breakdown"),
                "context": bool(ind.get("context", False)),
                "numerator": ind["formula"]["numerator"],
                "denominator": ind["formula"]["denominator"],
                "scale": float(ind["formula"]["scale"]),
                "indicator_status": ind["status"],
                "level": level,
                "status": entry["status"],
                "periods": ";".join(entry["periods"]) if entry.get("periods") else None,
                "missing": " | ".join(f"{k}: {v}" for k, v in missing.items()) if missing else None,
                "sources": ";".join(entry["sources"]) if entry.get("sources") else None,
                "gap_kind": entry.get("gap_kind"),
                "would_need": entry.get("would_need"),
                "holder": entry.get("holder"),
                "note": entry.get("note"),
                "indicator_note": ind.get("note"),
            })
    frame = pd.DataFrame(rows, columns=list(CatalogueLevels.to_schema().columns))
    return CatalogueLevels.validate(frame)


def load_catalogue(path: str | Path | None = None, root: Path | None = None) -> pd.DataFrame:
    """config/indicators.yaml, validated and flattened (one row per indicator x level)."""
    return catalogue_frame(read_catalogue(path, root))


def _as_frame(catalogue: pd.DataFrame | dict) -> pd.DataFrame:
    return catalogue if isinstance(catalogue, pd.DataFrame) else catalogue_frame(catalogue)


def availability_matrix(catalogue: pd.DataFrame | dict, themes: Iterable[str] = tuple(FOUR_THEMES),
                        levels: Iterable[str] = tuple(LEVELS), wide: bool = False) -> pd.DataFrame:
    """Theme x level: "calcolato" if at least one indicator of the theme is computed at that level.

    Long form (default, AvailabilityMatrix): theme, level, value, n_computed, n_context, n_gap,
    n_indicators. n_context counts the computed indicators flagged `context: true` (demographic context
    filed under the theme, e.g. births under salute): when n_context == n_computed the report should
    say that only context is available. n_gap counts the explicit gaps; n_indicators the theme's
    indicators in the catalogue.
    `wide=True` gives the printable matrix: themes as rows, levels as columns, the value strings.
    """
    frame = _as_frame(catalogue)
    themes, levels = list(themes), list(levels)
    for theme in themes:
        if theme not in THEMES:
            raise ConfigError(f"availability_matrix: unknown theme '{theme}' (allowed: {', '.join(THEMES)})")
    for level in levels:
        if level not in LEVELS:
            raise ConfigError(f"availability_matrix: unknown level '{level}' (allowed: {', '.join(LEVELS)})")
    rows = []
    for theme in themes:
        of_theme = frame[frame["theme"] == theme]
        n_indicators = of_theme["indicator_id"].nunique()
        for level in levels:
            at = of_theme[of_theme["level"] == level]
            computed = at["status"] == "computed"
            n_computed = int(computed.sum())
            rows.append({
                "theme": theme, "level": level,
                "value": STATUS_LABELS["computed"] if n_computed else STATUS_LABELS["gap"],
                "n_computed": n_computed, "n_context": int((computed & at["context"]).sum()),
                "n_gap": int((at["status"] == "gap").sum()), "n_indicators": n_indicators,
            })
    long = AvailabilityMatrix.validate(pd.DataFrame(rows, columns=list(AvailabilityMatrix.to_schema().columns)))
    if not wide:
        return long
    matrix = long.pivot(index="theme", columns="level", values="value").reindex(index=themes, columns=levels)
    matrix.columns.name = None
    return matrix


def gaps(catalogue: pd.DataFrame | dict, by_indicator: bool = False) -> pd.DataFrame:
    """The Lab conoscitivo agenda: every gap indicator x level, with what would fill it and who holds it.

    Rows follow the theme order of THEMES, then the catalogue order. `by_indicator=True` joins the
    levels of one indicator that share the same remedy (GapAgendaByIndicator), for a shorter print.
    """
    frame = _as_frame(catalogue)
    out = frame.loc[frame["status"] == "gap",
                    ["theme", "indicator_id", "name", "level", "gap_kind", "would_need", "holder", "note"]]
    order = {t: i for i, t in enumerate(THEMES)}
    out = out.assign(_t=out["theme"].map(order)).sort_values("_t", kind="mergesort").drop(columns="_t")
    out = GapAgenda.validate(out.reset_index(drop=True))
    if not by_indicator:
        return out
    keys = ["theme", "indicator_id", "name", "gap_kind", "would_need", "holder"]
    grouped = (out.groupby(keys, sort=False, dropna=False)["level"]
               .agg(lambda s: ";".join(s)).rename("levels").reset_index())
    return GapAgendaByIndicator.validate(grouped[["theme", "indicator_id", "name", "levels", "gap_kind",
                                                  "would_need", "holder"]])


# --------------------------------------------------------------------------------------------------
# CSV tables (SIENA2030, initiatives)


def _read_csv(path: Path, source: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read the table: {exc}") from None
    return df.replace({"": pd.NA})


def _validate_table(df: pd.DataFrame, model, *, name: str, source: str, id_column: str,
                    entry: str, root: Path) -> pd.DataFrame:
    """Validate with insiena.validation (failure file written); re-raise naming the entry and column."""
    from insiena.validation import validate

    expected = list(model.to_schema().columns)
    extra = [c for c in df.columns if c not in expected]
    absent = [c for c in expected if c not in df.columns]
    if extra or absent:
        what = f"unknown column '{extra[0]}'" if extra else f"missing column '{absent[0]}'"
        raise ConfigError(f"{source}: {what} (expected: {', '.join(expected)})")
    lines = pd.Series(df.index + 2, index=df.index)
    try:
        return validate(df, model, name=name, source=source, row_offset=lines, root=root)
    except InputRejected as exc:
        failures = pd.read_csv(exc.failures_path, dtype=str, keep_default_na=False)
        first = failures.iloc[0]
        ident = ""
        if first["row"].isdigit() and int(first["row"]) - 2 in df.index:
            value = df.loc[int(first["row"]) - 2, id_column]
            ident = f"{entry} '{value}' (line {first['row']}), " if pd.notna(value) else f"line {first['row']}, "
        same = failures[(failures["row"] == first["row"]) & (failures["check"] == first["check"])]
        # A row-level check is reported on every cell of the row: name it as such, not by its first column.
        row_check = not first["column"] or set(same["column"]) >= set(expected)
        column = "(row check)" if row_check else first["column"]
        if row_check:
            failures = failures.drop_duplicates(["row", "check"])
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        value = "" if row_check else f" for value {first['value']}"
        raise ConfigError(f"{source}: {ident}column '{column}': check '{first['check']}' failed{value}{more}. "
                          f"All failure cases: {exc.failures_path}") from None


def load_siena2030(path: str | Path | None = None, root: Path | None = None, version: int | str = "latest",
                   catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """The SIENA2030 benchmark rows of one version ("latest", an int, or "all" for every version).

    Each indicator_id must be in the catalogue with the same unit: the join compares like with like.
    """
    root = _root(root)
    path = Path(path) if path else siena2030_path(root)
    source = _shown(path, root)
    df = _validate_table(_read_csv(path, source), Siena2030Benchmark, name="benchmark_siena2030",
                         source=source, id_column="benchmark_id", entry="benchmark", root=root)
    catalogue = catalogue if catalogue is not None else load_catalogue(root=root)
    units = catalogue.drop_duplicates("indicator_id").set_index("indicator_id")["unit"]
    for rec in df.itertuples():
        where = f"{source}: benchmark '{rec.benchmark_id}' (version {rec.version}), column"
        if rec.indicator_id not in units.index:
            raise ConfigError(f"{where} 'indicator_id': '{rec.indicator_id}' is not in config/indicators.yaml")
        if rec.unit != units[rec.indicator_id]:
            raise ConfigError(f"{where} 'unit': '{rec.unit}' differs from the catalogue unit "
                              f"'{units[rec.indicator_id]}' of {rec.indicator_id}")
    if version == "all":
        return df.reset_index(drop=True)
    wanted = int(df["version"].max()) if version == "latest" else int(version)
    if wanted not in set(df["version"]):
        raise ConfigError(f"{source}: no rows with version {wanted} (versions: "
                          f"{', '.join(str(v) for v in sorted(set(df['version'])))})")
    return df[df["version"] == wanted].reset_index(drop=True)


def load_initiatives(path: str | Path | None = None, root: Path | None = None) -> pd.DataFrame:
    """The initiatives catalogue ("iniziative e progetti esistenti"), validated."""
    root = _root(root)
    path = Path(path) if path else initiatives_path(root)
    source = _shown(path, root)
    return _validate_table(_read_csv(path, source), Initiatives, name="initiatives", source=source,
                           id_column="initiative_id", entry="initiative", root=root)


# --------------------------------------------------------------------------------------------------
# SAMEDI (metadata only: the project published no numbers)

_SOURCE_REF = {
    "type": "object", "additionalProperties": False, "required": ["url", "what"],
    "properties": {"url": {"type": "string", "pattern": r"^https?://\S+$"}, "what": {"type": "string"},
                   "date": {"type": ["string", "null"], "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"}},
}

SAMEDI_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["benchmark_id", "name", "theme", "territory", "period", "funding", "lead", "partners",
                 "published_numbers", "evaluation", "side_by_side", "sources"],
    "properties": {
        "benchmark_id": {"const": "samedi"},
        "name": {"type": "string"},
        "title_as_registered": {"type": "string"},
        "theme": {"enum": THEMES},
        "territory": {
            "type": "object", "additionalProperties": False,
            "required": ["code", "level", "name", "provinces", "as_stated"],
            "properties": {"code": {"type": "string"}, "level": {"const": "area"}, "name": {"type": "string"},
                           "provinces": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[0-9]{3}$"}},
                           "as_stated": {"type": "string"}, "note": {"type": "string"}},
        },
        "period": {
            "type": "object", "additionalProperties": False, "required": ["start", "end", "as_stated"],
            "properties": {"start": {"type": "string", "pattern": f"^{_DATE}$"},
                           "end": {"type": "string", "pattern": f"^{_DATE}$"}, "as_stated": {"type": "string"}},
        },
        "funding": {
            "type": "object", "additionalProperties": False, "required": ["fund", "amount_eur"],
            "properties": {"fund": {"type": "string"}, "authority": {"type": "string"},
                           "type_as_stated": {"type": "string"}, "amount_eur": {"type": ["number", "null"]},
                           "amount_as_stated": {"type": "string"}},
        },
        "lead": {"type": "string"},
        "lead_as_registered": {"type": "string"},
        "partners": {"type": "array", "items": {"type": "string"}},
        "also_involved": {"type": "array", "items": {"type": "string"}},
        "target": {"type": "object", "additionalProperties": {"type": "string"}},
        "published_numbers": {"type": "array", "maxItems": 0},
        "evaluation": {
            "type": "object", "additionalProperties": False, "required": ["repository", "record", "outcome", "url"],
            "properties": {"repository": {"type": "string"}, "record": {"type": "string"},
                           "outcome": {"type": "string"}, "method_url": {"type": "string"},
                           "url": {"type": "string", "pattern": r"^https?://\S+$"}},
        },
        "side_by_side": {
            "type": "object", "additionalProperties": False, "required": ["territories", "indicators", "gaps"],
            "properties": {
                "territories": {"type": "array", "minItems": 2, "items": {"type": "string"}},
                "indicators": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": _ID}},
                "gaps": {"type": "array", "items": {"type": "string", "pattern": _ID}},
                "note": {"type": "string"},
            },
        },
        "notes": {"type": "array", "items": {"type": "string"}},
        "sources": {"type": "array", "minItems": 1, "items": _SOURCE_REF},
    },
}


def load_samedi(path: str | Path | None = None, root: Path | None = None,
                catalogue: pd.DataFrame | None = None, areas: dict | None = None) -> dict:
    """SAMEDI as metadata, with the ids of the indicators to show side by side for its area.

    Checks that every listed indicator is computed at both provincia and area level, that every listed
    gap is a gap somewhere, and that the territory matches the SAMEDI area of config/config.yaml.
    """
    root = _root(root)
    path = Path(path) if path else samedi_path(root)
    source = _shown(path, root)
    doc = _plain(load_yaml(path))
    if not isinstance(doc, dict):
        raise ConfigError(f"{source}: the top level must be a mapping")
    errors = sorted(jsonschema.Draft202012Validator(SAMEDI_SCHEMA).iter_errors(doc), key=_error_order)
    if errors:
        err = _schema_error(doc, errors[0], source)
        raise ConfigError(str(err).replace(f"{source}: ", f"{source}: benchmark 'samedi', ", 1))
    where = f"{source}: benchmark 'samedi', key"
    if doc["period"]["start"] > doc["period"]["end"]:
        raise ConfigError(f"{where} 'period': start is after end")
    catalogue = catalogue if catalogue is not None else load_catalogue(root=root)
    computed = catalogue[catalogue["status"] == "computed"].groupby("indicator_id")["level"].agg(set)
    gap_ids = set(catalogue.loc[catalogue["status"] == "gap", "indicator_id"])
    for ind in doc["side_by_side"]["indicators"]:
        levels = computed.get(ind, set())
        if not {"provincia", "area"} <= levels:
            raise ConfigError(f"{where} 'side_by_side.indicators': '{ind}' is not computed at both provincia "
                              f"and area level in config/indicators.yaml")
    for ind in doc["side_by_side"]["gaps"]:
        if ind not in gap_ids:
            raise ConfigError(f"{where} 'side_by_side.gaps': '{ind}' is not a gap in config/indicators.yaml")
    if areas is None:
        from insiena.config import load_config

        areas = load_config(root=root)["areas"]
    code = doc["territory"]["code"]
    if code not in areas:
        raise ConfigError(f"{where} 'territory.code': '{code}' is not an area of config/config.yaml")
    if sorted(areas[code]["provinces"]) != sorted(doc["territory"]["provinces"]):
        raise ConfigError(f"{where} 'territory.provinces': {doc['territory']['provinces']} differ from "
                          f"config/config.yaml areas.{code}.provinces {areas[code]['provinces']}")
    expected = [code, *areas[code]["provinces"]]
    if sorted(doc["side_by_side"]["territories"]) != sorted(expected):
        raise ConfigError(f"{where} 'side_by_side.territories': must be the area and its provinces {expected}")
    return doc


