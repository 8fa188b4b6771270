"""Build config/sources.csv from the mirror and its manifests (run once per mirror update).

The registry, not this script, is the source of truth: re-running it is a deliberate act that a
reviewer sees as a diff of config/sources.csv (new checksums, new reference dates).
Usage: python tools/build_registry.py ../shared/data/raw > config/sources.csv
"""

from __future__ import annotations

import csv
import hashlib
import re
import sys
from pathlib import Path
from urllib.parse import quote

RAW = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"

REPOS = {
    "RUF-D": ("lorenzo-ruffino/Decessi-2011-2023", "9fbd7cabbf40d9274a48e946b3ca2bd60a6e37b6"),
    "RUF-V": ("lorenzo-ruffino/data-viz", "100aadc10b5c357c7d8beee29e0f999b73702fd6"),
    "ZEC": ("nicolaZecchillo/progetti_stage_exprivia", "13d6472f17b77fab66eb428ceef4d483db4c6cc5"),
    "GIB": ("gibiai/crime_economy_italy_analysis", "d2008e389a5c4b98fe191c3cd3a014c58211202c"),
    "LEV": ("mary-lev/italy-demographics-viz", "1cd1082bca3e08cfc644ce8165c397119dd7789c"),
    "OND": ("ondata/guida-api-istat", "b801ccad278c87b68c26198ffa855647199290e0"),
    "OPP": ("openpolis/geojson-italy", "5dd489e676158175c75ae452ab9ec449bf5efb4b"),
    "LIB": ("ondata/liberiamoli-tutti", "04e6d28195bba97d728f11a056dcf9bac1a531f5"),
    "ANAC": ("gianlivio/osservatorio-accoglienza", "c64efc4e412035b56406380eb9d42d3bb74aa609"),
    "DEMI": ("mjavadf/DeMi", "0302204fdb095bfc0aa7b2d83246445f2f6b0c6d"),
    "EMP": ("openaccesstoimmigrants/EmpowerItaly", "bd54504c79d20c5c9e58c745a7ce049022812b02"),
}

ISTAT = "ISTAT"
CCBY = "CC BY 4.0"

