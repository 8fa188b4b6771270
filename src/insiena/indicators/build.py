"""The national `indicators` job: every computed indicator of the catalogue, for every territory and
period the processed tables allow, with the SIENA2030 and SAMEDI joins and the coverage table.

One run serves every province (config `provinces` may be "all"): the per-province selection is
`insiena.indicators.indicators_for_province`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd

from insiena.catalogue import catalogue_frame, load_samedi, load_siena2030, read_catalogue
from insiena.indicators import ageing, demography, reception, themes
from insiena.indicators.benchmarks import join_samedi, join_siena2030, samedi_table, siena2030_table
from insiena.indicators.core import KEY, aggregate, as_output, catalogue_meta, finish, members_table, union_ids
from insiena.indicators.coverage import coverage
from insiena.io import read_parquet, write_csv, write_parquet
from insiena.registry import load_registry
from insiena.schemas.indicators import BenchmarkSamedi, BenchmarkSiena2030, CoverageTable, Indicators
from insiena.validation import relpath, validate

log = logging.getLogger(__name__)

INPUT_TABLES = ["territories", "population", "demographic_balance", "foreign_balance", "protection_permits",
                "labour_rates", "education_levels", "reception_presences", "reception_contracts_summary"]


def read_inputs(paths: dict[str, str | Path]) -> dict[str, pd.DataFrame]:
    # Arrow-backed strings: the comparisons on 300,000 codes and dates dominate the run otherwise.
    return {name: read_parquet(paths[name], strings="pyarrow") for name in INPUT_TABLES}


def territory_names(territories: pd.DataFrame, areas: dict) -> pd.Series:
    names = territories.set_index("territory_code")["territory_name"].astype("string")
    extra = pd.Series({code: spec["name"] for code, spec in areas.items()}, dtype="string")
    return pd.concat([names, extra])


def _zone_sources(p: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """Rows of a zona distretto also cite the comune -> zone mapping they were summed with."""
    zones = territories[territories["territory_level"] == "zona_distretto"].set_index("territory_code")["source_id"]
    at = p["territory_level"] == "zona_distretto"
    if at.any():
        p = p.copy()
        p.loc[at, "source_ids"] = union_ids(p.loc[at, "source_ids"], p.loc[at, "territory_code"].map(zones))
    return p


def compute(tables: dict[str, pd.DataFrame], *, meta: dict, registry: pd.DataFrame, areas: dict) -> pd.DataFrame:
    """All catalogue indicators as one validated-shape table (no benchmarks yet)."""
    territories = tables["territories"]
    members = members_table(territories, areas)
    tstock = demography.total_stock(tables["population"])
    p = pd.concat([
        demography.build(tables["population"], tables["demographic_balance"], tables["foreign_balance"],
                         territories, meta),
        ageing.build(tables["population"], meta),
        reception.reception_presences_all(tables["reception_presences"], tstock, meta, members),
        reception.contracts(tables["reception_contracts_summary"], registry, territories, members),
        reception.permits(tables["protection_permits"], tstock, meta, members),
        themes.build(tables["labour_rates"], tables["education_levels"], meta),
    ], ignore_index=True)
    p = _zone_sources(p, territories)
    with_area = [i for i, m in meta.items() if m["levels"].get("area", {}).get("status") == "computed"]
    p = pd.concat([p, aggregate(p, members["provincia->area"], "provincia", "somma delle province",
                                indicators=with_area)], ignore_index=True)
    table = finish(p, meta, territory_names(territories, areas))
    dup = table.duplicated(KEY, keep=False)
    if dup.any():
        raise ValueError(f"duplicate indicator keys (a bug in a builder):\n{table.loc[dup, KEY].head(10)}")
    return table


def build_all(tables: dict[str, pd.DataFrame], *, doc: dict, registry: pd.DataFrame, areas: dict,
              siena2030: pd.DataFrame, samedi: dict, zone_distretto: dict) -> dict[str, pd.DataFrame]:
    meta = catalogue_meta(doc, registry)
    names = territory_names(tables["territories"], areas)
    table = compute(tables, meta=meta, registry=registry, areas=areas)
    table, path_rows = join_siena2030(table, siena2030)
    table = join_samedi(table, samedi, meta)
    table = pd.concat([table, path_rows], ignore_index=True)
    bench_2030 = siena2030_table(table, siena2030, meta, tables["territories"], names)
    bench_samedi = samedi_table(table, samedi, meta)
    cov = coverage(table, meta, zone_distretto)
    return {"indicators": as_output(table), "coverage": cov, "siena2030": bench_2030, "samedi": bench_samedi}


def csv_ready(table: pd.DataFrame) -> pd.DataFrame:
    """Numbers formatted once per distinct value with write_csv's own "%.10g": the same bytes as
    write_csv(table), in a third of the time (pandas formats each of 1.5 million cells otherwise)."""
    out = table.copy()
    for col in ("value", "numerator", "denominator", "benchmark_value", "gap"):
        values = out[col].to_numpy(dtype="float64", na_value=np.nan)
        uniques, inverse = np.unique(values, return_inverse=True)
        text = np.asarray(["" if np.isnan(v) else "%.10g" % v for v in uniques], dtype=object)
        out[col] = text[inverse.reshape(-1)]
    return out


def run(inputs: dict[str, str | Path], outputs: dict[str, str | Path], *, areas: dict, zone_distretto: dict,
        root: Path | None = None) -> dict[str, pd.DataFrame]:
    """Read the processed tables, compute, validate and write the five outputs.

    outputs: table (parquet), coverage, siena2030, samedi and, optionally, csv (paths). The pipeline
    leaves the CSV to its own job (`export_csv`), off the path to the reports."""
    t0 = time.perf_counter()
    tables = read_inputs(inputs)
    registry = load_registry(root=root)
    doc = read_catalogue(root=root)
    catalogue = catalogue_frame(doc)
    siena2030 = load_siena2030(root=root, catalogue=catalogue)
    samedi = load_samedi(root=root, catalogue=catalogue, areas=areas)
    log.info("inputs read in %.1f s", time.perf_counter() - t0)
    out = build_all(tables, doc=doc, registry=registry.reset_index(drop=True), areas=areas, siena2030=siena2030,
                    samedi=samedi, zone_distretto=zone_distretto)
    log.info("computed in %.1f s", time.perf_counter() - t0)
    table = validate(out["indicators"], Indicators, name="indicators", source=relpath(outputs["table"], root),
                     root=root)
    cov = validate(out["coverage"], CoverageTable, name="indicators_coverage",
                   source=relpath(outputs["coverage"], root), root=root)
    b2030 = validate(out["siena2030"], BenchmarkSiena2030, name="benchmark_siena2030",
                     source=relpath(outputs["siena2030"], root), root=root)
    bsam = validate(out["samedi"], BenchmarkSamedi, name="benchmark_samedi", source=relpath(outputs["samedi"], root),
                    root=root)
    log.info("validated in %.1f s", time.perf_counter() - t0)
    write_parquet(outputs["table"], table, sort_by=KEY)
    if outputs.get("csv"):
        write_csv(outputs["csv"], csv_ready(table), sort_by=KEY)
    write_csv(outputs["coverage"], cov, sort_by=[])
    write_csv(outputs["siena2030"], b2030, sort_by=[])
    write_csv(outputs["samedi"], bsam, sort_by=[])
    log.info("indicators: %d rows, %d indicators, %d territories; written in %.1f s", len(table),
             table["indicator_id"].nunique(), table["territory_code"].nunique(), time.perf_counter() - t0)
    return {"indicators": table, "coverage": cov, "siena2030": b2030, "samedi": bsam}


def export_csv(table_path: str | Path, csv_path: str | Path) -> None:
    """The CSV twin of the national indicators table, byte for byte what `run` would have written."""
    table = read_parquet(table_path)
    write_csv(csv_path, csv_ready(table), sort_by=KEY)
    log.info("indicators CSV: %d rows", len(table))
