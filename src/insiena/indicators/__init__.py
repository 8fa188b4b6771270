"""The indicators stage: the catalogue's computed indicators for every territory of Italy.

    run(inputs, outputs, areas=..., zone_distretto=...)   the national job (rules/indicators.smk)
    indicators_for_province(table, "052", cfg)             the rows one province's report needs
    missing_periods(table)                                 per indicator and level: periods missing, and why

Modules: `demography` (foreign residents, share, change, balance rates), `ageing` (age structure),
`reception` (cruscotto, ANAC contracts, protection permits), `themes` (labour, education context),
`benchmarks` (SIENA2030, SAMEDI), `coverage`, `core` (parts, sums of territories, final table).
Method notes: docs/indicators-method.md.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insiena.indicators.core import COLUMNS, KEY

__all__ = ["KEY", "COLUMNS", "run", "compute", "build_all", "indicators_for_province", "missing_periods",
           "coverage_table", "province_context_codes"]

# Context rows at macro-area level that a province's report shows, by theme (true level kept).
CONTEXT_THEMES = {"lavoro": ("ripartizione", "macroarea", "italia"), "educazione": ("italia",)}
# LFS macro-areas that contain each ripartizione (ITCD = Nord, ITFG = Mezzogiorno).
MACROAREA_OF_RIPARTIZIONE = {"1": "ITCD", "2": "ITCD", "4": "ITFG", "5": "ITFG"}


def run(*args, **kwargs):
    from insiena.indicators.build import run as _run

    return _run(*args, **kwargs)


def compute(*args, **kwargs):
    from insiena.indicators.build import compute as _compute

    return _compute(*args, **kwargs)


def build_all(*args, **kwargs):
    from insiena.indicators.build import build_all as _build_all

    return _build_all(*args, **kwargs)


def province_context_codes(province: str, root: Path | None = None) -> dict[str, str]:
    """The province's region and ripartizione codes, and the LFS macro-area that contains it (if any)."""
    from insiena.territories import crosswalk, level_of_codes, parent_codes

    cw = crosswalk(root=root)
    if level_of_codes(cw).get(province) != "provincia":
        raise KeyError(f"'{province}' is not a province code of config/territory_crosswalk.csv")
    # The crosswalk's parent of a region is Italy; its ripartizione comes from the ITTER107 letters.
    parents = parent_codes(cw)
    region = parents[province]
    rip = parents[region]
    out = {"regione": region, "ripartizione": rip}
    if rip in MACROAREA_OF_RIPARTIZIONE:
        out["macroarea"] = MACROAREA_OF_RIPARTIZIONE[rip]
    return out


def indicators_for_province(table: pd.DataFrame, province: str, cfg: dict, root: Path | None = None,
                            with_role: bool = False) -> pd.DataFrame:
    """The rows a province's report needs, each at its own true territorial level.

    The province; its comuni; its zone distretto (only where a mapping exists); its comparators
    (config extras such as 051, 053, SAMEDI, then its region and Italy); and, for the context themes,
    the macro-area rows (labour: the province's ripartizione, e.g. "Italia centrale" for Toscana, the
    LFS macro-area containing it, and Italy; education: Italy). `with_role=True` adds a `role` column
    (territorio, comune, zona_distretto, confronto, contesto).
    """
    from insiena.config import comparators_for

    level = table["territory_level"]
    code = table["territory_code"]
    comparators = comparators_for(cfg, province, root=root)
    comp_codes = {c["code"] for c in comparators}
    ctx = province_context_codes(province, root)
    role = pd.Series(pd.NA, index=table.index, dtype="string")
    role[(level == "provincia") & (code == province)] = "territorio"
    role[(level == "comune") & (code.str[:3] == province)] = "comune"
    role[(level == "zona_distretto") & code.str.startswith(f"{province}-ZD")] = "zona_distretto"
    comp = code.isin(comp_codes) & level.isin(["provincia", "area", "regione", "italia"])
    role[comp & role.isna()] = "confronto"
    for theme, levels in CONTEXT_THEMES.items():
        wanted = {"ripartizione": ctx["ripartizione"], "macroarea": ctx.get("macroarea"), "italia": "IT"}
        for lv in levels:
            if wanted.get(lv) is None:
                continue
            m = (table["theme"] == theme) & (level == lv) & (code == wanted[lv]) & role.isna()
            role[m] = "contesto"
    out = table[role.notna()].copy()
    if with_role:
        out["role"] = role[role.notna()]
    return out.reset_index(drop=True)


def coverage_table(table: pd.DataFrame, zone_distretto: dict | None = None, root: Path | None = None) -> pd.DataFrame:
    """Per catalogue indicator x level: periods computed, periods missing with the reason, gaps."""
    from insiena.catalogue import read_catalogue
    from insiena.indicators.core import catalogue_meta
    from insiena.indicators.coverage import coverage
    from insiena.registry import load_registry

    meta = catalogue_meta(read_catalogue(root=root), load_registry(root=root).reset_index(drop=True))
    if zone_distretto is None:
        from insiena.config import load_config

        zone_distretto = load_config(root=root)["zone_distretto"]
    return coverage(table, meta, zone_distretto)


def missing_periods(table: pd.DataFrame, zone_distretto: dict | None = None, root: Path | None = None) -> pd.DataFrame:
    """The coverage rows with something missing: periods the sources do not cover, or a gap level."""
    cov = coverage_table(table, zone_distretto, root)
    return cov[cov["periods_missing"].notna() | (cov["status"] == "gap")].reset_index(drop=True)
