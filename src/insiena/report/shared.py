"""Inputs of the report that are the same for every province, prepared once per run.

The catalogue, the benchmarks, the initiatives and the source registry are validated with pandera
and JSON Schema; importing those libraries costs about two seconds, which 107 province jobs would
pay again and again. So one national job (rule `report_shared`) validates them and writes small
Parquet/JSON files under data/processed/report/, and each province job only reads them.

Also here, for the same reason: the age pyramids (5-year classes by sex, read once from the large
population table) and the summary of the cross-source checks.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from insiena.io import read_parquet, write_json, write_parquet

# pandas is imported where used: the Snakefile reads SHARED_FILES at every start.
if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

# Files written by build_shared, by key: the province jobs read them through load_shared().
SHARED_FILES = {
    "catalogue": "catalogue.parquet",
    "definitions": "definitions.parquet",
    "availability": "availability.parquet",
    "gaps": "gaps.parquet",
    "initiatives": "initiatives.parquet",
    "siena2030": "siena2030.parquet",
    "samedi": "samedi.json",
    "sources": "sources.parquet",
    "registry": "registry.parquet",
    "checks": "checks.parquet",
    "pyramids": "pyramids.parquet",
}

# Datasets with many files of one kind: one line each in the appendix, with the count.
GROUPED_DATASETS = {
    "anac_contracts": "Contratti pubblici per servizi di accoglienza, file mensili",
    "boundaries": "Confini amministrativi (TopoJSON) di comuni, province e regioni",
}
REGISTRY_COLUMNS = ["id", "dataset", "producer", "title", "reference_date", "status", "licence", "sha256", "size",
                    "path", "upstream_url", "producer_url"]

AGE_CLASSES = [f"{a}-{a + 4}" for a in range(0, 100, 5)] + ["100 e oltre"]


def age_class(age: pd.Series) -> pd.Series:
    """5-year class label of single ages (ISTAT's 100 is the open class "100 e oltre")."""
    lower = (age.clip(upper=100) // 5 * 5).astype("Int64")
    labels = lower.map(lambda a: "100 e oltre" if a == 100 else f"{a}-{a + 4}")
    return labels.astype("string")


# --------------------------------------------------------------------------------------- builders

def definitions_table(doc: dict) -> pd.DataFrame:
    """One row per indicator: what the appendix needs (definition, formula in words, breaks)."""
    import pandas as pd

    rows = []
    for ind in doc["indicators"]:
        breaks = "; ".join(f"{k}: {' '.join(str(v).split())}" for k, v in (ind.get("series_breaks") or {}).items())
        rows.append({
            "indicator_id": ind["id"], "theme": ind["theme"], "name": ind["name"],
            "definition": " ".join(ind["definition"].split()), "unit": ind["unit"],
            "formula": " ".join(ind["formula"]["words"].split()), "period_type": ind["period_type"],
            "status": ind["status"], "context": bool(ind.get("context", False)),
            "compare_with": ind.get("compare_with"), "series_breaks": breaks or None,
            "note": " ".join(str(ind["note"]).split()) if ind.get("note") else None,
        })
    return pd.DataFrame(rows).astype({c: "string" for c in
                                      ("indicator_id", "theme", "name", "definition", "unit", "formula",
                                       "period_type", "status", "compare_with", "series_breaks", "note")})


def sources_table(registry: pd.DataFrame) -> pd.DataFrame:
    """The appendix's source list: one line per file, one per dataset for the many-file datasets."""
    import pandas as pd

    rows = []
    for dataset, group in registry.groupby("dataset", sort=False):
        if dataset in GROUPED_DATASETS and len(group) > 1:
            dates = sorted(group["reference_date"].astype(str))
            licences = sorted(set(group["licence"]))
            producers = list(dict.fromkeys(group["producer"]))
            rows.append({
                "source_id": f"dataset:{dataset}", "dataset": dataset, "producer": "; ".join(producers),
                "title": GROUPED_DATASETS[dataset], "files": len(group),
                "reference_date": dates[0] if dates[0] == dates[-1] else f"{dates[0]}/{dates[-1]}",
                "status": "; ".join(sorted(set(group["status"]))), "licence": "; ".join(licences),
                "sha256": None, "producer_url": group["producer_url"].iloc[0],
            })
        else:
            for rec in group.itertuples():
                rows.append({
                    "source_id": rec.id, "dataset": dataset, "producer": rec.producer, "title": rec.title,
                    "files": 1, "reference_date": str(rec.reference_date), "status": rec.status,
                    "licence": rec.licence, "sha256": rec.sha256, "producer_url": rec.producer_url,
                })
    out = pd.DataFrame(rows)
    out["files"] = out["files"].astype("Int64")
    return out.astype({c: "string" for c in out.columns if c != "files"})


def _check_family(name: str) -> str:
    # "x[sex=femmine,age=12]" are one check repeated per breakdown: count them as one family.
    return re.sub(r"\[.*\]$", "", str(name))


def checks_table(paths: list[str | Path]) -> pd.DataFrame:
    """Counts of the cross-source checks by file, check family, territory and status."""
    import pandas as pd

    frames = []
    for path in paths:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=["check", "territory_code", "status"])
        df["file"] = Path(path).name
        df["family"] = df["check"].map(_check_family)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["file", "family", "territory_code", "status", "n"])
    df = pd.concat(frames, ignore_index=True)
    out = (df.groupby(["file", "family", "territory_code", "status"], sort=True).size()
           .rename("n").reset_index())
    out["n"] = out["n"].astype("Int64")
    return out.astype({c: "string" for c in ("file", "family", "territory_code", "status")})


