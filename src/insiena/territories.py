"""Territorial units of Italy and how they nest: comune -> (zona distretto) -> provincia -> regione
-> ripartizione -> Italia.

Codes are ISTAT's, as zero-padded strings. The hierarchy above the comune comes from
config/territory_crosswalk.csv (built by tools/build_crosswalk.py from the ITTER107 code list and
checked by sums); a comune belongs to the province of its first three digits, which is how ISTAT
assigns the codes (a comune that moves province gets a new code, e.g. Montecopiolo 041033 ->
099030 in 2021). A region's ripartizione is the ITTER107 parent of its letter code (ITE1 -> ITE =
Centro), so nothing here is typed by hand.

Zone distretto exist only where config `zone_distretto` names a mapping file for a province. Their
codes are "<province>-ZD<n>", numbered in alphabetical order of the zone names, so that they do
not depend on the row order of the mapping file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from insiena.paths import project_root
from insiena.validation import reject

log = logging.getLogger(__name__)

CROSSWALK_SOURCES = "3_dimension_cl_itter107;istat_29_316_fjan;limits_it_provinces"
PARENT_COLUMN = {"zona_distretto": "zona_distretto_code", "provincia": "province_code",
                 "regione": "region_code", "ripartizione": "ripartizione_code", "italia": "italia_code"}
LEVEL_ORDER = ["comune", "zona_distretto", "provincia", "regione", "ripartizione", "italia"]
COLUMNS = ["territory_code", "territory_name", "territory_level", "comune_code", "zona_distretto_code",
           "zona_distretto_name", "province_code", "province_name", "region_code", "region_name",
           "ripartizione_code", "ripartizione_name", "itter107", "current", "source_id"]


def crosswalk(path: str | Path | None = None, root: Path | None = None) -> pd.DataFrame:
    """config/territory_crosswalk.csv: level, code, name, itter107, parent_code (all strings)."""
    path = Path(path) if path else (root or project_root()) / "config" / "territory_crosswalk.csv"
    cw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8").astype("string")
    return cw.replace({"parent_code": {"": pd.NA}})


def letter_codes(cw: pd.DataFrame) -> dict[str, str]:
    """ITTER107 letter code -> ISTAT numeric code (IT -> IT)."""
    return dict(zip(cw["itter107"], cw["code"]))


def _aggregate_levels(cw: pd.DataFrame) -> pd.DataFrame:
    """Italia, ripartizioni, regioni and province with their parents' codes and names."""
    rip = cw[cw["level"] == "ripartizione"]
    rip_by_letter = dict(zip(rip["itter107"], rip["code"]))
    names = dict(zip(cw["code"], cw["name"]))
    reg = cw[cw["level"] == "regione"].copy()
    reg["ripartizione_code"] = reg["itter107"].str[:3].map(rip_by_letter)
    if reg["ripartizione_code"].isna().any():
        raise ValueError(f"regions without a ripartizione: {list(reg.loc[reg['ripartizione_code'].isna(), 'code'])}")
    region_rip = dict(zip(reg["code"], reg["ripartizione_code"]))
    prov = cw[cw["level"] == "provincia"].copy()
    prov["region_code"] = prov["parent_code"]
    prov["ripartizione_code"] = prov["region_code"].map(region_rip)
    prov["province_code"] = prov["code"]
    reg["region_code"] = reg["code"]
    rip = rip.assign(ripartizione_code=rip["code"])
    ita = cw[cw["level"] == "italia"]
    out = pd.concat([ita, rip, reg, prov], ignore_index=True)
    out = out.rename(columns={"code": "territory_code", "name": "territory_name", "level": "territory_level"})
    for col in ("province", "region", "ripartizione"):
        out[f"{col}_name"] = out[f"{col}_code"].map(names)
    out["source_id"] = CROSSWALK_SOURCES
    return out


def parent_codes(cw: pd.DataFrame) -> dict[str, str]:
    """Code of each provincia, regione and ripartizione -> code of the level above."""
    levels = _aggregate_levels(cw)
    above = {"provincia": "region_code", "regione": "ripartizione_code", "ripartizione": None}
    out = {}
    for level, col in above.items():
        rows = levels[levels["territory_level"] == level]
        out.update(zip(rows["territory_code"], rows[col] if col else ["IT"] * len(rows)))
    return out


