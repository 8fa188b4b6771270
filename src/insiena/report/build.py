"""Build one province's report project: figures, table partials and downloads, key numbers.

    from insiena.report.build import build_province
    build_province("052", inputs=..., outputs=..., cfg=...)

The Quarto source in report/ holds prose, shortcodes and references only. Everything that depends on
the data is computed here, per province, and written into results/<province>/report_src/, a copy of
report/ plus:

    _variables.yml   the key numbers, already formatted in Italian (read with {{< var a.b >}})
    tables/<x>.md    one partial per table: the pipe table, its caption ({#tbl-x}), the source line
                     with the reference date and the links to the CSV/XLSX downloads
    figures/<x>.md   one partial per figure: the image ({#fig-x}, with alt text) and its source line
    figures/<x>.png  the figure
    texts/<x>.md     generated sentences whose content depends on the province (a level that does
                     not exist, a benchmark that does not apply)

and beside it results/<province>/tables/<x>.csv|.xlsx and results/<province>/figures/<x>.png, the
downloads the HTML links to. Italian number formatting (insiena.fmt) everywhere in text; the CSV
and XLSX keep raw numbers. Data text (names of comuni, buyers, projects) goes through md_escape.

This module imports pandas and matplotlib but never pandera or jsonschema: the validated catalogue
and registry arrive pre-digested from the national job (insiena.report.shared).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from insiena.io import read_parquet, write_csv, write_parquet
from insiena.report.shortcodes import md_escape

log = logging.getLogger(__name__)

REPORT_SOURCE = "report"        # the Quarto source folder of the repository
# A fixed workbook date: two runs must give byte-identical XLSX files.
XLSX_DATE = (2000, 1, 1, 0, 0, 0)
XLSX_ISO = "2000-01-01T00:00:00Z"
# Characters of table text on one line of an A4 page (16 cm at the table font size), for the
# narrowest width a column may get.
LINE_CHARS = 105


# ----------------------------------------------------------------------------------- report parts

@dataclass
class Table:
    """A table of the report: shown as a pipe table, downloadable as CSV and XLSX."""

    name: str                   # file stem; the label is tbl-<name>
    caption: str                # markdown (data parts already escaped)
    data: pd.DataFrame          # raw values for CSV/XLSX (column names as shown)
    display: pd.DataFrame       # formatted, escaped strings for the pipe table
    source: str                 # markdown: "Fonte: ..." without the date
    date: str                   # reference phrase: "Dati al 31 dicembre 2025", "Anni 2019-2023"
    align: list[str] | None = None   # "l"/"r" per display column; numbers right by default
    intro: str = ""             # markdown before the table (e.g. a sentence referring to it)
    note: str = ""              # markdown after the source line
    sheet: str = ""             # XLSX sheet title (default: the name)

    @property
    def label(self) -> str:
        return f"tbl-{self.name}"


@dataclass
class FigureBlock:
    """A figure: PNG file plus a partial with caption, alt text and source line."""

    name: str
    caption: str                # markdown
    alt: str                    # plain text (no quotes)
    source: str                 # markdown "Fonte: ..."
    date: str
    figure: Any                 # matplotlib Figure
    intro: str = ""
    note: str = ""
    width: str = "100%"

    @property
    def label(self) -> str:
        return f"fig-{self.name}"


@dataclass
class Report:
    province: str
    variables: dict = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)
    figures: list[FigureBlock] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


# ------------------------------------------------------------------------------------ rendering md

def _alignment(table: Table) -> list[str]:
    if table.align:
        return table.align
    out = []
    for col in table.data.columns[: len(table.display.columns)]:
        out.append("r" if pd.api.types.is_numeric_dtype(table.data[col]) else "l")
    return out + ["l"] * (len(table.display.columns) - len(out))


def column_weights(display: pd.DataFrame) -> list[int]:
    """Relative column widths: the longest cell (capped), with room for the header's longest word.

    pandoc reads them from the dashes of the separator line, for the HTML and the PDF alike; without
    them every column gets the same share and a column of names wraps while numbers have room."""
    weights, floors = [], []
    for col in display.columns:
        texts = [_visible(v) for v in display[col]]
        longest = max((len(t) for t in texts), default=0)
        # A word cannot wrap: the column must hold the longest one (Typst would let it overflow).
        longest_word = max((len(w) for t in [*texts, str(col)] for w in t.split()), default=1)
        weights.append(max(min(longest, 50), longest_word + 2, 4))
        floors.append((longest_word + 2) / LINE_CHARS)
    shares = [w / sum(weights) for w in weights]
    # Raise the columns below their floor, taking the room from the others in proportion.
    for _ in range(len(shares)):
        short = [i for i, (sh, fl) in enumerate(zip(shares, floors)) if sh < fl - 1e-9]
        if not short:
            break
        need = sum(floors[i] - shares[i] for i in short)
        rest = [i for i in range(len(shares)) if i not in short]
        room = sum(shares[i] for i in rest)
        if room <= need:
            break
        for i in short:
            shares[i] = floors[i]
        for i in rest:
            shares[i] -= need * shares[i] / room
    return [max(3, round(sh * 200)) for sh in shares]


def _visible(cell) -> str:
    text = "" if cell is None else str(cell)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links show their text only
    return re.sub(r"\\(.)", r"\1", text).replace("**", "")


def pipe_table(display: pd.DataFrame, align: list[str]) -> str:
    header = "| " + " | ".join(md_escape(c) for c in display.columns) + " |"
    rule = "|" + "|".join(("-" * (w - 1) + ":") if a == "r" else (":" + "-" * (w - 1))
                          for a, w in zip(align, column_weights(display))) + "|"
    lines = [header, rule]
    for row in display.itertuples(index=False):
        cells = ["" if v is None else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def downloads(name: str) -> str:
    # Relative to results/<province>/report.html, where the tables/ folder sits beside the report.
    return f"Scarica: [CSV](tables/{name}.csv) · [XLSX](tables/{name}.xlsx)"


def source_line(source: str, date: str) -> str:
    """ "Fonte: ... . Dati al ... ." — `date` is the whole reference phrase ("Dati al 1° gennaio
    2025", "Anni 2019-2023", "Report del 15 settembre 2025")."""
    return f"{source.strip().rstrip('.')}. {date.strip().rstrip('.')}."


def source_block(source: str, date: str, extra: str = "") -> str:
    text = source_line(source, date)
    if extra:
        text += f" {extra}"
    return f"::: {{.source}}\n{text}\n:::"


def table_partial(table: Table) -> str:
    parts = []
    if table.intro:
        parts.append(table.intro.strip())
    parts.append(pipe_table(table.display, _alignment(table)))
    parts.append(f": {table.caption} {{#{table.label}}}")
    parts.append(source_block(table.source, table.date, downloads(table.name)))
    if table.note:
        parts.append(table.note.strip())
    return "\n\n".join(parts) + "\n"


def _attribute(text: str) -> str:
    # Inside a pandoc attribute value: no quotes, no backslashes, one line.
    return " ".join(str(text).replace('"', "'").replace("\\", "/").split())


def figure_partial(fig: FigureBlock) -> str:
    parts = []
    if fig.intro:
        parts.append(fig.intro.strip())
    parts.append(f"![{fig.caption}](figures/{fig.name}.png){{#{fig.label} "
                 f"fig-alt=\"{_attribute(fig.alt)}\" width={fig.width}}}")
    parts.append(source_block(fig.source, fig.date))
    if fig.note:
        parts.append(fig.note.strip())
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------------------------------- writers

def xlsx_bytes(frame: pd.DataFrame, sheet: str, title: str, source: str) -> bytes:
    """A one-sheet workbook: a title row, the table with raw values, the source below.

    Deterministic: openpyxl stamps the save time into docProps/core.xml and every zip entry; both
    are replaced by a fixed date so that the same table gives the same bytes.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    wb.properties.creator = "INSIEna"
    ws = wb.create_sheet(title=_sheet_title(sheet))
    bold = Font(bold=True)
    from openpyxl.cell import WriteOnlyCell

    def cell(value, font=None):
        c = WriteOnlyCell(ws, value=value)
        if font is not None:
            c.font = font
        return c

    ws.append([cell(title, bold)])
    ws.append([cell(str(c), bold) for c in frame.columns])
    for row in frame.itertuples(index=False):
        ws.append([_xlsx_value(v) for v in row])
    ws.append([])
    ws.append([source])
    buf = io.BytesIO()
    wb.save(buf)
    return _fix_zip_dates(buf.getvalue())


def _sheet_title(name: str) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", name)[:31] or "tabella"


def _xlsx_value(v):
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    return v


def _fix_zip_dates(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                 rb"\g<1>" + XLSX_ISO.encode() + rb"\g<3>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=XLSX_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return out.getvalue()


def plain(markdown: str) -> str:
    """Markdown source line -> plain text for the XLSX footer (escapes and links removed)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"\\(.)", r"\1", text)


