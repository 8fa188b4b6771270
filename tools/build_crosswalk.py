"""Build config/territory_crosswalk.csv: ISTAT numeric codes <-> ITTER107 (NUTS-2010 letter) codes.

SDMX and I.Stat exports name provinces and regions with the old NUTS-2010 letters of the ITTER107
code list (Siena = ITE19), while demo.istat.it files and comuni use numeric codes (052). The match is
derived from the data, not typed: a letter code is paired with the numeric province whose comuni add
up to it in every year of the SDMX FJAN file, and with the region whose provinces add up to it; the
ITTER107 label must then agree with the ISTAT name. Run once per new code-list vintage:
    python tools/build_crosswalk.py ../shared/data/raw > config/territory_crosswalk.csv
"""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from collections import defaultdict
from pathlib import Path


def norm(name: str) -> str:
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    for token in ("provincia autonoma", "-", "/", "'", " "):
        name = name.replace(token, "")
    return name


def main(mirror: Path) -> None:
    labels = {}
    with open(mirror / "istat/codelists/3_Dimension_CL_ITTER107.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            labels[r["dimensionValueID"]] = r["dimensionValueDescription"]

    provinces = {}
    topo = json.loads((mirror / "istat/boundaries_openpolis/topojson/limits_IT_provinces.topo.json").read_text())
    for g in topo["objects"]["provinces"]["geometries"]:
        p = g["properties"]
        provinces[p["prov_istat_code"]] = (p["prov_name"], p["reg_istat_code"], p["reg_name"])

    by_prefix: dict[tuple[str, str], float] = defaultdict(float)
    letter: dict[tuple[str, str], float] = {}
    with open(mirror / "istat/sdmx/istat_29_316_FJAN.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code, year, value = r["REF_AREA"], r["TIME_PERIOD"][:4], float(r["OBS_VALUE"])
            if len(code) == 6 and code.isdigit():
                by_prefix[(code[:3], year)] += value
                region = provinces[code[:3]][1]
                by_prefix[("R" + region, year)] += value
            elif code.startswith("IT"):
                letter[(code, year)] = value

    years = sorted({y for _, y in letter})
    numeric_keys = {k for k, _ in by_prefix}
    rows = []
    for code in sorted({c for c, _ in letter}):
        if len(code) not in (4, 5):
            continue
        # A 5-letter code is a province, a 4-letter one a region (Aosta is both, with equal sums).
        matches = [k for k in numeric_keys
                   if k.startswith("R") == (len(code) == 4)
                   and all(by_prefix.get((k, y)) == letter.get((code, y)) for y in years)]
        if len(matches) != 1:
            continue
        num = matches[0]
        if num.startswith("R"):
            num = num[1:]
            name = next(v[2] for v in provinces.values() if v[1] == num)
            level, parent = "regione", "IT"
        else:
            name, parent, _ = provinces[num]
            level = "provincia"
        if norm(labels.get(code, "")) not in norm(name) and norm(name) not in norm(labels.get(code, "")):
            raise SystemExit(f"{code} matched {num} by sums but labels differ: {labels.get(code)!r} vs {name!r}")
        rows.append((level, num, name, code, parent))

    # Ripartizioni: ISTAT's fixed grouping of regions, checked against the letter codes by sums.
    ripartizioni = {"1": ("Nord-ovest", "ITC", ["01", "02", "03", "07"]),
                    "2": ("Nord-est", "ITD", ["04", "05", "06", "08"]),
                    "3": ("Centro", "ITE", ["09", "10", "11", "12"]),
                    "4": ("Sud", "ITF", ["13", "14", "15", "16", "17", "18"]),
                    "5": ("Isole", "ITG", ["19", "20"])}
    for code, (name, itter, regions) in ripartizioni.items():
        for y in years:
            total = sum(by_prefix[("R" + r, y)] for r in regions)
            if total != letter.get((itter, y)):
                raise SystemExit(f"ripartizione {itter} {y}: regions sum to {total}, file says {letter.get((itter, y))}")
        rows.append(("ripartizione", code, name, itter, "IT"))

    missing = set(provinces) - {r[1] for r in rows if r[0] == "provincia"}
    if missing:
        raise SystemExit(f"provinces without a letter code: {sorted(missing)}")
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["level", "code", "name", "itter107", "parent_code"])
    w.writerow(["italia", "IT", "Italia", "IT", ""])
    order = {"ripartizione": 0, "regione": 1, "provincia": 2}
    for row in sorted(rows, key=lambda r: (order[r[0]], r[1])):
        w.writerow(row)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