# (regex on the mirror path, dataset, producer, title, repo key, repo path template,
#  producer url template, licence, reference date template, status, note)
RULES = [
    (r"istat/demo_posas/POSAS_(?P<y>20(19|2[0-3]))_it_Regioni\.csv", "posas", ISTAT,
     "Popolazione residente per età, sesso e stato civile al 1° gennaio {y} (regioni)", "RUF-D",
     "Input/POSAS_{y}_it_Regioni.csv", "https://demo.istat.it/data/posas/POSAS_{y}_it_Regioni.zip",
     CCBY, "{y}-01-01", "final", "demo.istat.it POSAS"),
    (r"istat/demo_posas/POSAS_2024_it_(?P<l>\w+)\.csv", "posas", ISTAT,
     "Popolazione residente per età, sesso e stato civile al 1° gennaio 2024 ({l})", "ZEC",
     "input/POSAS_2024_it_{l}.csv", "https://demo.istat.it/data/posas/POSAS_2024_it_{l}.zip",
     CCBY, "2024-01-01", "final", "demo.istat.it POSAS"),
    (r"istat/demo_posas/POSAS_2025_it_(?P<l>\w+)\.csv", "posas", ISTAT,
     "Popolazione residente per età e sesso al 1° gennaio 2025, dati provvisori ({l})", "GIB",
     "data/raw/POSAS_2025_it_{l}.csv", "https://demo.istat.it/data/posas/POSAS_2025_it_{l}.zip",
     CCBY, "2025-01-01", "provisional", "demo.istat.it POSAS; last line is a note"),
    (r"istat/demo_posas_italia/Popolazione_residente_(?P<y>\d{4})\.csv", "posas_italia", ISTAT,
     "Popolazione residente per età, sesso e stato civile al 1° gennaio {y} (Italia)", "ZEC",
     "Progetto4/input/Popolazione_residente_{y}.csv", "https://demo.istat.it/app/?i=POS",
     CCBY, "{y}-01-01", "final", "web-table export; reference date inferred (Totale = sum of regional POSAS)"),
    (r"istat/demo_strasa/STRASA_2022_en_Provinces\.csv", "strasa", ISTAT,
     "Resident foreigners on 1st January 2022 by age and sex (provinces)", "LEV",
     "data/STRASA_2022_en_Provinces.csv", "https://demo.istat.it/data/strasa/STRASA_2022_en_Provinces.zip",
     CCBY, "2022-01-01", "final", "demo.istat.it STRASA, English edition"),
    (r"istat/demo_bilancio/P2_2025_it_Comuni\.csv", "bilancio_p2", ISTAT,
     "Bilancio demografico e popolazione residente al 31 dicembre 2025 (comuni)", "RUF-V",
     "Nascite per tipologia comune/P2_2025_it_Comuni.csv", "https://demo.istat.it/app/?i=D7B",
     CCBY, "2025-12-31", "provisional", "flag p = provisional; 1 January population is census-based and final"),
    (r"istat/demo_bilancio/P3_2025_it_Comuni\.csv", "bilancio_p3", ISTAT,
     "Cittadini stranieri: popolazione residente per sesso e bilancio demografico al 31 dicembre 2025 (comuni)",
     "RUF-V", "Nascite per tipologia comune/P3_2025_it_Comuni.csv", "https://demo.istat.it/app/?i=D7B",
     CCBY, "2025-12-31", "provisional", "flag p = provisional"),
    (r"istat/demo_bilancio/Bilancio_demografico_mensile\.csv", "bilancio_mensile", ISTAT,
     "Bilancio demografico mensile per provincia e sesso", "LEV", "data/Bilancio_demografico_mensile.csv",
     "https://demo.istat.it/app/?i=D7B", CCBY, "2022-01", "final",
     "reference month not stated in the file; January 2022 inferred from the opening population"),
    (r"istat/sdmx/istat_29_316_FJAN\.csv", "sdmx_29_316_fjan", ISTAT,
     "Popolazione straniera residente al 1° gennaio, comuni (SDMX 29_316, FJAN)", "RUF-V",
     "Stranieri residenti in Italia/input/istat_29_316_FJAN.csv",
     "https://esploradati.istat.it/SDMXWS/rest/data/29_316/A..FJAN.9", CCBY, "2020-01-01/2025-01-01", "final",
     "SDMX-CSV; NUTS-2010 letter codes for provinces and regions"),
    (r"istat/sdmx/istat_22_289\.csv", "sdmx_22_289", ISTAT,
     "Popolazione residente al 1° gennaio, comuni (SDMX 22_289, DCIS_POPRES1)", "RUF-V",
     "Biblioteche in Italia/input/istat_22_289.csv",
     "https://esploradati.istat.it/SDMXWS/rest/data/22_289/A..JAN.9.TOTAL.99", CCBY, "2022-01-01/2023-01-01",
     "final", "SDMX-CSV; NUTS-2010 letter codes for provinces and regions"),
    (r"istat/codelists/3_Dimension_CL_ITTER107\.csv", "itter107", ISTAT,
     "Codelist CL_ITTER107 (territori), appiattita da ondata", "OND",
     "processing/DCIS_POPRES1/3_Dimension_CL_ITTER107.csv",
     "https://esploradati.istat.it/SDMXWS/rest/codelist/IT1/CL_ITTER107", "CC BY-SA 4.0", "2020-05-06", "final",
     "lists suppressed comuni too; not a list of current comuni"),
    (r"istat/boundaries_openpolis/topojson/limits_(?P<n>.+)\.topo\.json", "boundaries", "openpolis (ISTAT limits)",
     "Confini amministrativi {n} (TopoJSON, giugno 2023)", "OPP", "topojson/limits_{n}.topo.json",
     "https://www.istat.it/notizia/confini-delle-unita-amministrative-a-fini-statistici-al-1-gennaio-2018-2/",
     CCBY, "2023-06", "final", "openpolis/geojson-italy, simplified and quantized"),
    (r"istat/zone_distretto/zone_distretto_siena\.csv", "zone_distretto", "USL Toscana sud est (transcribed)",
     "Comuni della provincia di Siena per zona distretto / Società della Salute", None, None,
     "https://sienafree.it/115961-coronavirus-10-nuovi-casi-in-provincia-di-siena",
     "facts from public pages", "2020-04-01", "final",
     "hand-transcribed from public pages (see SOURCES.md in the mirror); available from the mirror only"),
    (r"reception/ondata_cruscotto/accoglienza\.csv", "cruscotto", "Ministero dell'Interno (via ondata)",
     "Cruscotto statistico giornaliero: migranti in accoglienza per regione", "LIB",
     "sbarchi-migranti/dati/accoglienza.csv",
     "http://www.libertaciviliimmigrazione.dlci.interno.gov.it/it/documentazione/statistica/cruscotto-statistico-giornaliero",
     CCBY, "2019-09-30/2025-09-15", "final", "Fonte: Liberiamoli tutti! (https://datibenecomune.substack.com/)"),
    (r"reception/ondata_cruscotto/anagrafica-report\.csv", "cruscotto_pdf", "Ministero dell'Interno (via ondata)",
     "Cruscotto statistico giornaliero: indirizzi dei PDF per data", "LIB",
     "sbarchi-migranti/dati/anagrafica-report.csv",
     "http://www.libertaciviliimmigrazione.dlci.interno.gov.it/it/documentazione/statistica/cruscotto-statistico-giornaliero",
     CCBY, "2019-09-30/2025-09-15", "final", "Fonte: Liberiamoli tutti! (https://datibenecomune.substack.com/)"),
    (r"reception/osservatorio_accoglienza_anac/accoglienza_(?P<y>\d{4})_(?P<m>\d{2})\.csv", "anac_contracts",
     "ANAC (via Osservatorio Accoglienza)",
     "Contratti pubblici per servizi di accoglienza, pubblicati nel mese {y}-{m}", "ANAC",
     "output/accoglienza_{y}_{m}.csv",
     "https://dati.anticorruzione.it/opendata/download/dataset/cig-{y}/filesystem/cig_csv_{y}_{m}.zip",
     CCBY, "{y}-{m}", "final", "filtered by CPV and text search: false positives and omissions possible"),
    (r"themes/salute/istat_29_316_POPSTRBIL1_provinces\.csv", "sdmx_29_316_bil", ISTAT,
     "Cittadini stranieri: bilancio demografico, Italia, regioni, province 2019-2023 (SDMX 29_316 POPSTRBIL1)",
     "DEMI", "datasets/IstatData/Italy, regions, provinces (IT1,29_316_DF_DCIS_POPSTRBIL1_1,1.0).csv",
     "https://esploradati.istat.it/SDMXWS/rest/data/29_316_DF_DCIS_POPSTRBIL1_1", CCBY, "2019/2023", "final",
     "renamed in the mirror"),
    (r"themes/cittadinanza/(?P<f>DCIS_PERMSOGG1_\d+)\.csv", "permsogg", ISTAT,
     "Permessi di soggiorno: nuovi ingressi di cittadini non UE per protezione internazionale, province 2019-2023",
     "DEMI", "datasets/Immigrants.Stat/{f}.csv", "http://stra-dati.istat.it/", CCBY, "2019/2023", "final",
     "Immigrants.Stat export of 12/01/2025; old province scheme (103)"),
    (r"themes/lavoro/(?P<f>D5-Activity_rate_between_foreigners_and_italians)\.csv", "lfs_activity", ISTAT,
     "Tasso di attività di stranieri e italiani per ripartizione 2018-2022", "EMP", "_datasets/{f}.csv",
     "http://dati.istat.it//Index.aspx?QueryId=64369", CCBY, "2018/2022", "final", "macro-areas only"),
    (r"themes/lavoro/(?P<f>D7-Unemployment_rate_between_foreigners_and_italians)\.csv", "lfs_unemployment", ISTAT,
     "Tasso di disoccupazione di stranieri e italiani per ripartizione 2018-2022", "EMP", "_datasets/{f}.csv",
     "https://esploradati.istat.it/databrowser/#/it/dw/categories/IT1,151_914_DF_DCCV_TAXDISOCCU1_3,1.0",
     CCBY, "2018/2022", "final", "macro-areas only"),
    (r"themes/lavoro/(?P<f>DCCV_TAXOCCU1_\d+)\.csv", "lfs_employment_foreign", ISTAT,
     "Tasso di occupazione degli stranieri 15-64 anni per ripartizione 2019-2023", "DEMI",
     "datasets/Immigrants.Stat/{f}.csv", "http://stra-dati.istat.it/", CCBY, "2019/2023", "final",
     "foreigners only; macro-areas only"),
    (r"themes/lavoro/(?P<f>DCCV_TAXDISOCCU1_\d+)\.csv", "lfs_unemployment_foreign", ISTAT,
     "Tasso di disoccupazione degli stranieri per ripartizione 2019-2023", "DEMI",
     "datasets/Immigrants.Stat/{f}.csv", "http://stra-dati.istat.it/", CCBY, "2019/2023", "final",
     "foreigners only; macro-areas only"),
    (r"themes/educazione/(?P<f>NI2024-Stranieri_altri_dati_2)\.csv", "education", ISTAT,
     "Popolazione straniera e italiana 15-64 anni per titolo di studio, Italia 2018-2023 (Noi Italia 2024)",
     "DEMI", "datasets/NoiItalia2024/{f}.csv", "https://noi-italia.istat.it/", CCBY, "2018/2023", "final",
     "spreadsheet layout; Italy only"),
]