def write_report(report: Report, out: dict[str, Path], report_source: Path, svg: bool = False) -> None:
    """Write the project folder, the downloads and the figures; each folder swapped in whole.

    `out`: report_src, tables, figures (folders). Each is assembled in a temporary sibling folder
    and renamed into place at the end, so a failure leaves the previous complete folder.
    """
    from insiena.figures import save_figure

    staging = {}
    try:
        for key in ("report_src", "tables", "figures"):
            target = Path(out[key])
            target.parent.mkdir(parents=True, exist_ok=True)
            staging[key] = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        src, tables, figures = staging["report_src"], staging["tables"], staging["figures"]
        for path in sorted(report_source.rglob("*")):
            rel = path.relative_to(report_source)
            if path.is_dir() or path.name in ("_variables.yml", "README.md") or path.name.startswith("."):
                continue
            if path.suffix not in (".qmd", ".yml", ".md", ".css", ".typ", ".lua", ".bib"):
                continue
            dest = src / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
        (src / "tables").mkdir(exist_ok=True)
        (src / "figures").mkdir(exist_ok=True)
        (src / "texts").mkdir(exist_ok=True)
        (src / "_variables.yml").write_text(variables_yaml(report.variables), encoding="utf-8")
        for table in report.tables:
            (src / "tables" / f"{table.name}.md").write_text(table_partial(table), encoding="utf-8")
            write_csv(tables / f"{table.name}.csv", table.data, sort_by=[])
            (tables / f"{table.name}.xlsx").write_bytes(
                xlsx_bytes(table.data, table.sheet or table.name, plain(table.caption),
                           plain(source_line(table.source, table.date))))
        for fig in report.figures:
            png = figures / f"{fig.name}.png"
            save_figure(fig.figure, png, figures / f"{fig.name}.svg" if svg else None)
            shutil.copyfile(png, src / "figures" / f"{fig.name}.png")
            (src / "figures" / f"{fig.name}.md").write_text(figure_partial(fig), encoding="utf-8")
        for name, text in report.texts.items():
            (src / "texts" / f"{name}.md").write_text(text.strip() + "\n", encoding="utf-8")
        for key, folder in staging.items():
            _swap(folder, Path(out[key]))
    finally:
        for folder in staging.values():
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)


