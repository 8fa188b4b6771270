"""Per-source summary of the validated inputs: what `make check` prints after a new file is dropped in.

The rule `check_inputs` (rules/check.smk) runs only once every retrieve job verified its checksum and
every ingest job accepted its files, so each row describes a file that passed. The summary says what
that means for each source: how many data rows the raw file has, which dates the processed tables
took from it, which checks its rows went through (the pandera model of its format, the relational
checks on totals and parts, the checks coded in the parser), and how it compares with other sources
in data/processed/checks/*.csv. A mismatch there does not stop the run (the consistency report is
published with the report), so the summary is where an analyst sees it first.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from insiena.io import write_csv

COLUMNS = ["source", "dataset", "files", "rows", "first", "last", "dates", "tables", "schema", "totals",
           "parser_checks", "cross_checks", "cross_mismatches", "ingest", "status"]

# The tables an ingest writes, with the column that dates each row.
TABLE_DATES = {
    "population": "date",
    "demographic_balance": "period",
    "foreign_balance": "year",
    "protection_permits": "year",
    "labour_rates": "year",
    "education_levels": "year",
    "reception_presences": "date",
    "reception_contracts": "publication_date",
    "reception_published": "reference_date",
    "territories": None,
}

# Raw formats: the pandera models that read each dataset ("module:Model" in insiena.schemas) and the
# checks the parser codes outside them. Kept beside the ingest modules' own choice of model; the test
# of this module fails when a dataset read by an ingest has no entry.
FORMATS: dict[str, tuple[list[str], list[str]]] = {
    "itter107": (["istat:ItterCodelistRaw"], []),
    "bilancio_p2": (["istat:P2Raw"], ["title date = registry", "all-residents title", "comune codes in ITTER107",
                                      "every comune of the configured provinces present"]),
    "bilancio_p3": (["istat:P3Raw"], ["title date = registry", "foreign-citizens title", "comune codes in ITTER107",
                                      "every comune of the configured provinces present"]),
    "bilancio_mensile": (["istat:MonthlyBalanceRaw"], ["province codes in the crosswalk",
                                                       "configured provinces present", "reference month in registry"]),
    "posas": (["istat:PosasRaw|PosasMaritalRaw"], ["title date and status = registry",
                                                   "territory codes in the crosswalk", "configured territories present"]),
    "posas_italia": (["istat:ItalyByAgeRaw"], ["Italia present"]),
    "strasa": (["istat:StrasaRaw"], ["title date = registry", "province codes in the crosswalk",
                                     "configured provinces present"]),
    "sdmx_22_289": (["istat:Sdmx22289Raw", "istat:SdmxAggregateSums"],
                    ["REF_AREA codes in ITTER107", "every comune of the configured provinces present"]),
    "sdmx_29_316_fjan": (["istat:Sdmx29316FjanRaw", "istat:SdmxAggregateSums", "themes:Sdmx29316FjanRaw"],
                         ["REF_AREA codes in ITTER107", "every comune of the configured provinces present"]),
    "zone_distretto": (["istat:ZoneDistrettoRaw"], ["every comune of the province in exactly one zone"]),
    "cruscotto": (["reception:CruscottoRaw"], ["columns present"]),
    "cruscotto_pdf": (["reception:CruscottoReportsRaw"], ["columns present"]),
    "anac_contracts": (["reception:AnacContractsRaw"], ["columns present"]),
    "sdmx_29_316_bil": (["themes:Popstrbil1Raw"], ["non-negative counts", "maschi + femmine = totale",
                                                   "balance identity", "territory codes in the crosswalk",
                                                   "parts add up to their aggregate"]),
    "permsogg": (["themes:Permsogg1Raw"], ["code/label pairs", "maschi + femmine = totale",
                                           "listed countries do not exceed WORLD", "territory codes in the crosswalk",
                                           "provinces add up to their aggregate"]),
    "lfs_activity": (["themes:LfsRatesRaw"], ["code/label pairs"]),
    "lfs_unemployment": (["themes:LfsRatesRaw"], ["code/label pairs"]),
    "lfs_employment_foreign": (["themes:LfsRatesRaw"], ["code/label pairs"]),
    "lfs_unemployment_foreign": (["themes:LfsRatesNoSexRaw"], ["code/label pairs"]),
    "education": (["themes:NoiItaliaEducationRaw"], ["every year in every block", "levels add up to 100"]),
    # Inputs kept in config/ rather than in the registry, named by their source id.
    "reception_figures": (["reception:PublishedFiguresRaw"], ["columns present"]),
    "centres_file": (["reception:CentresRaw"], ["columns present"]),
}
# Datasets retrieved (checksum verified) for the report, not parsed by an ingest.
REPORT_ONLY = {"boundaries": "maps of the report"}
# Datasets of many monthly or per-province files: one summary row for all of them.
GROUPED = {"anac_contracts", "boundaries"}


def model_checks(spec: str) -> tuple[str, list[str]]:
    """(model name, names of its frame-level checks: totals, sums of parts, uniqueness).

    `module:A|B` names alternative models of one format (the parser picks one per file's header);
    their frame-level checks are the union."""
    import importlib

    module, names = spec.split(":")
    schemas = importlib.import_module(f"insiena.schemas.{module}")
    checks = [c.name for name in names.split("|") for c in getattr(schemas, name).to_schema().checks if c.name]
    return " or ".join(names.split("|")), list(dict.fromkeys(checks))


def data_rows(path: Path) -> int | None:
    """Records of a CSV after its header, without a title line or trailing note lines (one field)."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    head = text[:4096]
    sep = max([";", ",", "\t"], key=head.count)
    records = [r for r in csv.reader(io.StringIO(text), delimiter=sep) if len(r) > 1]
    return max(len(records) - 1, 0)


def table_coverage(processed: Path) -> tuple[dict, dict]:
    """source id -> {table: rows}, and source id -> sorted distinct dates, from the processed tables."""
    import pyarrow.parquet as pq

    rows: dict[str, dict[str, int]] = {}
    dates: dict[str, set[str]] = {}
    for table, date_col in TABLE_DATES.items():
        path = processed / f"{table}.parquet"
        if not path.is_file():
            continue
        names = pq.read_schema(path).names
        if "source_id" not in names:
            continue
        cols = ["source_id"] + ([date_col] if date_col in names else [])
        df = pq.read_table(path, columns=cols).to_pandas()
        # Rows built from several files carry their ids joined with ';': a row counts for each.
        df = df.assign(source_id=df["source_id"].astype("string").str.split(";")).explode("source_id")
        for sid, n in df.groupby("source_id", sort=True).size().items():
            rows.setdefault(sid, {})[table] = int(n)
        if date_col in df:
            values = df.dropna(subset=[date_col]).astype({date_col: "string"})
            for sid, group in values.groupby("source_id", sort=True)[date_col]:
                dates.setdefault(sid, set()).update(group.unique())
    return rows, {k: sorted(v) for k, v in dates.items()}


def cross_checks(paths: list[Path]) -> pd.DataFrame:
    """source id -> (checks compared, mismatches), over every data/processed/checks/*.csv."""
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths if Path(p).is_file()]
    if not frames:
        return pd.DataFrame(columns=["source", "cross_checks", "cross_mismatches"])
    checks = pd.concat(frames, ignore_index=True)
    long = pd.concat([checks.assign(source=checks["source_a"]), checks.assign(source=checks["source_b"])])
    long = long.assign(source=long["source"].str.split(";")).explode("source")
    # A check of a file against itself (aggregate vs sum of parts) counts once.
    long = long.drop_duplicates(subset=["check", "territory_code", "date", "source_a", "source_b", "source"])
    return long.groupby("source").agg(cross_checks=("status", "size"),
                                      cross_mismatches=("status", lambda s: int((s == "mismatch").sum()))
                                      ).reset_index()