def pyramids_table(population_path: str | Path) -> pd.DataFrame:
    """5-year age classes by sex of foreigners and of all residents, for provinces, regions, Italy.

    Only the dates that have single ages are kept (STRASA 2022 for foreigners; POSAS for all
    residents: provinces 2024-2025, regions and Italy 2019-2025). Values are counts.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    wanted = (pc.field("territory_level").isin(["provincia", "regione", "italia"])
              & pc.field("age").is_valid() & pc.field("sex").isin(["maschi", "femmine"]))
    table = pq.read_table(
        population_path,
        columns=["territory_code", "territory_name", "territory_level", "date", "sex", "age", "citizenship",
                 "value", "source_id", "status"],
        filters=wanted)
    df = table.to_pandas().astype(
        {"territory_code": "string", "territory_name": "string", "territory_level": "string", "date": "string",
         "sex": "string", "citizenship": "string", "source_id": "string", "status": "string",
         "age": "Int64", "value": "Int64"})
    df["age_class"] = age_class(df["age"])
    keys = ["territory_code", "territory_name", "territory_level", "date", "citizenship", "sex", "age_class",
            "source_id", "status"]
    out = df.groupby(keys, sort=True, dropna=False)["value"].sum(min_count=1).reset_index()
    return out


def build_shared(out_dir: str | Path, *, checks: list[str | Path], population: str | Path,
                 root: str | Path | None = None) -> None:
    """Validate the catalogue, benchmarks, initiatives and registry; write the shared report inputs."""
    from insiena import catalogue as cat
    from insiena.registry import load_registry

    out = Path(out_dir)
    root = Path(root) if root else None
    doc = cat.read_catalogue(root=root)
    frame = cat.catalogue_frame(doc)
    write_parquet(out / SHARED_FILES["catalogue"], frame, sort_by=[])
    write_parquet(out / SHARED_FILES["definitions"], definitions_table(doc), sort_by=[])
    write_parquet(out / SHARED_FILES["availability"], cat.availability_matrix(frame), sort_by=[])
    write_parquet(out / SHARED_FILES["gaps"], cat.gaps(frame, by_indicator=True), sort_by=[])
    write_parquet(out / SHARED_FILES["initiatives"], cat.load_initiatives(root=root), sort_by=[])
    write_parquet(out / SHARED_FILES["siena2030"], cat.load_siena2030(root=root, catalogue=frame), sort_by=[])
    write_json(out / SHARED_FILES["samedi"], cat.load_samedi(root=root, catalogue=frame))
    registry = load_registry(root=root)
    write_parquet(out / SHARED_FILES["sources"], sources_table(registry), sort_by=[])
    write_parquet(out / SHARED_FILES["registry"],
                  registry.reset_index(drop=True)[REGISTRY_COLUMNS].astype("string"), sort_by=[])
    write_parquet(out / SHARED_FILES["checks"], checks_table(checks), sort_by=[])
    write_parquet(out / SHARED_FILES["pyramids"], pyramids_table(population), sort_by=[])
    log.info("shared report inputs written to %s", out)


def load_shared(folder: str | Path) -> dict:
    """The files written by build_shared, as DataFrames (samedi as a dict)."""
    folder = Path(folder)
    out = {}
    for key, name in SHARED_FILES.items():
        path = folder / name
        out[key] = json.loads(path.read_text(encoding="utf-8")) if name.endswith(".json") else read_parquet(path)
    return out