def _swap(new: Path, target: Path) -> None:
    os.chmod(new, 0o777 & ~_umask())
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old.{os.getpid()}")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def variables_yaml(variables: dict) -> str:
    import yaml

    header = ("# Written by the pipeline (rule report_data): key numbers of the report, already\n"
              "# formatted in Italian. Do not edit: the next run overwrites this file.\n")
    return header + yaml.safe_dump(_stringify(variables), allow_unicode=True, sort_keys=True, width=1000)


def _stringify(value):
    if isinstance(value, dict):
        return {str(k): _stringify(v) for k, v in value.items()}
    return str(value)


# ---------------------------------------------------------------------------------------- loading

@dataclass
class ProvinceInputs:
    """Everything one province's report reads, already cut to what it needs."""

    province: str
    cfg: dict
    territories: pd.DataFrame
    indicators: pd.DataFrame    # the rows of every territory the report may show (read_indicators)
    shared: dict
    coverage: pd.DataFrame | None = None
    contracts: pd.DataFrame | None = None
    published: pd.DataFrame | None = None
    centres_status: dict | None = None
    centres: pd.DataFrame | None = None
    centres_comuni: pd.DataFrame | None = None
    features: list | None = None
    boundaries_source: str = ""


CONTRACT_COLUMNS = ["cig", "publication_date", "year", "province_code", "province_basis", "buyer_name",
                    "buyer_type", "buyer_province_code", "amount_lot", "framework", "category", "minors",
                    "confidence", "source_id"]


