"""Labour and education context: rates and shares as ISTAT publishes them, at their true level.

The labour force survey files stop at macro-areas: ITE is central Italy (Toscana, Umbria, Marche,
Lazio), labelled "Italia centrale" and never Toscana or Siena. Education shares exist for Italy only.
No numerator or denominator is published with these rates, so those columns stay empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insiena.indicators.core import parts

LFS_AGE = "15-64"
# indicator id -> (indicator in labour_rates, citizenship)
LABOUR = {
    "activity_rate_foreigners": ("activity_rate", "stranieri"),
    "activity_rate_italians": ("activity_rate", "italiani"),
    "employment_rate_foreigners": ("employment_rate", "stranieri"),
    "employment_rate_italians": ("employment_rate", "italiani"),
    "unemployment_rate_foreigners": ("unemployment_rate", "stranieri"),
    "unemployment_rate_italians": ("unemployment_rate", "italiani"),
}
NOTE_CENTRE = "Italia centrale = Toscana, Umbria, Marche, Lazio: non è la Toscana né la provincia"
# indicator id -> (education_level, citizenship)
EDUCATION = {
    "education_lower_secondary_or_less_foreigners": ("licenza_media", "stranieri"),
    "education_lower_secondary_or_less_italians": ("licenza_media", "italiani"),
    "education_upper_secondary_foreigners": ("diploma", "stranieri"),
    "education_upper_secondary_italians": ("diploma", "italiani"),
    "education_tertiary_foreigners": ("laurea", "stranieri"),
    "education_tertiary_italians": ("laurea", "italiani"),
}


def labour(lr: pd.DataFrame, meta: dict) -> pd.DataFrame:
    out = []
    for indicator_id, (indicator, citizenship) in LABOUR.items():
        if indicator_id not in meta or meta[indicator_id]["status"] != "computed":
            continue
        r = lr[(lr["indicator"] == indicator) & (lr["citizenship"] == citizenship) & (lr["age_class"] == LFS_AGE)]
        if r.empty:
            continue
        out.append(parts(pd.DataFrame({
            "indicator_id": indicator_id, "territory_code": r["territory_code"],
            "territory_level": r["territory_level"], "territory_name": r["territory_name"],
            "period": r["year"].astype(str), "sex": r["sex"], "age_class": LFS_AGE, "category": r["education"],
            "value": r["value"].astype("float64"), "source_ids": r["source_id"], "status": r["status"],
            "aggregable": False,
            "note": np.where(r["territory_name"] == "Italia centrale", NOTE_CENTRE, None)})))
    return pd.concat(out, ignore_index=True) if out else parts(pd.DataFrame())


def education(el: pd.DataFrame, meta: dict) -> pd.DataFrame:
    out = []
    for indicator_id, (level, citizenship) in EDUCATION.items():
        if indicator_id not in meta or meta[indicator_id]["status"] != "computed":
            continue
        r = el[(el["education_level"] == level) & (el["citizenship"] == citizenship)]
        out.append(parts(pd.DataFrame({
            "indicator_id": indicator_id, "territory_code": r["territory_code"],
            "territory_level": r["territory_level"], "territory_name": r["territory_name"],
            "period": r["year"].astype(str), "age_class": r["age_class"], "value": r["value"].astype("float64"),
            "source_ids": r["source_id"], "status": r["status"], "aggregable": False})))
    return pd.concat(out, ignore_index=True) if out else parts(pd.DataFrame())


def build(lr: pd.DataFrame, el: pd.DataFrame, meta: dict) -> pd.DataFrame:
    return pd.concat([labour(lr, meta), education(el, meta)], ignore_index=True)