def level_of_codes(cw: pd.DataFrame) -> dict[str, str]:
    return dict(zip(cw["code"], cw["level"]))


def codes_by_level(cw: pd.DataFrame) -> dict[str, set[str]]:
    return {lv: set(g["code"]) for lv, g in cw.groupby("level")}


def comune_parents(codes: pd.Series, cw: pd.DataFrame) -> pd.DataFrame:
    """Province, region and ripartizione (codes and names) of comune codes, by their first 3 digits."""
    levels = _aggregate_levels(cw)
    prov = levels[levels["territory_level"] == "provincia"].set_index("territory_code")
    cols = ["province_code", "province_name", "region_code", "region_name", "ripartizione_code", "ripartizione_name"]
    out = prov.reindex(codes.str[:3].to_numpy())[cols]
    out.index = codes.index
    return out


def zone_assignments(mapping: pd.DataFrame, province: str, current_comuni: pd.DataFrame, *, name: str,
                     source: str, lines: pd.Series) -> pd.DataFrame:
    """comune_code, zona_distretto_code, zona_distretto_name for one province's mapping file.

    The mapping must list every current comune of the province exactly once and nothing else.
    """
    in_prov = current_comuni[current_comuni["territory_code"].str[:3] == province]
    expected = set(in_prov["territory_code"])
    listed = mapping["codice_comune"]
    failures = []
    for idx in mapping.index[~listed.isin(expected)]:
        failures.append({"row": str(lines[idx]), "column": "codice_comune",
                         "check": f"a current comune of province {province}", "value": listed[idx]})
    for code in sorted(expected - set(listed)):
        failures.append({"row": "", "column": "codice_comune",
                         "check": f"every comune of province {province} mapped to a zone", "value": code})
    if failures:
        reject(name, source, pd.DataFrame(failures), what="zone mapping does not match the comuni of the province")
    zones = sorted(mapping["zona_distretto"].unique())
    codes = {z: f"{province}-ZD{i}" for i, z in enumerate(zones, start=1)}
    return pd.DataFrame({"comune_code": listed.to_numpy(),
                         "zona_distretto_code": mapping["zona_distretto"].map(codes).to_numpy(),
                         "zona_distretto_name": mapping["zona_distretto"].to_numpy()}, dtype="string")


def build_territories(cw: pd.DataFrame, comuni: pd.DataFrame, zones: pd.DataFrame,
                      zone_sources: dict[str, str]) -> pd.DataFrame:
    """The territories table.

    comuni: territory_code, territory_name, current (bool), source_id — every comune any source
    names (current ones from the 2025 balance, former ones named by the ITTER107 code list).
    zones: comune_code, zona_distretto_code, zona_distretto_name (from `zone_assignments`).
    zone_sources: province -> source id of its mapping file.
    """
    levels = _aggregate_levels(cw)
    com = comuni.copy()
    com["territory_level"] = "comune"
    com["comune_code"] = com["territory_code"]
    com = pd.concat([com, comune_parents(com["territory_code"], cw)], axis=1)
    com = com.merge(zones, on="comune_code", how="left")
    has_zone = com["zona_distretto_code"].notna()
    com.loc[has_zone, "source_id"] = (com.loc[has_zone, "source_id"] + ";"
                                      + com.loc[has_zone, "province_code"].map(zone_sources))
    zrows = com[has_zone].drop_duplicates("zona_distretto_code")
    zrows = zrows.assign(territory_code=zrows["zona_distretto_code"], territory_name=zrows["zona_distretto_name"],
                         territory_level="zona_distretto", comune_code=pd.NA, current=True,
                         source_id=zrows["province_code"].map(zone_sources))
    com["itter107"] = pd.NA
    dtypes = {c: "boolean" if c == "current" else "string" for c in COLUMNS}
    parts = [p.reindex(columns=COLUMNS).astype(dtypes) for p in (levels.assign(current=True), zrows, com) if len(p)]
    return pd.concat(parts, ignore_index=True)