def _read(path, columns=None, filters=None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=columns, filters=filters)
    return table.to_pandas(types_mapper=_nullable)


def _nullable(arrow_type):
    import pyarrow as pa

    mapping = {pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(),
               pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(),
               pa.bool_(): pd.BooleanDtype()}
    return mapping.get(arrow_type)


def province_codes(territories: pd.DataFrame, province: str) -> list[str]:
    com = territories[(territories["territory_level"] == "comune") & (territories["province_code"] == province)]
    return sorted(com["territory_code"].dropna().unique())


# LFS macro-areas containing each ripartizione (as insiena.indicators.MACROAREA_OF_RIPARTIZIONE;
# tests/test_report_integration.py checks that the two selections agree).
MACROAREA_OF_RIPARTIZIONE = {"1": "ITCD", "2": "ITCD", "4": "ITFG", "5": "ITFG"}
CONTEXT_THEMES = {"lavoro": ("ripartizione", "macroarea", "italia"), "educazione": ("italia",)}


def context_codes(territories: pd.DataFrame, province: str, cfg: dict) -> dict:
    """Codes of the territories a province's report shows, by role."""
    prov = territories[(territories["territory_level"] == "provincia") & (territories["territory_code"] == province)]
    if prov.empty:
        raise ValueError(f"province {province} is not in the territories table")
    region, rip = str(prov["region_code"].iloc[0]), str(prov["ripartizione_code"].iloc[0])
    zones = territories.loc[(territories["territory_level"] == "zona_distretto")
                            & (territories["province_code"] == province), "territory_code"]
    areas = cfg.get("areas") or {}
    comparators = list((cfg.get("comparators") or {}).get(province, [])) + [region, "IT"]
    # Areas that contain the province and their provinces: the SAMEDI side-by-side table.
    member_areas = [code for code, a in areas.items() if province in a.get("provinces", [])]
    members = sorted({m for code in member_areas for m in areas[code]["provinces"]})
    return {"comuni": province_codes(territories, province), "zones": sorted(zones.astype(str)),
            "comparators": comparators, "region": region, "ripartizione": rip,
            "macroarea": MACROAREA_OF_RIPARTIZIONE.get(rip), "areas": member_areas, "area_members": members}


def read_indicators(path: str | Path, province: str, cfg: dict, territories: pd.DataFrame) -> pd.DataFrame:
    """The national indicators table cut, while reading, to the territories the report can show.

    A Parquet filter on the territory codes: the province, its comuni and zones, its comparators,
    its region, ripartizione and macro-area, Italy, and the areas containing it with their provinces.
    """
    import pyarrow.compute as pc

    c = context_codes(territories, province, cfg)
    codes = sorted({province, *c["comuni"], *c["zones"], *c["comparators"], c["region"], c["ripartizione"], "IT",
                    *([c["macroarea"]] if c["macroarea"] else []), *c["areas"], *c["area_members"]})
    return _read(path, filters=pc.field("territory_code").isin(codes)).reset_index(drop=True)