def summarise(registry: pd.DataFrame, raw_dir: Path, processed: Path, check_files: list[Path],
              ingested: dict[str, str]) -> pd.DataFrame:
    """One row per registry source (per dataset for GROUPED datasets) and per non-registry input.

    ingested: source id -> the ingest rules that read and validated it (joined with ';').
    """
    rows_by_table, dates_by_source = table_coverage(processed)
    cross = cross_checks(check_files).set_index("source")
    models = {spec: model_checks(spec) for specs, _ in FORMATS.values() for spec in specs}

    groups: dict[str, list[str]] = {}
    for sid, dataset in zip(registry.index, registry["dataset"]):
        groups.setdefault(dataset if dataset in GROUPED else sid, []).append(sid)
    extra = sorted(set(rows_by_table) - set(registry.index))  # e.g. the curated published figures

    out = []
    for key, ids in [*groups.items(), *[(sid, [sid]) for sid in extra]]:
        dataset = registry.loc[ids[0], "dataset"] if ids[0] in registry.index else "config"
        paths = [raw_dir / registry.loc[i, "path"] for i in ids if i in registry.index]
        counts = [data_rows(p) for p in paths]
        tables: dict[str, int] = {}
        dates: set[str] = set()
        for i in ids:
            for table, n in rows_by_table.get(i, {}).items():
                tables[table] = tables.get(table, 0) + n
            dates.update(dates_by_source.get(i, []))
        specs, parser = FORMATS.get(dataset) or FORMATS.get(key, ([], []))
        schema = [models[s][0] for s in specs]
        totals = list(dict.fromkeys(c for s in specs for c in models[s][1]))
        compared = sum(int(cross.loc[i, "cross_checks"]) for i in ids if i in cross.index)
        mismatches = sum(int(cross.loc[i, "cross_mismatches"]) for i in ids if i in cross.index)
        rules = sorted({r for i in ids for r in ingested.get(i, "").split(";") if r})
        if rules:
            status = "ok" if not mismatches else f"ok, {mismatches} cross-source mismatches (data/processed/checks)"
        elif dataset in REPORT_ONLY:
            status = f"retrieved, sha256 verified (used by the {REPORT_ONLY[dataset]})"
        elif tables:
            status = "ok"
        else:
            status = "retrieved, sha256 verified (not read by any ingest)"
        ordered = sorted(dates)
        out.append({
            "source": key, "dataset": dataset, "files": len(ids),
            "rows": sum(c for c in counts if c is not None) if any(c is not None for c in counts) else None,
            "first": ordered[0] if ordered else "", "last": ordered[-1] if ordered else "",
            "dates": len(ordered),
            "tables": "; ".join(f"{t} {n}" for t, n in sorted(tables.items())),
            "schema": "; ".join(schema), "totals": "; ".join(totals), "parser_checks": "; ".join(parser),
            "cross_checks": compared, "cross_mismatches": mismatches,
            "ingest": "; ".join(rules), "status": status,
        })
    df = pd.DataFrame(out, columns=COLUMNS)
    return df.astype({"files": "Int64", "rows": "Int64", "dates": "Int64", "cross_checks": "Int64",
                      "cross_mismatches": "Int64"})