def label(df: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """Add territory_name and territory_level from the territories table (one naming for all files)."""
    names = territories.set_index("territory_code")[["territory_name", "territory_level"]]
    out = df.drop(columns=[c for c in ("territory_name", "territory_level") if c in df.columns])
    return out.join(names, on="territory_code")


def aggregate(df: pd.DataFrame, territories: pd.DataFrame, from_level: str, to_levels: list[str],
              keys: list[str]) -> pd.DataFrame:
    """Sum `value` of `from_level` rows up to each of `to_levels`, per `keys` (derived rows).

    A zona distretto is summed only where every comune of its province present in that group has a
    zone: a former comune (absent from the mapping) would otherwise drop out of the sum silently.
    A sum is provisional as soon as one of its parts is.
    """
    base = df[df["territory_level"] == from_level] if "territory_level" in df.columns else df
    parent_cols = [PARENT_COLUMN[lv] for lv in to_levels if lv != "italia"]
    # Categorical keys: the same few hundred thousand rows are grouped once per level.
    parents = territories.set_index("territory_code")[parent_cols].astype("category")
    textual = [k for k in keys if pd.api.types.is_string_dtype(base[k].dtype)]
    frame = pd.DataFrame({k: base[k].astype("category") if k in textual else base[k] for k in keys},
                         index=base.index)
    frame["value"] = base["value"]
    frame["provisional"] = (base["status"] == "provisional") if "status" in base.columns else False
    frame = frame.join(parents, on=base["territory_code"].to_numpy()) if parent_cols else frame
    frame["italia_code"] = pd.Categorical(["IT"] * len(frame))
    province = base["territory_code"].str[:3]
    out = []
    for level in to_levels:
        col = PARENT_COLUMN[level]
        part = frame
        if level == "zona_distretto":
            zoned = set(territories.loc[territories["territory_level"] == "zona_distretto", "province_code"])
            in_zoned = province.isin(zoned).to_numpy()
            part = frame[in_zoned]
            groups = [part[k] for k in keys] + [province[in_zoned].astype("category")]
            gap = part[col].isna().groupby(groups, dropna=False, observed=True).transform("any")
            if gap.any():
                log.info("zone sums skipped where former comuni have no zone: %s",
                         sorted(base.loc[gap[gap].index, "territory_code"].unique()))
            part = part[~gap]
        part = part[part[col].notna()]
        grouped = part.groupby([col] + keys, dropna=False, sort=True, observed=True)
        summed = grouped["value"].sum(min_count=1).to_frame()
        summed["status"] = grouped["provisional"].any().map({True: "provisional", False: "final"})
        out.append(summed.reset_index().rename(columns={col: "territory_code"}))
    if not out:
        return df.iloc[0:0]
    result = pd.concat(out, ignore_index=True)
    for col in ["territory_code", *textual]:
        result[col] = result[col].astype("string")
    return result


def check_comuni_present(rows: pd.DataFrame, territories: pd.DataFrame, provinces: list[str], *, date_col: str,
                         published: pd.DataFrame | None, name: str, source: str) -> None:
    """Every current comune of each configured province is present at every date of a source.

    A current comune may be absent at an earlier date only because of a territorial change (a merger,
    a split, a move between provinces): that is accepted where the same file publishes the province
    total for that date and its comuni add up to it. Anything else stops the run.

    rows: comune rows (territory_code, date_col, value); published: province rows of the same file
    (territory_code, date_col, value) or None when the file has none.
    """
    current = territories[(territories["territory_level"] == "comune") & territories["current"]]
    failures = []
    for province in provinces:
        expected = set(current.loc[current["province_code"] == province, "territory_code"])
        in_prov = rows[rows["territory_code"].str[:3] == province]
        for date in sorted(rows[date_col].unique()):
            at = in_prov[in_prov[date_col] == date]
            missing = sorted(expected - set(at["territory_code"]))
            if not missing:
                continue
            total = None
            if published is not None:
                pub = published[(published["territory_code"] == province) & (published[date_col] == date)]
                total = pub["value"].sum() if len(pub) == 1 else None
            if total is not None and at["value"].sum() == total:
                log.info("%s: %s at %s lacks %s (territorial change: its comuni add up to the province total)",
                         source, province, date, missing)
                continue
            failures += [{"row": "", "column": "territory_code", "value": code,
                          "check": f"every comune of province {province} present at {date}"} for code in missing]
    if failures:
        reject(name, source, pd.DataFrame(failures), what="comuni missing")