def province_slice(table: pd.DataFrame, province: str, cfg: dict, territories: pd.DataFrame) -> pd.DataFrame:
    """The rows one province's report needs, each at its true level: the same selection as
    insiena.indicators.indicators_for_province (province, comuni, zones, comparators, and the labour
    and education context rows), without importing the indicators stage and its validators."""
    c = context_codes(territories, province, cfg)
    level, code = table["territory_level"], table["territory_code"]
    keep = ((level == "provincia") & (code == province)) | ((level == "comune") & code.str[:3].eq(province))
    keep |= (level == "zona_distretto") & code.str.startswith(f"{province}-ZD")
    keep |= code.isin(c["comparators"]) & level.isin(["provincia", "area", "regione", "italia"])
    wanted = {"ripartizione": c["ripartizione"], "macroarea": c["macroarea"], "italia": "IT"}
    for theme, levels in CONTEXT_THEMES.items():
        for lv in levels:
            if wanted.get(lv) is not None:
                keep |= (table["theme"] == theme) & (level == lv) & (code == wanted[lv])
    return table[keep.fillna(False)].reset_index(drop=True)


def load_inputs(province: str, paths: dict, cfg: dict) -> ProvinceInputs:
    """Read the national tables with filters: only the rows and columns this province uses."""
    import pyarrow.compute as pc

    from insiena.report.shared import load_shared

    territories = read_parquet(paths["territories"])
    indicators = read_indicators(paths["indicators"], province, cfg, territories)
    shared = load_shared(paths["shared"])
    region = territories.loc[(territories["territory_level"] == "provincia")
                             & (territories["territory_code"] == province), "region_code"]
    region = region.iloc[0] if len(region) else None
    pyr = shared["pyramids"]
    shared["pyramids"] = pyr[pyr["territory_code"].isin([province, region, "IT"])].reset_index(drop=True)
    coverage = None
    if paths.get("coverage") and Path(paths["coverage"]).is_file():
        coverage = pd.read_csv(paths["coverage"], dtype=str, keep_default_na=False)
    placed = pc.field("province_code") == province
    by_prefettura = (pc.field("buyer_type") == "prefettura") & (pc.field("buyer_province_code") == province)
    contracts = _read(paths["contracts"], columns=CONTRACT_COLUMNS, filters=placed | by_prefettura)
    published = read_parquet(paths["published"])
    published = published[published["province_code"] == province].reset_index(drop=True)
    status = json.loads(Path(paths["centres_status"]).read_text(encoding="utf-8"))
    centres = centres_comuni = None
    if status.get("present"):
        centres = _read(paths["centres"], filters=pc.field("province_code") == province)
        centres_comuni = _read(paths["centres_comuni"], filters=pc.field("province_code") == province)
    features = []
    if paths.get("boundaries") and Path(paths["boundaries"]).is_file():
        from insiena.maps import load_municipalities

        features = load_municipalities(paths["boundaries"])
    return ProvinceInputs(province=province, cfg=cfg, territories=territories, indicators=indicators,
                          shared=shared, coverage=coverage, contracts=contracts,
                          published=published, centres_status=status, centres=centres,
                          centres_comuni=centres_comuni, features=features,
                          boundaries_source=paths.get("boundaries_source", ""))


# --------------------------------------------------------------------------------------- pipeline

def build_province(province: str, paths: dict, outputs: dict, cfg: dict,
                   report_source: str | Path = REPORT_SOURCE, svg: bool = False) -> Report:
    """Job body of rule report_data: read, compute every section, write every output."""
    from insiena.report.content import assemble

    t0 = time.perf_counter()
    inputs = load_inputs(province, paths, cfg)
    t1 = time.perf_counter()
    own = province_slice(inputs.indicators, province, cfg, inputs.territories)
    write_parquet(outputs["indicators_parquet"], own, sort_by=[])
    write_csv(outputs["indicators_csv"], own, sort_by=[])
    report = assemble(inputs)
    t2 = time.perf_counter()
    write_report(report, {k: Path(outputs[k]) for k in ("report_src", "tables", "figures")},
                 Path(report_source), svg=svg)
    t3 = time.perf_counter()
    report.timings.update(read=t1 - t0, compute=t2 - t1, write=t3 - t2)
    log.info("report data for %s: %d tables, %d figures, %d variables; read %.2f s, compute %.2f s, "
             "write %.2f s", province, len(report.tables), len(report.figures),
             _count(report.variables), t1 - t0, t2 - t1, t3 - t2)
    return report


def _count(d: dict) -> int:
    return sum(_count(v) if isinstance(v, dict) else 1 for v in d.values())