def build_input_summary(registry_path: str | Path, raw_dir: str | Path, processed: str | Path,
                        check_files: list[str], ingested: dict[str, str], out: str | Path) -> pd.DataFrame:
    from insiena.registry import load_registry

    registry = load_registry(registry_path)
    df = summarise(registry, Path(raw_dir), Path(processed), [Path(p) for p in check_files], ingested)
    write_csv(out, df, sort_by=["dataset", "source"])
    return df


def format_table(df: pd.DataFrame, width: int = 30) -> str:
    """The summary as a plain-text table for the terminal (the CSV keeps every detail)."""
    def cut(text: str, n: int) -> str:
        return text if len(text) <= n else text[: n - 1] + "~"

    df = df.astype("string").fillna("")
    number = lambda v: int(v) if v else 0  # noqa: E731

    view = pd.DataFrame({
        "source": [cut(s + (f" ({n} files)" if number(n) > 1 else ""), 44) for s, n in zip(df["source"], df["files"])],
        "rows": [f"{int(v):,}".replace(",", " ") if v else "" for v in df["rows"]],
        "dates": [f"{a} .. {b} ({n})" if number(n) > 1 else a for a, b, n in zip(df["first"], df["last"], df["dates"])],
        "checks": [", ".join(p for p in (
            "schema" if s else "",
            f"{len(t.split('; '))} totals" if t else "",
            f"{len(c.split('; '))} parser" if c else "",
            f"{x} cross-source" if number(x) else "") if p) or "sha256 only"
            for s, t, c, x in zip(df["schema"], df["totals"], df["parser_checks"], df["cross_checks"])],
        "status": [cut(s, 60) for s in df["status"]],
    })
    widths = {c: max(len(c), *(len(v) for v in view[c])) if len(view) else len(c) for c in view.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in view.columns).rstrip(),
             "  ".join("-" * widths[c] for c in view.columns)]
    for rec in view.itertuples(index=False):
        lines.append("  ".join(str(v).ljust(widths[c]) if c != "rows" else str(v).rjust(widths[c])
                               for c, v in zip(view.columns, rec)).rstrip())
    return "\n".join(lines)