SKIP = re.compile(r"(MANIFEST-\w+|README|LICENSE|SOURCES)\.md$|/geojson/")


def manifest_hashes(mirror: Path) -> dict[str, tuple[int, str]]:
    """Sizes and checksums as the manifests state them, keyed by file name and by relative path."""
    out: dict[str, tuple[int, str]] = {}
    row = re.compile(r"^\|\s*([^|]+?)\s*\|\s*(\d+)\s*\|\s*(?:\d+\s*\|\s*[^|]*\|\s*)?([0-9a-f]{64})\s*\|")
    for manifest in sorted(mirror.glob("MANIFEST-*.md")):
        for line in manifest.read_text(encoding="utf-8").splitlines():
            m = row.match(line)
            if m:
                name, size, sha = m.group(1), int(m.group(2)), m.group(3)
                out[name] = (size, sha)
    return out


def main(mirror: Path) -> None:
    stated = manifest_hashes(mirror)
    files = sorted(p for p in mirror.rglob("*") if p.is_file() and not SKIP.search(p.as_posix()))
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["id", "dataset", "producer", "title", "path", "sha256", "size", "reference_date",
                     "status", "licence", "upstream_url", "producer_url", "origin", "note"])
    for p in files:
        rel = p.relative_to(mirror).as_posix()
        for pattern, dataset, producer, title, repo_key, repo_path, prod_url, lic, ref, status, note in RULES:
            m = re.fullmatch(pattern, rel)
            if m:
                break
        else:
            raise SystemExit(f"no registry rule for {rel}")
        g = m.groupdict()
        data = p.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        size = len(data)
        for key in (rel, rel.split("/", 1)[1], p.name):
            if key in stated and stated[key] != (size, sha):
                raise SystemExit(f"{rel}: mirror bytes differ from its manifest ({stated[key]} vs {(size, sha)})")
        if repo_key:
            repo, commit = REPOS[repo_key]
            path = repo_path.format(**g)
            upstream = RAW.format(repo=repo, commit=commit, path=quote(path))
            origin = f"{repo}@{commit[:12]}:{path}"
        else:
            upstream, origin = "", "transcribed for INSIEna (mirror only)"
        ident = re.sub(r"[^a-z0-9]+", "_", p.name.split(".")[0].lower()).strip("_")
        if dataset.startswith("cruscotto"):
            ident = f"cruscotto_{ident.replace('-', '_')}"
        elif dataset == "anac_contracts":
            ident = f"anac_{ident}"
        writer.writerow([ident, dataset, producer, title.format(**g), rel, sha, size, ref.format(**g),
                         status, lic, upstream, prod_url.format(**g), origin, note])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
