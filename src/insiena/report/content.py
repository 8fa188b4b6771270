"""The sections of the territorial report: key numbers, tables and figures from the indicators.

`assemble(inputs)` returns a `Report` (insiena.report.build) for one province; nothing is written
here. Conventions that the reader relies on, enforced in one place:

- every number comes from a processed table (mostly the indicators table), formatted by insiena.fmt;
- every indicator is labelled with its true territory (the Tuscan reception series is "Toscana",
  the labour rates are "Italia centrale", education is "Italia"), and every figure and table says
  its source and reference date;
- what the data lack is said in words (a missing level, a missing year, a gap of the catalogue),
  never filled in;
- data text (names of comuni, buyers, projects, organisations) goes through md_escape.
"""

from __future__ import annotations

import math
import re
from typing import Iterable

import numpy as np
import pandas as pd

from insiena import figures as F
from insiena import fmt
from insiena.report.build import FigureBlock, ProvinceInputs, Report, Table
from insiena.report.shortcodes import md_escape as esc

DIMS = ("sex", "citizenship", "age_class", "category")
ITALIA = "IT"
LEVEL_LABELS = {"comune": "comune", "zona_distretto": "zona-distretto", "provincia": "provincia",
                "area": "area", "regione": "regione", "ripartizione": "ripartizione",
                "macroarea": "macroarea", "italia": "Italia"}
THEME_LABELS = {"demografia": "Demografia", "accoglienza": "Accoglienza", "salute": "Salute",
                "alloggio": "Alloggio", "lavoro": "Lavoro", "educazione": "Educazione",
                "governance": "Governance"}
FOUR_THEMES = ["salute", "alloggio", "lavoro", "educazione"]
GAP_KINDS = {"not_in_mirror": "tabella aperta esistente, non copiata nel mirror",
             "not_found": "nessuna tabella aperta trovata"}
# Short names of the datasets for source lines (full titles, dates and checksums: appendix).
SOURCE_LABELS = {
    "sdmx_29_316_fjan": ("ISTAT", "stranieri residenti al 1° gennaio, FJAN"),
    "sdmx_29_316_bil": ("ISTAT", "bilancio demografico degli stranieri 2019-2023, POPSTRBIL1"),
    "bilancio_p3": ("ISTAT", "bilancio demografico degli stranieri 2025, P3"),
    "bilancio_p2": ("ISTAT", "bilancio demografico 2025, P2"),
    "bilancio_mensile": ("ISTAT", "bilancio demografico mensile"),
    "sdmx_22_289": ("ISTAT", "popolazione residente 2022-2023, 22_289"),
    "posas": ("ISTAT", "popolazione per età, POSAS"),
    "posas_italia": ("ISTAT", "popolazione per età, Italia"),
    "strasa": ("ISTAT", "stranieri per età 2022, STRASA"),
    "permsogg": ("ISTAT", "permessi di soggiorno per protezione internazionale, PERMSOGG1"),
    "education": ("ISTAT", "Noi Italia 2024, titoli di studio"),
    "lfs_activity": ("ISTAT", "forze di lavoro, tasso di attività D5"),
    "lfs_unemployment": ("ISTAT", "forze di lavoro, tasso di disoccupazione D7"),
    "lfs_unemployment_foreign": ("ISTAT", "forze di lavoro, disoccupazione degli stranieri TAXDISOCCU1"),
    "lfs_employment_foreign": ("ISTAT", "forze di lavoro, occupazione degli stranieri TAXOCCU1"),
    "itter107": ("ISTAT", "codici dei territori ITTER107"),
    "zone_distretto": ("USL Toscana sud est", "comuni per zona-distretto"),
    "cruscotto": ("Ministero dell'Interno", "cruscotto statistico giornaliero, via ondata"),
    "cruscotto_pdf": ("Ministero dell'Interno", "cruscotto statistico giornaliero, via ondata"),
    "anac_contracts": ("ANAC", "contratti per servizi di accoglienza selezionati dall'Osservatorio Accoglienza"),
    "boundaries": ("openpolis", "confini comunali ISTAT, giugno 2023"),
}
CENSUS_BREAK_AT = "2021-07-02"  # drawn between the 1 January 2021 and 2022 points
SAI_SWITCH_AT = "2021-01-07"    # between the last SIPROIMI (31/12/2020) and first SAI (15/01/2021) report
INSIENA = "elaborazione INSIEna"


# ------------------------------------------------------------------------------------- formatting

def period_words(period) -> str:
    """"2025-12-31" -> "31 dicembre 2025", "2025-09" -> "settembre 2025", "2023" -> "2023"."""
    s = str(period)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return fmt.fmt_date(s)
    if re.fullmatch(r"\d{4}-\d{2}", s):
        return fmt.fmt_month(s + "-01")
    return s


def at_date(period) -> str:
    """ "al 31 dicembre 2025", "all'8 marzo 2024", "nel 2023": the preposition the sentence needs."""
    s = str(period)
    if re.fullmatch(r"\d{4}", s):
        return f"nel {s}"
    words = period_words(s)
    return f"all'{words}" if words.split()[0] in ("8", "11") else f"al {words}"


def cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


# Articulated prepositions of the regions ("della Toscana", "in Toscana"), by ISTAT code.
REGION_OF = {"01": "del", "04": "del", "05": "del", "06": "del", "12": "del", "14": "del", "13": "dell'",
             "08": "dell'", "10": "dell'", "11": "delle"}
REGION_IN = {"12": "nel", "11": "nelle"}


def num(x, decimals: int = 0, signed: bool = False) -> str:
    return fmt.fmt_num(x, decimals, signed=signed)


def pct(x, decimals: int = 1, signed: bool = False) -> str:
    return fmt.fmt_pct(x, decimals, signed=signed)


def per1000(x, signed: bool = False) -> str:
    return fmt.fmt_num(x, 1, signed=signed)


def years_span(years: Iterable) -> str:
    ys = sorted({int(y) for y in years})
    if not ys:
        return "n.d."
    return str(ys[0]) if len(ys) == 1 else f"{ys[0]}\u2013{ys[-1]}"


def words_list(items: list[str], conj: str = "e") -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conj} " + items[-1]


def compare_word(a, b, tolerance: float = 0.05) -> str:
    """'superiore' / 'inferiore' / 'in linea con': a vs b on the values as printed."""
    if fmt.is_missing(a) or fmt.is_missing(b):
        return "non confrontabile con"
    if abs(float(a) - float(b)) < tolerance:
        return "in linea con"
    return "superiore a" if float(a) > float(b) else "inferiore a"


# --------------------------------------------------------------------------------- indicator rows

class Indicators:
    """Look-ups in the province's slice of the indicators table.

    A breakdown dimension not asked for is taken at "totale" when that row exists (the table
    writes "totale" where a breakdown does not apply), so `get("foreign_share", "052")` is the
    headline value, and `get("reception_presences", "09", category="second_level")` one part.

    The rows are indexed once by (indicator, territory) as plain records: the report makes several
    hundred look-ups, and a pandas mask over the whole slice for each would cost seconds.
    """

    def __init__(self, df: pd.DataFrame):
        self.df = df
        self.columns = list(df.columns)
        self._idx: dict[tuple[str, str], list[dict]] = {}
        self._codes: dict[str, set] = {}
        if len(df):
            records = df.astype(object).where(df.notna(), None).to_dict("records")
            for rec in records:
                if rec["value"] is None:
                    continue
                self._idx.setdefault((rec["indicator_id"], rec["territory_code"]), []).append(rec)
                self._codes.setdefault(rec["indicator_id"], set()).add(rec["territory_code"])

    def records(self, indicator_id: str, code=None, period=None, level=None, **dims) -> list[dict]:
        if code is None:
            codes = sorted(self._codes.get(indicator_id, ()))
        else:
            codes = [code] if isinstance(code, str) else list(code)
        out = []
        for c in codes:
            out.extend(self._idx.get((indicator_id, c), ()))
        if level is not None:
            levels = {level} if isinstance(level, str) else set(level)
            out = [r for r in out if r["territory_level"] in levels]
        if period is not None:
            out = [r for r in out if r["period"] == str(period)]
        for dim in DIMS:
            if dims.get(dim) is not None:
                out = [r for r in out if r.get(dim) == dims[dim]]
            elif dim not in dims and any(r.get(dim) == "totale" for r in out):
                out = [r for r in out if r.get(dim) == "totale"]
        return out

    def rows(self, indicator_id: str, code=None, period=None, level=None, **dims) -> pd.DataFrame:
        recs = self.records(indicator_id, code, period, level, **dims)
        return pd.DataFrame.from_records(recs, columns=self.columns)

    def get(self, indicator_id: str, code: str, period=None, **dims) -> dict | None:
        """One row as a dict: at `period`, or at the latest period when None."""
        recs = self.records(indicator_id, code, period, **dims)
        if not recs:
            return None
        last = max(r["period"] for r in recs)
        return self._one([r for r in recs if r["period"] == last], indicator_id, code, dims)

    @staticmethod
    def _one(recs: list[dict], indicator_id: str, code, dims: dict) -> dict:
        # Two rows left means a breakdown the caller did not pin down: picking one would be a guess.
        if len(recs) > 1:
            keys = sorted({tuple(r.get(d) for d in DIMS) for r in recs})
            raise ValueError(f"{indicator_id} {code} {recs[0]['period']}: {len(recs)} rows for {dims or 'no breakdown'} "
                             f"(sex, citizenship, age_class, category: {keys[:4]}); pass the breakdown explicitly")
        return recs[0]

    def value(self, indicator_id: str, code: str, period=None, **dims):
        row = self.get(indicator_id, code, period, **dims)
        return None if row is None else row["value"]

    def series(self, indicator_id: str, code: str, **dims) -> pd.Series:
        grouped: dict[str, list[dict]] = {}
        for r in self.records(indicator_id, code, **dims):
            grouped.setdefault(str(r["period"]), []).append(r)
        by_period = {p: float(self._one(grouped[p], indicator_id, code, dims)["value"]) for p in sorted(grouped)}
        return pd.Series(list(by_period.values()), index=list(by_period.keys()), dtype=float)

    def periods(self, indicator_id: str, code, **dims) -> list[str]:
        return sorted({str(r["period"]) for r in self.records(indicator_id, code, **dims)})

    def latest(self, indicator_id: str, code, **dims) -> str | None:
        p = self.periods(indicator_id, code, **dims)
        return p[-1] if p else None

    @staticmethod
    def sources(frame) -> list[str]:
        """Registry ids cited by some rows (a DataFrame or a list of records)."""
        values = frame["source_ids"] if isinstance(frame, pd.DataFrame) else [r.get("source_ids") for r in frame]
        ids = []
        for s in values:
            if s is None or (not isinstance(s, str) and fmt.is_missing(s)):
                continue
            ids.extend(x.strip() for x in str(s).split(";") if x.strip())
        return list(dict.fromkeys(ids))


# ---------------------------------------------------------------------------------------- context

class Ctx:
    """The province, its territories and comparators, and the report being assembled."""

    def __init__(self, inputs: ProvinceInputs):
        self.inp = inputs
        self.p = inputs.province
        self.ind = Indicators(inputs.indicators)
        self.report = Report(province=inputs.province)
        terr = inputs.territories
        prov = terr[(terr["territory_level"] == "provincia") & (terr["territory_code"] == self.p)]
        if prov.empty:
            raise ValueError(f"province {self.p} is not in the territories table")
        row = prov.iloc[0]
        self.name = str(row["territory_name"])
        self.region = str(row["region_code"])
        self.region_name = str(row["region_name"])
        self.rip = str(row["ripartizione_code"])
        self.rip_name = str(row["ripartizione_name"])
        com = terr[(terr["territory_level"] == "comune") & (terr["province_code"] == self.p)]
        if "current" in com.columns:
            com = com[com["current"].fillna(True).astype(bool)]
        self.comuni = com.sort_values("territory_code").reset_index(drop=True)
        self.zones = terr[(terr["territory_level"] == "zona_distretto")
                          & (terr["province_code"] == self.p)].sort_values("territory_code")
        self.names = dict(zip(terr["territory_code"].astype(str), terr["territory_name"].astype(str)))
        self.names.setdefault(ITALIA, "Italia")
        for code, area in (inputs.cfg.get("areas") or {}).items():
            self.names.setdefault(code, area["name"])
        self.registry = inputs.shared["registry"].set_index("id")
        self.catalogue = inputs.shared["catalogue"]
        self.definitions = inputs.shared["definitions"].set_index("indicator_id")

    # --- variables
    def var(self, key: str, value) -> None:
        node = self.report.variables
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = "n.d." if value is None or (not isinstance(value, str) and fmt.is_missing(value)) \
            else str(value)

    def table(self, table: Table) -> None:
        self.report.tables.append(table)

    def figure(self, block: FigureBlock) -> None:
        self.report.figures.append(block)

    def text(self, name: str, markdown: str) -> None:
        self.report.texts[name] = markdown

    # --- names
    @property
    def pname(self) -> str:
        return esc(self.name)

    @property
    def rname(self) -> str:
        return esc(self.region_name)

    def tname(self, code: str) -> str:
        return self.names.get(code, code)

    def label(self, code: str) -> str:
        """Territory label for tables and legends: "Provincia di Siena", "Toscana", "Italia"."""
        if code == self.p:
            return f"Provincia di {self.name}"
        if code == ITALIA:
            return "Italia"
        return self.tname(code)

    # --- sources
    def source(self, source_ids: Iterable[str], extra: str = "", elaboration: bool = True) -> str:
        """ "Fonte: elaborazione INSIEna su dati ISTAT (FJAN, ...); Ministero dell'Interno (...)" from
        registry ids, grouped by producer, with the short names of the datasets; the appendix
        (@tbl-fonti) has the full titles, dates, licences and checksums."""
        ids = [i for i in dict.fromkeys(source_ids) if i]
        by_producer: dict[str, list[str]] = {}
        for sid in ids:
            dataset = sid.split(":", 1)[1] if sid.startswith("dataset:") else (
                self.registry.loc[sid, "dataset"] if sid in self.registry.index else None)
            if dataset is None:
                continue
            if dataset in SOURCE_LABELS:
                producer, label = SOURCE_LABELS[dataset]
            else:
                producer, label = str(self.registry.loc[sid, "producer"]), str(self.registry.loc[sid, "title"])
            if dataset in ("anac_contracts", "boundaries"):
                n = int((self.registry["dataset"] == dataset).sum())
                label = f"{label}, {n} file" if dataset == "anac_contracts" else label
            by_producer.setdefault(producer, [])
            if label not in by_producer[producer]:
                by_producer[producer].append(label)
        parts = [f"{esc(prod)} ({'; '.join(esc(x) for x in labels)})" for prod, labels in by_producer.items()]
        body = "; ".join(parts) if parts else "dati della pipeline INSIEna"
        lead = f"Fonte: {INSIENA} su dati " if elaboration else "Fonte: "
        text = lead + body
        if extra:
            text += f". {extra}"
        return text

    def source_of(self, *frames, extra: str = "") -> str:
        ids: list[str] = []
        for f in frames:
            ids.extend(self.ind.sources(f))
        return self.source(ids, extra)


# ----------------------------------------------------------------------------------- small tables

def breaks_within(series: dict, breaks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The series breaks that fall inside the dates drawn: a marker outside would stretch the axis."""
    dates = sorted(str(x) for s in series.values() for x in s.index)
    if not dates:
        return []
    return [(d, label) for d, label in breaks if dates[0] < d < dates[-1]]


def make_table(name: str, caption: str, data: pd.DataFrame, source: str, date: str,
               formats: dict | None = None, intro: str = "", note: str = "", align: list[str] | None = None,
               escape: Iterable[str] = (), hide: Iterable[str] = ()) -> Table:
    """Display strings from raw data: `formats` maps a column to a formatter; columns in `escape`
    are data text (md_escape); any other text column is escaped too, numbers are formatted with 0
    decimals unless a formatter is given."""
    formats = formats or {}
    display = pd.DataFrame(index=data.index)
    hide = set(hide)
    shown = [c for c in data.columns if c not in hide]
    for col in shown:
        f = formats.get(col)
        if f is not None:
            display[col] = [f(v) for v in data[col]]
        elif pd.api.types.is_numeric_dtype(data[col]) and not pd.api.types.is_bool_dtype(data[col]):
            display[col] = [num(v) for v in data[col]]
        else:
            display[col] = [esc(v) if not fmt.is_missing(v) else "" for v in data[col]]
    if align is None:
        align = ["r" if pd.api.types.is_numeric_dtype(data[col]) and not pd.api.types.is_bool_dtype(data[col])
                 else "l" for col in shown]
    return Table(name=name, caption=caption, data=data.reset_index(drop=True),
                 display=display.reset_index(drop=True), source=source, date=date, intro=intro, note=note,
                 align=align)


def fig_block(name, caption, alt, source, date, figure, intro="", note="", width="100%") -> FigureBlock:
    return FigureBlock(name=name, caption=caption, alt=alt, source=source, date=date, figure=figure,
                       intro=intro, note=note, width=width)


# ========================================================================================= sections

def section_territory(ctx: Ctx) -> None:
    ind, p = ctx.ind, ctx.p
    ctx.var("province.code", p)
    ctx.var("province.name", ctx.pname)
    ctx.var("region.code", ctx.region)
    ctx.var("region.name", ctx.rname)
    of = REGION_OF.get(ctx.region, "della")
    ctx.var("region.of", f"{of}{'' if of.endswith(chr(39)) else ' '}{ctx.rname}")
    ctx.var("region.in", f"{REGION_IN.get(ctx.region, 'in')} {ctx.rname}")
    ctx.var("ripartizione.name", esc(ctx.rip_name))
    ctx.var("territory.n_comuni", num(len(ctx.comuni)))

    # Population of the comuni at the latest date with totals by comune (share denominators).
    share_period = ind.latest("foreign_share", ctx.comuni["territory_code"].tolist())
    rows = ind.rows("foreign_share", ctx.comuni["territory_code"].tolist(), share_period) if share_period else None
    if rows is not None and not rows.empty:
        big = rows.sort_values(["denominator", "territory_code"], ascending=[False, True]).iloc[0]
        ctx.var("territory.largest_name", esc(ctx.tname(big["territory_code"])))
        ctx.var("territory.largest_pop", num(big["denominator"]))
        ctx.var("territory.date", period_words(share_period))
        ctx.var("territory.at_date", at_date(share_period))
        small = rows.sort_values(["denominator", "territory_code"]).iloc[0]
        ctx.var("territory.smallest_name", esc(ctx.tname(small["territory_code"])))
        ctx.var("territory.smallest_pop", num(small["denominator"]))
        ctx.largest_comune = str(big["territory_code"])
    else:
        for k in ("largest_name", "largest_pop", "date", "at_date", "smallest_name", "smallest_pop"):
            ctx.var(f"territory.{k}", None)
        ctx.largest_comune = None

    zone_source = (ctx.inp.cfg.get("zone_distretto") or {}).get(p)
    if ctx.zones.empty or not zone_source:
        ctx.var("territory.zones", "0")
        ctx.text("zone", (
            f"Per la provincia di {ctx.pname} il livello della zona-distretto (Società della Salute) "
            "non è disponibile: nessuna corrispondenza tra comuni e zone-distretto è registrata nella "
            "configurazione (`zone_distretto`), quindi i dati sono presentati per comune e per provincia. "
            "La mappatura esiste oggi solo per la provincia di Siena; per aggiungerla basta registrare il "
            "file dei comuni per zona tra le fonti."))
        return
    ctx.var("territory.zones", num(len(ctx.zones)))
    com = ctx.comuni
    data = []
    for z in ctx.zones.itertuples():
        members = com[com["zona_distretto_code"] == z.territory_code]
        fs = ind.get("foreign_share", z.territory_code, share_period) if share_period else None
        fr = ind.get("foreign_residents", z.territory_code, share_period) if share_period else None
        data.append({
            "Zona-distretto": z.territory_name, "Comuni": len(members),
            "Residenti": fs["denominator"] if fs else None,
            "Stranieri": fr["value"] if fr else (fs["numerator"] if fs else None),
            "Stranieri (%)": fs["value"] if fs else None,
            "Elenco dei comuni": ", ".join(members["territory_name"].astype(str)),
        })
    frame = pd.DataFrame(data)
    frame["Comuni"] = frame["Comuni"].astype("Int64")
    src_rows = ind.records("foreign_share", ctx.zones["territory_code"].tolist(), share_period)
    source = ctx.source(ctx.ind.sources(src_rows) + [zone_source])
    table = make_table(
        "zone", f"Zone-distretto (Società della Salute) della provincia di {ctx.pname}: comuni, residenti e "
                f"stranieri {at_date(share_period)}", frame, source, f"Dati al {period_words(share_period)}",
        formats={"Stranieri (%)": lambda v: pct(v)},
        intro=(f"La provincia è divisa in {num(len(ctx.zones))} zone-distretto, l'ambito delle Società della "
               "Salute e dei servizi socio-sanitari territoriali (@tbl-zone); i valori delle zone sono "
               "somme dei comuni."))
    ctx.table(table)
    ctx.text("zone", "{{< include /tables/zone.md >}}")


def section_foreigners(ctx: Ctx) -> None:
    """Stock, share, change, comuni, trend, balance, acquisitions, age structure."""

    ind, p = ctx.ind, ctx.p
    latest = ind.latest("foreign_share", p) or ind.latest("foreign_residents", p)
    ctx.latest = latest
    fs = ind.get("foreign_share", p, latest)
    fr = ind.get("foreign_residents", p, latest)
    ctx.var("pop.date", period_words(latest) if latest else None)
    ctx.var("pop.at_date", at_date(latest) if latest else None)
    ctx.var("pop.foreign", num(fr["value"]) if fr else None)
    ctx.var("pop.total", num(fs["denominator"]) if fs else None)
    ctx.var("pop.share", pct(fs["value"]) if fs else None)
    status = (fr or fs or {}).get("status")
    ctx.var("pop.provisional", " (dati provvisori)" if status == "provisional" else "")
    reg = ind.get("foreign_share", ctx.region, latest)
    ita = ind.get("foreign_share", ITALIA, latest)
    ctx.var("pop.region_share", pct(reg["value"]) if reg else None)
    ctx.var("pop.italy_share", pct(ita["value"]) if ita else None)
    ctx.var("pop.region_foreign", num(ind.value("foreign_residents", ctx.region, latest)))
    ctx.var("pop.italy_foreign", num(ind.value("foreign_residents", ITALIA, latest)))
    ctx.var("pop.vs_region", compare_word(fmt.round_half_up(fs["value"], 1) if fs else None,
                                          fmt.round_half_up(reg["value"], 1) if reg else None))
    ctx.var("pop.vs_italy", compare_word(fmt.round_half_up(fs["value"], 1) if fs else None,
                                         fmt.round_half_up(ita["value"], 1) if ita else None))
    ch = ind.get("foreign_residents_change", p, latest)
    series = ind.series("foreign_residents", p)
    prev = [x for x in series.index if x < (latest or "")]
    ctx.var("pop.change_pct", pct(ch["value"], signed=True) if ch else None)
    ctx.var("pop.change_abs", num(ch["numerator"], signed=True) if ch and not fmt.is_missing(ch.get("numerator"))
            else (num(series[latest] - series[prev[-1]], signed=True) if prev and latest in series else None))
    ctx.var("pop.change_from", period_words(prev[-1]) if prev else None)
    ctx.var("pop.change_from_at", at_date(prev[-1]) if prev else "alla data precedente")
    # Change on the census basis (from 1 January 2022): the only span without the 2021/2022 break.
    base = "2022-01-01"
    if base in series.index and latest in series.index and series[base] > 0:
        ctx.var("pop.change_since_2022", pct(100 * (series[latest] / series[base] - 1), signed=True))
        ctx.var("pop.foreign_2022", num(series[base]))
    else:
        ctx.var("pop.change_since_2022", None)
        ctx.var("pop.foreign_2022", None)
    first = series.index[0] if len(series) else None
    ctx.var("pop.first_date", period_words(first) if first else None)
    ctx.var("pop.first_at", at_date(first) if first else None)
    ctx.var("pop.foreign_first", num(series.iloc[0]) if len(series) else None)

    comuni_table_and_map(ctx)
    trend_figures(ctx)
    balance(ctx)
    acquisitions(ctx)
    age_structure(ctx)


def comuni_table_and_map(ctx: Ctx) -> None:
    ind = ctx.ind
    codes = ctx.comuni["territory_code"].tolist()
    period = ind.latest("foreign_share", codes)
    rows = ind.rows("foreign_share", codes, period) if period else ind.df.iloc[0:0]
    res = ind.rows("foreign_residents", codes, period) if period else ind.df.iloc[0:0]
    base = ind.rows("foreign_residents", codes, "2022-01-01")
    zone_names = dict(zip(ctx.zones["territory_code"], ctx.zones["territory_name"]))
    data = []
    for c in ctx.comuni.itertuples():
        s = rows[rows["territory_code"] == c.territory_code]
        r = res[res["territory_code"] == c.territory_code]
        b = base[base["territory_code"] == c.territory_code]
        foreigners = r["value"].iloc[0] if len(r) else (s["numerator"].iloc[0] if len(s) else None)
        b0 = b["value"].iloc[0] if len(b) else None
        change = (100 * (foreigners / b0 - 1)) if foreigners is not None and b0 else None
        entry = {"Codice": c.territory_code, "Comune": c.territory_name}
        if zone_names:
            entry["Zona-distretto"] = zone_names.get(c.zona_distretto_code, "")
        entry.update({"Residenti": s["denominator"].iloc[0] if len(s) else None,
                      "Stranieri": foreigners,
                      "Stranieri (%)": s["value"].iloc[0] if len(s) else None,
                      "Variazione stranieri dal 2022 (%)": change})
        data.append(entry)
    frame = pd.DataFrame(data)
    for col in ("Residenti", "Stranieri"):
        frame[col] = pd.array(frame[col], dtype="Float64").round(0).astype("Int64")
    for col in ("Stranieri (%)", "Variazione stranieri dal 2022 (%)"):
        frame[col] = pd.array(frame[col], dtype="Float64")
    frame = frame.sort_values(["Stranieri (%)", "Codice"], ascending=[False, True], na_position="last",
                              kind="mergesort").reset_index(drop=True)
    frame.insert(0, "Pos.", pd.array(range(1, len(frame) + 1), dtype="Int64"))
    frame.loc[frame["Stranieri (%)"].isna(), "Pos."] = pd.NA
    when = period_words(period) if period else "n.d."
    ranked = frame.dropna(subset=["Stranieri (%)"])
    if len(ranked):
        top, bottom = ranked.iloc[0], ranked.iloc[-1]
        ctx.var("comuni.top_name", esc(top["Comune"]))
        ctx.var("comuni.top_share", pct(top["Stranieri (%)"]))
        ctx.var("comuni.bottom_name", esc(bottom["Comune"]))
        ctx.var("comuni.bottom_share", pct(bottom["Stranieri (%)"]))
        above = int((ranked["Stranieri (%)"].map(lambda v: fmt.round_half_up(v, 1))
                     > fmt.round_half_up(ind.value("foreign_share", ctx.p, period) or math.inf, 1)).sum())
        ctx.var("comuni.above_province", num(above))
        ctx.var("comuni.n_ranked", num(len(ranked)))
    else:
        for k in ("top_name", "top_share", "bottom_name", "bottom_share", "above_province", "n_ranked"):
            ctx.var(f"comuni.{k}", None)
    ctx.var("comuni.date", when)
    ctx.var("comuni.at_date_cap", cap(at_date(period)) if period else "Alla data più recente")
    source = ctx.source(ind.sources(rows) + ind.sources(res) + ind.sources(base))
    has_base = base["value"].notna().any()
    note = ("La variazione dal 1° gennaio 2022 è calcolata sulla stessa base censuaria: i dati comunali "
            "precedenti non sono confrontabili per la ricostruzione della popolazione dopo il Censimento "
            "permanente.") if has_base else ""
    ctx.table(make_table(
        "comuni", f"Comuni della provincia di {ctx.pname} per incidenza degli stranieri sui residenti, "
                  f"{at_date(period) if period else 'data n.d.'}",
        frame, source, f"Dati al {when}",
        formats={"Stranieri (%)": lambda v: pct(v),
                 "Variazione stranieri dal 2022 (%)": lambda v: pct(v, signed=True),
                 "Pos.": lambda v: "" if fmt.is_missing(v) else str(int(v))},
        hide=["Codice"], note=note))

    # Choropleth of the same values.
    features = ctx.inp.features or []
    values = dict(zip(frame["Codice"], frame["Stranieri (%)"]))
    drawable = [f for f in features if f.polygons]
    if not drawable:
        ctx.text("mappa", (f"La mappa dei comuni non è disponibile per la provincia di {ctx.pname}: il file dei "
                           "confini del mirror non contiene geometrie per questa provincia."))
        ctx.var("comuni.map_ref", "")
        return
    label_codes = [ctx.largest_comune] if getattr(ctx, "largest_comune", None) else []
    fig, classes = F.choropleth_figure(features, values, legend_title="Stranieri sul totale\ndei residenti",
                                       decimals=1, unit="%", label_top=3, label_codes=label_codes,
                                       show_counts=True)
    notes = []
    names = dict(zip(frame["Codice"], frame["Comune"]))
    fnames = {f.code: f.name for f in features}
    if classes.missing:
        notes.append("senza dato (tratteggiati): " + ", ".join(esc(names.get(c, fnames.get(c, c))) for c in classes.missing))
    if classes.unmatched:
        notes.append("senza confine nel file dei confini (comuni istituiti o modificati dopo giugno 2023): "
                     + ", ".join(esc(names.get(c, c)) for c in classes.unmatched))
    if classes.no_geometry:
        notes.append("con confine privo di geometria: "
                     + ", ".join(esc(names.get(c, fnames.get(c, c))) for c in classes.no_geometry))
    caption = (f"Incidenza degli stranieri sui residenti nei comuni della provincia di {ctx.pname}, "
               f"{at_date(period)} (classi per quantili; nomi dei tre comuni con l'incidenza più alta e del più "
               f"popoloso)")
    if notes:
        caption += ". Comuni " + "; ".join(notes)
    alt = (f"Mappa dei {len(drawable)} comuni della provincia di {ctx.name} colorati in {len(classes.labels)} "
           f"classi di incidenza degli stranieri, da {classes.labels[0] if classes.labels else 'n.d.'} a "
           f"{classes.labels[-1] if classes.labels else 'n.d.'}")
    boundaries = [ctx.inp.boundaries_source] if ctx.inp.boundaries_source else []
    ctx.figure(fig_block("mappa", caption, alt, ctx.source(ind.sources(rows) + boundaries),
                         f"Dati al {when}; confini comunali openpolis (giugno 2023)", fig,
                         intro="La @fig-mappa mostra l'incidenza per comune, in cinque classi con circa lo stesso "
                               "numero di comuni."))
    ctx.text("mappa", "{{< include /figures/mappa.md >}}")


def trend_figures(ctx: Ctx) -> None:
    ind, p = ctx.ind, ctx.p
    s = ind.series("foreign_residents", p)
    rows = ind.rows("foreign_residents", p)
    if len(s):
        fig = F.line_chart({f"Provincia di {ctx.name}": s}, kind="num", decimals=0,
                           breaks=breaks_within({"s": s}, [(CENSUS_BREAK_AT, "ricostruzione censuaria")]),
                           label_last=True,
                           ylabel="Stranieri residenti", start_at_zero=False, height_cm=7.5)
        first, last = s.index[0], s.index[-1]
        alt = (f"Grafico a linee degli stranieri residenti nella provincia di {ctx.name} dal {period_words(first)} "
               f"({num(s.iloc[0])}) al {period_words(last)} ({num(s.iloc[-1])}), interrotto tra 2021 e 2022 "
               "dalla ricostruzione censuaria")
        ctx.figure(fig_block(
            "andamento", f"Stranieri residenti nella provincia di {ctx.pname}, {period_words(first)} – "
                         f"{period_words(last)}. La linea tratteggiata segna la ricostruzione della popolazione "
                         "sui dati del Censimento permanente (dal 1° gennaio 2022): il salto non è una "
                         "variazione reale", alt, ctx.source(ind.sources(rows)),
            f"Dati dal {period_words(first)} al {period_words(last)}", fig))
    series, used = {}, []
    for code in (p, ctx.region, ITALIA):
        sr = ind.series("foreign_share", code)
        if len(sr):
            series[ctx.label(code)] = sr
            used.append(ind.records("foreign_share", code))
    if series:
        fig = F.line_chart(series, kind="pct", decimals=1,
                           breaks=breaks_within(series, [(CENSUS_BREAK_AT, "ricostruzione censuaria")]),
                           label_last=True, start_at_zero=True, height_cm=7.5, ylabel="Stranieri sul totale dei residenti")
        allp = sorted({x for sr in series.values() for x in sr.index})
        prov_first = ind.periods("foreign_share", p)
        missing_note = ""
        if prov_first and allp and prov_first[0] > allp[0]:
            missing_note = (f" Per la provincia la serie parte dal {period_words(prov_first[0])}: la popolazione "
                            "totale per provincia delle date precedenti non è nel mirror")
        alt = ("Grafico a linee dell'incidenza percentuale degli stranieri sui residenti per "
               + ", ".join(series) + f", dal {period_words(allp[0])} al {period_words(allp[-1])}")
        ctx.figure(fig_block(
            "incidenza", f"Incidenza degli stranieri sui residenti: provincia di {ctx.pname}, {ctx.rname} e Italia."
                         + missing_note, alt, ctx.source_of(*used),
            f"Dati dal {period_words(allp[0])} al {period_words(allp[-1])}", fig))


def balance(ctx: Ctx) -> None:
    ind, p = ctx.ind, ctx.p
    pairs = [("natural_balance_rate_foreigners", "natural_balance_rate_total", "Saldo naturale"),
             ("migratory_balance_rate_foreigners", "migratory_balance_rate_total",
              "Saldo migratorio (interno ed estero)")]
    years = set(ind.periods(pairs[0][0], p)) & set(ind.periods(pairs[0][1], p))
    year = max(years) if years else None
    ctx.var("bal.year", year)
    data, used = [], []
    for code in (p, ctx.region, ITALIA):
        entry = {"Territorio": ctx.label(code)}
        for fid, tid, label in pairs:
            f = ind.get(fid, code, year) if year else None
            t = ind.get(tid, code, year) if year else None
            entry[f"{label}, stranieri (per 1.000)"] = f["value"] if f else None
            entry[f"{label}, tutti i residenti (per 1.000)"] = t["value"] if t else None
            used += [ind.records(fid, code, year), ind.records(tid, code, year)] if year else []
        data.append(entry)
    frame = pd.DataFrame(data)
    for col in frame.columns[1:]:
        frame[col] = pd.array(frame[col], dtype="Float64")
    keys = {"nat_foreign": 1, "nat_total": 2, "mig_foreign": 3, "mig_total": 4}
    for key, i in keys.items():
        ctx.var(f"bal.{key}", per1000(frame.iloc[0, i], signed=True) if len(frame) else None)
    nf, nt = (frame.iloc[0, 1], frame.iloc[0, 2]) if len(frame) else (None, None)
    comment = ""
    if not fmt.is_missing(nf) and not fmt.is_missing(nt) and fmt.round_half_up(nt, 1) < 0:
        comment = (": la popolazione straniera, più giovane, attenua il calo naturale" if nf > 0 else
                   ": anche tra gli stranieri i morti superano i nati" if fmt.round_half_up(nf, 1) < 0 else "")
    ctx.var("bal.comment", comment)
    if not year:
        ctx.text("bilancio", "Il bilancio demografico per cittadinanza non è disponibile per la provincia.")
        return
    source = ctx.source_of(*used)
    ctx.table(make_table(
        "bilancio", f"Bilancio demografico {year}: saldo naturale e migratorio per 1.000 residenti medi, "
                    "stranieri e tutti i residenti", frame, source, f"Anno {year}",
        formats={c: (lambda v: per1000(v, signed=True)) for c in frame.columns[1:]},
        note=("Tassi per 1.000 residenti medi dell'anno ((1° gennaio + 31 dicembre) / 2), per gli stranieri e "
              "per tutti i residenti. Il saldo migratorio somma il saldo interno e quello con l'estero; "
              "sono escluse le iscrizioni e cancellazioni per altri motivi.")))
    fig_data = pd.DataFrame({
        "Stranieri": [frame.iloc[0, 1], frame.iloc[0, 3]],
        "Tutti i residenti": [frame.iloc[0, 2], frame.iloc[0, 4]]},
        index=["Saldo naturale", "Saldo migratorio\n(interno ed estero)"])
    fig = F.grouped_bars(fig_data, kind="num", decimals=1, ylabel="per 1.000 residenti medi", height_cm=7)
    alt = (f"Grafico a barre del bilancio demografico {year} della provincia di {ctx.name}: saldo naturale "
           f"{per1000(frame.iloc[0, 1], True)} per 1.000 per gli stranieri e {per1000(frame.iloc[0, 2], True)} per "
           f"tutti i residenti; saldo migratorio {per1000(frame.iloc[0, 3], True)} e {per1000(frame.iloc[0, 4], True)}")
    ctx.figure(fig_block("bilancio", f"Saldo naturale e saldo migratorio per 1.000 residenti medi nella provincia di "
                                     f"{ctx.pname}, stranieri e tutti i residenti, {year}", alt, source,
                         f"Anno {year}", fig))
    ctx.text("bilancio", "{{< include /figures/bilancio.md >}}\n\n{{< include /tables/bilancio.md >}}")


def acquisitions(ctx: Ctx) -> None:
    ind, p = ctx.ind, ctx.p
    iid = "citizenship_acquisitions_per_1000_foreigners"
    years = ind.periods(iid, p)
    last = years[-1] if years else None
    row = ind.get(iid, p, last) if last else None
    ctx.var("acq.year", last)
    ctx.var("acq.rate", per1000(row["value"]) if row else None)
    ctx.var("acq.count", num(row["numerator"]) if row and not fmt.is_missing(row.get("numerator")) else None)
    ctx.var("acq.region_rate", per1000(ind.value(iid, ctx.region, last)) if last else None)
    ctx.var("acq.italy_rate", per1000(ind.value(iid, ITALIA, last)) if last else None)
    ctx.var("acq.first_year", years[0] if years else None)
    span = list(range(int(years[0]), int(years[-1]) + 1)) if years else []
    missing = [str(y) for y in span if str(y) not in years]
    ctx.var("acq.missing", words_list(missing) if missing else "nessuno")
    if not years:
        ctx.text("acquisizioni", "Le acquisizioni di cittadinanza non sono disponibili per la provincia.")
        return
    data, used, series = [], [], {}
    for code in (p, ctx.region, ITALIA):
        s = ind.series(iid, code)
        if len(s):
            series[ctx.label(code)] = pd.Series(s.values, index=[int(x) for x in s.index])
        used.append(ind.records(iid, code))
    prov = ind.rows(iid, p)
    for y in span:
        entry = {"Anno": str(y)}
        r = prov[prov["period"] == str(y)]
        entry[f"Acquisizioni, provincia di {ctx.name}"] = r["numerator"].iloc[0] if len(r) else None
        for code in (p, ctx.region, ITALIA):
            entry[f"Per 1.000 stranieri, {ctx.label(code)}"] = ind.value(iid, code, str(y))
        data.append(entry)
    frame = pd.DataFrame(data)
    frame[frame.columns[1]] = pd.array(frame.iloc[:, 1], dtype="Float64").round(0).astype("Int64")
    for col in frame.columns[2:]:
        frame[col] = pd.array(frame[col], dtype="Float64")
    source = ctx.source_of(*used)
    miss = (f" Il {words_list(missing)} non è coperto da nessuna fonte del mirror ed è lasciato vuoto."
            if missing else "")
    ctx.table(make_table(
        "acquisizioni", f"Acquisizioni della cittadinanza italiana, numero e tasso per 1.000 stranieri residenti medi, "
                        f"{years_span(years)}", frame, source, f"Anni {years_span(years)}",
        formats={c: per1000 for c in frame.columns[2:]} | {"Anno": lambda v: v},
        align=["l", "r", "r", "r", "r"], note=miss.strip()))
    fig = F.line_chart(series, kind="num", decimals=1, label_last=True, ylabel="per 1.000 stranieri residenti medi",
                       height_cm=7.5)
    alt = (f"Grafico a linee del tasso di acquisizione della cittadinanza per 1.000 stranieri dal {years[0]} al "
           f"{years[-1]} per " + ", ".join(series) + (f"; il {words_list(missing)} manca" if missing else ""))
    ctx.figure(fig_block("acquisizioni", f"Acquisizioni della cittadinanza italiana per 1.000 stranieri residenti "
                                         f"medi: provincia di {ctx.pname}, {ctx.rname} e Italia, {years_span(years)}"
                                         + (f" (nessun dato per il {words_list(missing)})" if missing else ""),
                         alt, source, f"Anni {years_span(years)}", fig))


def _pyramid_counts(pyr: pd.DataFrame, code: str, date: str, citizenship: str):
    from insiena.report.shared import AGE_CLASSES

    d = pyr[(pyr["territory_code"] == code) & (pyr["date"] == date) & (pyr["citizenship"] == citizenship)]
    if d.empty:
        return None
    wide = d.pivot_table(index="age_class", columns="sex", values="value", aggfunc="sum")
    wide = wide.reindex(AGE_CLASSES)
    if wide.isna().any().any() or not {"maschi", "femmine"} <= set(wide.columns):
        return None
    return wide["maschi"].astype(float).to_numpy(), wide["femmine"].astype(float).to_numpy(), \
        sorted(d["source_id"].unique())


def age_structure(ctx: Ctx) -> None:
    """Foreigners by age exist only at 1 January 2022 (STRASA); all residents by age for the province
    only in 2024-2025 (POSAS). Both dates are in the labels (clarifications item 7); the region,
    which has both in 2022, is drawn beside it for a same-date comparison."""
    from insiena.report.shared import AGE_CLASSES

    pyr = ctx.inp.shared["pyramids"]
    ind, p = ctx.ind, ctx.p
    fdates = sorted(pyr.loc[(pyr["territory_code"] == p) & (pyr["citizenship"] == "stranieri"), "date"].unique())
    tdates = sorted(pyr.loc[(pyr["territory_code"] == p) & (pyr["citizenship"] == "totale"), "date"].unique())
    fdate = fdates[-1] if fdates else None
    tdate = min(tdates, key=lambda d: abs(int(d[:4]) - int(fdate[:4]))) if tdates and fdate else None
    ctx.var("age.foreign_date", period_words(fdate) if fdate else None)
    ctx.var("age.total_date", period_words(tdate) if tdate else None)
    # Table of the age indicators: foreigners at their date, all residents at theirs.
    pairs = [("share_0_14", "Meno di 15 anni (%)"), ("share_15_64", "15-64 anni (%)"),
             ("share_65_plus", "65 anni e più (%)"), ("mean_age", "Età media (anni)"),
             ("old_age_dependency", "Dipendenza degli anziani (%)")]
    data, used = [], []
    for code in (p, ctx.region, ITALIA):
        for who, suffix in (("Stranieri", "foreigners"), ("Tutti i residenti", "total")):
            date = fdate if suffix == "foreigners" else (tdate if code == p else fdate)
            entry = {"Territorio": ctx.label(code), "Popolazione": who, "Data": period_words(date) if date else "n.d."}
            for stem, col in pairs:
                r = ind.get(f"{stem}_{suffix}", code, date) if date else None
                entry[col] = r["value"] if r else None
                if date:
                    used.append(ind.records(f"{stem}_{suffix}", code, date))
            data.append(entry)
    frame = pd.DataFrame(data)
    for _, col in pairs:
        frame[col] = pd.array(frame[col], dtype="Float64")
    if frame[[c for _, c in pairs]].notna().any().any():
        ctx.table(make_table(
            "eta", "Struttura per età: stranieri e tutti i residenti (ciascuno alla data in cui il mirror ha le età)",
            frame, ctx.source_of(*used),
            f"Stranieri al {period_words(fdate) if fdate else 'n.d.'}; tutti i residenti della provincia al "
            f"{period_words(tdate) if tdate else 'n.d.'}, della regione e dell'Italia al "
            f"{period_words(fdate) if fdate else 'n.d.'}",
            formats={c: (lambda v: num(v, 1)) for _, c in pairs}))
        fr = frame.iloc[0]
        tr = frame.iloc[1]
        ctx.var("age.foreign_mean", num(fr["Età media (anni)"], 1))
        ctx.var("age.total_mean", num(tr["Età media (anni)"], 1))
        ctx.var("age.foreign_65", pct(fr["65 anni e più (%)"]))
        ctx.var("age.total_65", pct(tr["65 anni e più (%)"]))
        ctx.var("age.foreign_1564", pct(fr["15-64 anni (%)"]))
        ctx.var("age.total_1564", pct(tr["15-64 anni (%)"]))
    else:
        for k in ("foreign_mean", "total_mean", "foreign_65", "total_65", "foreign_1564", "total_1564"):
            ctx.var(f"age.{k}", None)
    prov_f = _pyramid_counts(pyr, p, fdate, "stranieri") if fdate else None
    prov_t = _pyramid_counts(pyr, p, tdate, "totale") if tdate else None
    reg_f = _pyramid_counts(pyr, ctx.region, fdate, "stranieri") if fdate else None
    reg_t = _pyramid_counts(pyr, ctx.region, fdate, "totale") if fdate else None
    if not prov_f:
        ctx.text("piramide", "La struttura per età degli stranieri non è disponibile per la provincia.")
        return
    fig, axes = F.new_figure(16, 11.5, ncols=2 if (reg_f and reg_t) else 1)
    axes = list(np.atleast_1d(axes))
    fy, ty = period_words(fdate), period_words(tdate) if tdate else None
    F.pyramid(axes[0], AGE_CLASSES, prov_f[0], prov_f[1], overlay=(prov_t[0], prov_t[1]) if prov_t else None,
              labels=("Stranieri", "Tutti i residenti (profilo)"),
              title=f"Provincia di {ctx.name}\nstranieri {fdate[:4]}" + (f", tutti i residenti {tdate[:4]}" if tdate else ""))
    sources = list(prov_f[2]) + (list(prov_t[2]) if prov_t else [])
    if reg_f and reg_t:
        F.pyramid(axes[1], AGE_CLASSES, reg_f[0], reg_f[1], overlay=(reg_t[0], reg_t[1]),
                  labels=("Stranieri", "Tutti i residenti (profilo)"),
                  title=f"{ctx.region_name}\nstranieri e tutti i residenti {fdate[:4]}")
        axes[1].set_ylabel("")
        sources += list(reg_f[2]) + list(reg_t[2])
    # One legend for both panels, below them: the years are in the panel titles.
    first = axes[0].get_legend()
    handles, labels = first.legend_handles, [t.get_text() for t in first.get_texts()]
    for ax in axes:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    with F.style():
        fig.legend(handles, labels, loc="outside lower center", ncol=len(handles), frameon=False, handlelength=1.6)
    caption = (f"Piramide per età degli stranieri (barre, in percentuale del totale degli stranieri) e di tutti i "
               f"residenti (profilo nero): a sinistra la provincia di {ctx.pname}, stranieri al {fy}"
               + (f" e tutti i residenti al {ty}, due date diverse perché il mirror non ha le età per provincia di "
                  f"entrambe le popolazioni nello stesso anno" if ty and ty != fy else "")
               + (f"; a destra la {ctx.rname}, con entrambe le popolazioni al {fy}" if reg_f and reg_t else ""))
    alt = (f"Due piramidi per età in classi quinquennali, maschi a sinistra e femmine a destra: provincia di "
           f"{ctx.name} (stranieri {fdate[:4]}, tutti i residenti {tdate[:4] if tdate else 'n.d.'}) e "
           f"{ctx.region_name} ({fdate[:4]}); gli stranieri sono concentrati tra 20 e 54 anni, i residenti nel "
           "complesso sono più anziani" if reg_f and reg_t else
           f"Piramide per età degli stranieri della provincia di {ctx.name}")
    date_line = (f"Stranieri al {fy}; tutti i residenti della provincia al {ty}"
                 + (f", della {ctx.region_name} al {fy}" if reg_f and reg_t else ""))
    ctx.figure(fig_block("piramide", caption, alt, ctx.source(sources), date_line, fig))
    ctx.text("piramide", "{{< include /figures/piramide.md >}}")


# -------------------------------------------------------------------------------------- reception

def section_reception(ctx: Ctx) -> None:
    ind, region = ctx.ind, ctx.region
    rate = "reception_presences_per_1000_residents"
    date = ind.latest(rate, region)
    ctx.var("rec.region", ctx.rname)
    ctx.var("rec.date", period_words(date) if date else None)
    ctx.var("rec.at_date", at_date(date) if date else None)
    ctx.var("rec.at_date_cap", cap(at_date(date)) if date else "Alla data più recente")
    ctx.var("rec.region_rate", per1000(ind.value(rate, region, date)) if date else None)
    ctx.var("rec.italy_rate", per1000(ind.value(rate, ITALIA, date)) if date else None)
    tot = ind.get("reception_presences", region, date) if date else None
    ctx.var("rec.region_total", num(tot["value"]) if tot else None)
    cats = ind.rows("reception_presences", [region, ITALIA], date) if date else ind.df.iloc[0:0]
    cats = ind.rows("reception_presences", [region, ITALIA], date, category=None) if date else cats
    cat_codes = sorted(set(cats.get("category", pd.Series(dtype=str)).dropna()) - {"totale"})
    sai_code = next((c for c in cat_codes if c in ("second_level", "sai", "SAI", "siproimi_sai")), None)
    centri_code = next((c for c in cat_codes if c.startswith("centri")), None)
    sai = ind.get("reception_presences", region, date, category=sai_code) if sai_code and date else None
    ctx.var("rec.region_sai", num(sai["value"]) if sai else None)
    centri = ind.get("reception_presences", region, date, category=centri_code) if centri_code and date else None
    ctx.var("rec.region_centri", num(centri["value"]) if centri else None)
    share = ind.get("sai_share_of_reception_presences", region, date) if date else None
    ctx.var("rec.region_sai_share", pct(share["value"]) if share else None)
    ita_tot = ind.get("reception_presences", ITALIA, date) if date else None
    ctx.var("rec.italy_total", num(ita_tot["value"]) if ita_tot else None)
    first = ind.periods(rate, region)
    ctx.var("rec.first_date", period_words(first[0]) if first else None)
    series, used = {}, []
    for code in (region, ITALIA):
        s = ind.series(rate, code)
        if len(s):
            series[ctx.label(code)] = s
            used.append(ind.records(rate, code))
    if series:
        fig = F.line_chart(series, kind="num", decimals=1, ylabel="per 1.000 residenti",
                           breaks=breaks_within(series, [(SAI_SWITCH_AT, "SIPROIMI → SAI")]), connect_breaks=True,
                           label_last=True,
                           height_cm=7.5)
        allp = sorted({x for s in series.values() for x in s.index})
        peak = series[ctx.label(region)].idxmax() if ctx.label(region) in series else None
        alt = (f"Grafico a linee dei migranti in accoglienza per 1.000 residenti in {ctx.region_name} e in Italia, "
               f"dal {period_words(allp[0])} al {period_words(allp[-1])}"
               + (f"; per la {ctx.region_name} il massimo è al {period_words(peak)}" if peak else ""))
        ctx.figure(fig_block(
            "accoglienza", f"Migranti presenti nel sistema di accoglienza per 1.000 residenti: {ctx.rname} (livello "
                           "regionale: il cruscotto del Ministero non scende sotto la regione) e Italia. Le interruzioni "
                           "sono report mancanti nella serie", alt, ctx.source_of(*used),
            f"Report quindicinali dal {period_words(allp[0])} al {period_words(allp[-1])}", fig))
    # Table: composition at the latest date, region and Italy.
    if date:
        data = []
        labels = {"hotspot": "Hotspot", "second_level": "Seconda accoglienza (SIPROIMI/SAI)",
                  "centri_accoglienza": "Centri di accoglienza (governativi e CAS)", "totale": "Totale"}
        order = [c for c in ("centri_accoglienza", "second_level", "hotspot") if c in cat_codes] + \
            [c for c in cat_codes if c not in labels] + ["totale"]
        for c in order:
            entry = {"Tipo di accoglienza": labels.get(c, c)}
            for code in (region, ITALIA):
                r = ind.get("reception_presences", code, date, category=c)
                entry[ctx.label(code)] = r["value"] if r else None
            data.append(entry)
        per = {"Tipo di accoglienza": "Presenze per 1.000 residenti"}
        sh = {"Tipo di accoglienza": "Quota nella seconda accoglienza (%)"}
        for code in (region, ITALIA):
            per[ctx.label(code)] = ind.value(rate, code, date)
            sh[ctx.label(code)] = ind.value("sai_share_of_reception_presences", code, date)
        frame = pd.DataFrame(data)
        for col in frame.columns[1:]:
            frame[col] = pd.array(frame[col], dtype="Float64")
        extra = pd.DataFrame([per, sh])
        for col in extra.columns[1:]:
            extra[col] = pd.array(extra[col], dtype="Float64")
        full = pd.concat([frame, extra], ignore_index=True)
        display_rows = len(frame)

        def cell(v, i):  # counts as integers, the two rates with one decimal
            return num(v) if i < display_rows else num(v, 1)

        table = make_table("accoglienza", f"Migranti presenti nel sistema di accoglienza per tipo, {ctx.rname} e "
                                          f"Italia, {at_date(date)}", full,
                           ctx.source_of(ind.records("reception_presences", [region, ITALIA], date, category=None),
                                         ind.records(rate, [region, ITALIA], date)),
                           f"Report del {period_words(date)}")
        for col in full.columns[1:]:
            table.display[col] = [cell(v, i) for i, v in enumerate(full[col])]
        table.note = ("\"Centri di accoglienza\" comprende i centri governativi di prima accoglienza e i CAS, che il "
                      "cruscotto non separa. Una cella vuota nel cruscotto (es. hotspot in una regione che non ne ha) è "
                      "\"non riportato\" (n.d.), non zero.")
        ctx.table(table)

    published_table(ctx)
    contracts_section(ctx)
    centres_section(ctx)


MEASURE_WORDS = {
    "persone": "persone", "posti": "posti", "strutture": "strutture", "comuni": "comuni", "euro": "euro",
    "percentuale": "%", "progetti": "progetti", "enti": "enti",
}


def _link(url) -> str:
    """Markdown links to source pages, the host as text; only plain http(s) URLs become links (a cell
    may list several, separated by ";" or spaces); anything else is shown escaped."""
    if fmt.is_missing(url):
        return ""
    out = []
    for token in re.split(r"[\s;]+", str(url).strip()):
        if not token:
            continue
        if re.fullmatch(r"https?://[^\s<>\"'()\[\]]+", token):
            host = re.sub(r"^https?://(www\.)?", "", token).split("/")[0]
            out.append(f"[{esc(host)}]({token})")
        else:
            out.append(esc(token))
    return ", ".join(out)


def published_table(ctx: Ctx) -> None:
    pub = ctx.inp.published
    if pub is None or pub.empty:
        ctx.var("pub.n", "0")
        ctx.text("pubblicati", (f"Per la provincia di {ctx.pname} non è registrata alcuna cifra pubblicata sul sistema "
                                "di accoglienza (comunicati della Prefettura, stampa locale, rapporti SAI) nel file "
                                "delle dichiarazioni curate (`config/published/`)."))
        return
    pub = pub.copy()
    pub["_order"] = pub["reference_date"].fillna("9999")
    pub = pub.sort_values(["_order", "figure_id"], kind="mergesort")
    data = pd.DataFrame({
        "Id": pub["figure_id"], "Data di riferimento (come dichiarata)": pub["reference_date_text"],
        "Territorio": pub["scope"], "Valore": pub["value"],
        "Qualificatore": pub["value_qualifier"], "Unità": pub["unit"],
        "Definizione": pub["definition_note"], "Copertura parziale": pub["partial_coverage"],
        "Fonte (URL)": pub["source_url"],
    }).reset_index(drop=True)

    def value_cell(i):
        r = data.iloc[i]
        v = r["Valore"]
        decimals = 0 if fmt.is_missing(v) or float(v).is_integer() else 2
        text = num(v, decimals)
        unit = MEASURE_WORDS.get(str(r["Unità"]), str(r["Unità"]))
        text = fmt.with_unit(text, unit) if unit == "%" else f"{text} {esc(unit)}"
        q = r["Qualificatore"]
        if not fmt.is_missing(q) and q != "esatto":
            text = f"{esc(q)} {text}"
        return text

    display = pd.DataFrame({
        "Data": [esc(v) for v in data["Data di riferimento (come dichiarata)"]],
        "Ambito": [esc(s) + (" (copertura parziale)" if bool(pc) else "") for s, pc in
                   zip(data["Territorio"], data["Copertura parziale"].fillna(False))],
        "Valore": [value_cell(i) for i in range(len(data))],
        "Definizione": [esc(v) for v in data["Definizione"]],
        "Fonte": [_link(u) for u in data["Fonte (URL)"]],
    })
    dated = pub["reference_date"].dropna().sort_values()
    span = (f"dal {period_words(dated.iloc[0])} al {period_words(dated.iloc[-1])}" if len(dated) else "date non indicate")
    ctx.var("pub.n", num(len(pub)))
    ctx.var("pub.span", span)
    ctx.var("pub.undated", num(int(pub["reference_date"].isna().sum())))
    table = Table(
        name="pubblicati", caption=(f"Cifre pubblicate sul sistema di accoglienza nella provincia di {ctx.pname}: "
                                    "dichiarazioni datate, ciascuna con la sua definizione e la sua fonte"),
        data=data, display=display,
        source=ctx.source(sorted(pub["source_id"].dropna().unique()), elaboration=False)
        + " (dichiarazioni di Prefettura, Comuni e stampa, trascritte con data, definizione e URL)",
        date=f"Dichiarazioni {span}; {num(int(pub['reference_date'].isna().sum()))} senza data indicata dalla fonte",
        align=["l", "l", "r", "l", "l"],
        intro=(f"La @tbl-pubblicati raccoglie le {num(len(pub))} cifre sulla provincia reperite in comunicati e "
               "articoli. Sono dichiarazioni, non una serie: ognuna ha la sua data, la sua definizione (richiedenti "
               "asilo, posti, strutture, solo CAS o tutta l'accoglienza) e la sua fonte, e non vanno sommate né "
               "confrontate come se fossero misurate allo stesso modo."),
    )
    ctx.table(table)
    ctx.text("pubblicati", "{{< include /tables/pubblicati.md >}}")


CATEGORY_LABELS = {"CAS": "CAS e prima accoglienza", "SAI": "SAI (ex SPRAR/SIPROIMI)",
                   "MSNA": "Minori stranieri non accompagnati", "other": "Altro"}


def contracts_section(ctx: Ctx) -> None:
    con = ctx.inp.contracts
    p = ctx.p
    if con is None or con.empty:
        ctx.text("contratti", f"Nessun contratto pubblico per servizi di accoglienza risulta per la provincia di {ctx.pname}.")
        for k in ("pref_n", "pref_framework", "placed_n", "pref_cas", "n_buyers"):
            ctx.var(f"con.{k}", "0")
        for k in ("first_year", "last_year", "years", "pref_years"):
            ctx.var(f"con.{k}", None)
        return
    pref = con[(con["buyer_type"] == "prefettura") & (con["buyer_province_code"] == p)]
    placed = con[con["province_code"] == p]
    ctx.var("con.pref_n", num(len(pref)))
    ctx.var("con.placed_n", num(len(placed)))
    ctx.var("con.pref_framework", num(int(pref["framework"].fillna(False).astype(bool).sum())))
    ctx.var("con.pref_cas", num(int((pref["category"] == "CAS").sum())))
    years_all = sorted(con["year"].dropna().astype(int).unique())
    ctx.var("con.years", years_span(years_all) if years_all else None)
    ctx.var("con.first_year", str(years_all[0]) if years_all else None)
    ctx.var("con.last_year", str(years_all[-1]) if years_all else None)
    ctx.var("con.pref_years", years_span(pref["year"].dropna().astype(int)) if len(pref) else None)
    cats = [c for c in ("CAS", "SAI", "MSNA", "other") if c in set(con["category"].dropna())]
    span = list(range(min(years_all), max(years_all) + 1)) if years_all else []
    rows = []
    for y in span:
        ps = pref[pref["year"] == y]
        pl = placed[placed["year"] == y]
        entry = {"Anno": str(y)}
        for c in cats:
            entry[f"Prefettura: {CATEGORY_LABELS[c]}"] = int((ps["category"] == c).sum())
        entry["Prefettura: totale lotti"] = len(ps)
        entry["Prefettura: di cui accordi quadro"] = int(ps["framework"].fillna(False).astype(bool).sum())
        nf = ps.loc[~ps["framework"].fillna(False).astype(bool), "amount_lot"]
        entry["Prefettura: importo lotti non quadro (euro)"] = float(nf.sum()) if nf.notna().any() else None
        entry["Tutti i committenti: lotti eseguiti nella provincia"] = len(pl)
        rows.append(entry)
    frame = pd.DataFrame(rows)
    for col in frame.columns[1:]:
        frame[col] = pd.array(frame[col], dtype="Float64" if "importo" in col else "Int64")
    source = ctx.source(sorted(con["source_id"].dropna().unique()))
    date = f"Lotti pubblicati negli anni {years_span(span)}"
    ctx.table(make_table(
        "contratti", f"Contratti pubblici per servizi di accoglienza: lotti (CIG) della Prefettura di {ctx.pname} per "
                     f"categoria e anno di pubblicazione, e lotti eseguiti nella provincia da qualunque committente",
        frame, source, date,
        formats={"Anno": lambda v: v, "Prefettura: importo lotti non quadro (euro)": lambda v: num(v)},
        note=("Gli importi degli accordi quadro non sono sommati: riportano massimali pluriennali che i contratti "
              "collegati ripetono. L'importo dei lotti non quadro è la base di gara dei lotti pubblicati nell'anno, "
              "non la spesa annua né il costo dell'accoglienza. I contratti sono attribuiti all'anno di "
              "pubblicazione; gli anni recenti possono crescere con i ritardi di ANAC. Categorie: regole sul testo "
              "dell'oggetto (docs/reception-sources.md); per la Prefettura \"CAS e prima accoglienza\" comprende i "
              "contratti di accoglienza che non nominano il sistema.")))
    if len(pref):
        # Only the categories the Prefettura has: an empty legend entry would suggest a zero count.
        pref_cats = [c for c in cats if (pref["category"] == c).any()]
        stacked = pd.DataFrame({CATEGORY_LABELS[c]: [int(((pref["year"] == y) & (pref["category"] == c)).sum())
                                                     for y in span] for c in pref_cats}, index=[str(y) for y in span])
        fig = stacked_bars(stacked, ylabel="lotti (CIG) pubblicati")
        alt = (f"Grafico a barre impilate dei lotti della Prefettura di {ctx.name} per anno dal {span[0]} al {span[-1]} "
               f"e categoria; in totale {len(pref)} lotti")
        ctx.figure(fig_block("contratti", f"Lotti (CIG) di contratti per servizi di accoglienza pubblicati dalla "
                                          f"Prefettura di {ctx.pname}, per anno e categoria, {years_span(span)}",
                             alt, source, date, fig))
        parts = ["La @fig-contratti mostra i lotti della Prefettura per anno e categoria; la @tbl-contratti "
                 "riporta anche i lotti eseguiti nella provincia da altri committenti.",
                 "{{< include /figures/contratti.md >}}", "{{< include /tables/contratti.md >}}"]
    else:
        parts = [f"Nessun lotto risulta pubblicato dalla Prefettura di {ctx.pname}; la @tbl-contratti riporta i "
                 "lotti eseguiti nella provincia da altri committenti.", "{{< include /tables/contratti.md >}}"]
    # Buyers of the contracts carried out in the province (names are data: escaped).
    if len(placed):
        g = placed.groupby("buyer_name", dropna=False)
        buyers = pd.DataFrame({
            "Committente": g.size().index.astype(str),
            "Lotti": g.size().to_numpy(),
            "Anni": [years_span(v.dropna().astype(int)) for _, v in g["year"]],
            "Categorie": [", ".join(CATEGORY_LABELS.get(c, c) for c in sorted(v.dropna().unique())) for _, v in g["category"]],
            "Accordi quadro": [int(v.fillna(False).astype(bool).sum()) for _, v in g["framework"]],
        }).sort_values(["Lotti", "Committente"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
        buyers["Lotti"] = buyers["Lotti"].astype("Int64")
        buyers["Accordi quadro"] = buyers["Accordi quadro"].astype("Int64")
        ctx.var("con.n_buyers", num(len(buyers)))
        ctx.table(make_table(
            "committenti", f"Committenti dei contratti per servizi di accoglienza eseguiti nella provincia di {ctx.pname}",
            buyers, source, date, formats={"Anni": lambda v: v},
            note=("Il luogo di esecuzione non coincide con il committente: un comune o una Società della Salute di "
                  "un'altra provincia può collocare minori in strutture della provincia.")))
        parts += ["I committenti dei lotti eseguiti nella provincia sono nella @tbl-committenti.",
                  "{{< include /tables/committenti.md >}}"]
    else:
        ctx.var("con.n_buyers", "0")
    ctx.text("contratti", "\n\n".join(parts))


def stacked_bars(frame: pd.DataFrame, ylabel: str = ""):
    """Vertical stacked bars (rows = x categories, columns = stacked parts) with totals on top, in
    the figure toolkit's style and colour-blind-safe palette."""

    fig, ax = F.new_figure(16, 7.5)
    with F.style():
        bottom = np.zeros(len(frame))
        x = np.arange(len(frame))
        for i, col in enumerate(frame.columns):
            vals = frame[col].astype(float).to_numpy()
            ax.bar(x, vals, bottom=bottom, color=F.SERIES_COLORS[i % len(F.SERIES_COLORS)], width=0.7,
                   label=col, zorder=2, edgecolor="white", linewidth=0.4)
            bottom += vals
        for xi, total in zip(x, bottom):
            ax.annotate(num(total), (xi, total), xytext=(0, 2), textcoords="offset points", ha="center",
                        va="bottom", fontsize=7)
        ax.set_xticks(x, list(frame.index))
        ax.tick_params(axis="x", length=0)
        ax.grid(True, axis="y")
        F.italian_ticks(ax.yaxis, "", 0)
        ax.set_ylim(0, max(1.0, bottom.max()) * 1.15)
        if ylabel:
            ax.set_ylabel(ylabel)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=min(3, len(frame.columns)), borderaxespad=0.3,
                  handlelength=1.2)
    return fig


def centres_section(ctx: Ctx) -> None:
    status = ctx.inp.centres_status or {}
    if not status.get("present") or ctx.inp.centres_comuni is None or ctx.inp.centres_comuni.empty:
        ctx.var("centres.present", "no")
        why = ("nessun file di dati per centro è indicato nella configurazione (`centres_file`)"
               if not status.get("centres_file") else "il file di dati per centro non ha righe per questa provincia")
        ctx.text("centri", (f"I dati per singolo centro di accoglienza (ente gestore, comune, posti, presenze) non sono "
                            f"disponibili per la provincia di {ctx.pname}: {why}. Nessuna tabella per centro o per "
                            "comune è stata stimata al loro posto; le cifre per centro o per comune pubblicate dalla "
                            "Prefettura o dalla stampa, dove esistono, sono nella @sec-pubblicati."))
        return
    ctx.var("centres.present", "sì")
    cc = ctx.inp.centres_comuni.copy()
    date = str(cc["date"].dropna().max()) if cc["date"].notna().any() else None
    data = pd.DataFrame({
        "Comune": cc["territory_name"], "Tipo di centro": cc["centre_type"], "Centri": cc["centres"],
        "Posti": cc["places"], "Presenze": cc["presences"],
        "Centri senza posti indicati": cc["centres_without_places"],
        "Centri senza presenze indicate": cc["centres_without_presences"],
    }).sort_values(["Comune", "Tipo di centro"], kind="mergesort").reset_index(drop=True)
    source = ctx.source(sorted(cc["source_id"].dropna().unique()), elaboration=True)
    ctx.table(make_table("centri", f"Centri di accoglienza per comune e tipo, provincia di {ctx.pname}", data, source,
                         f"Dati al {period_words(date)}" if date else "Data non indicata"))
    parts = ["{{< include /tables/centri.md >}}"]
    features = [f for f in (ctx.inp.features or []) if f.polygons]
    if features:

        places = cc.groupby("territory_code")["places"].sum(min_count=1)
        fig, classes = F.choropleth_figure(features, places.to_dict(), legend_title="Posti in accoglienza",
                                           decimals=0, unit="", show_counts=True)
        alt = f"Mappa dei comuni della provincia di {ctx.name} colorati per numero di posti in accoglienza"
        ctx.figure(fig_block("centri", f"Posti nei centri di accoglienza per comune, provincia di {ctx.pname}", alt,
                             source, f"Dati al {period_words(date)}" if date else "Data non indicata", fig))
        parts.append("{{< include /figures/centri.md >}}")
    ctx.text("centri", "\n\n".join(parts))


# ------------------------------------------------------------------------------------------ themes

def section_themes(ctx: Ctx) -> None:
    health(ctx)
    housing(ctx)
    labour(ctx)
    education(ctx)
    availability(ctx)
    gap_agenda(ctx)
    initiatives(ctx)


def health(ctx: Ctx) -> None:
    ind, p = ctx.ind, ctx.p
    pairs = [("births_per_1000_foreigners", "birth_rate_total", "Natalità"),
             ("deaths_per_1000_foreigners", "death_rate_total", "Mortalità")]
    years = set(ind.periods(pairs[0][0], p)) & set(ind.periods(pairs[0][1], p))
    year = max(years) if years else None
    ctx.var("health.year", year)
    data, used = [], []
    for code in (p, ctx.region, ITALIA):
        entry = {"Territorio": ctx.label(code)}
        for fid, tid, label in pairs:
            entry[f"{label}: stranieri (per 1.000 stranieri)"] = ind.value(fid, code, year) if year else None
            entry[f"{label}: tutti i residenti (per 1.000)"] = ind.value(tid, code, year) if year else None
            if year:
                used += [ind.records(fid, code, year), ind.records(tid, code, year)]
        entry["Nati stranieri sul totale dei nati (%)"] = ind.value("foreign_births_share", code, year) if year else None
        if year:
            used.append(ind.records("foreign_births_share", code, year))
        data.append(entry)
    frame = pd.DataFrame(data)
    for col in frame.columns[1:]:
        frame[col] = pd.array(frame[col], dtype="Float64")
    ctx.var("health.birth_foreign", per1000(frame.iloc[0, 1]) if year else None)
    ctx.var("health.birth_total", per1000(frame.iloc[0, 2]) if year else None)
    ctx.var("health.death_foreign", per1000(frame.iloc[0, 3]) if year else None)
    ctx.var("health.death_total", per1000(frame.iloc[0, 4]) if year else None)
    ctx.var("health.births_share", pct(frame.iloc[0, 5]) if year else None)
    if not year:
        ctx.text("salute", "Nessun indicatore demografico di contesto per la salute è disponibile per la provincia.")
        return
    source = ctx.source_of(*used)
    ctx.table(make_table("salute", f"Nascite e decessi per cittadinanza (contesto demografico del tema salute), {year}",
                         frame, source, f"Anno {year}",
                         formats={c: (pct if c.endswith("(%)") else per1000) for c in frame.columns[1:]},
                         note=("Tassi grezzi per 1.000 residenti medi dell'anno; la cittadinanza è quella del nato. "
                               "La mortalità degli stranieri è bassa perché la loro popolazione è giovane, non per "
                               "una migliore salute: sono dati di contesto, non di uso dei servizi sanitari.")))
    fig_data = pd.DataFrame({"Stranieri": [frame.iloc[0, 1], frame.iloc[0, 3]],
                             "Tutti i residenti": [frame.iloc[0, 2], frame.iloc[0, 4]]},
                            index=["Nati per 1.000 residenti", "Morti per 1.000 residenti"])
    fig = F.grouped_bars(fig_data, kind="num", decimals=1, ylabel="per 1.000 residenti medi", height_cm=6.5)
    alt = (f"Grafico a barre: nella provincia di {ctx.name} nel {year} i nati sono {per1000(frame.iloc[0, 1])} per 1.000 "
           f"stranieri e {per1000(frame.iloc[0, 2])} per 1.000 residenti; i morti {per1000(frame.iloc[0, 3])} e "
           f"{per1000(frame.iloc[0, 4])}")
    ctx.figure(fig_block("salute", f"Nati e morti per 1.000 residenti medi, stranieri e tutti i residenti, provincia di "
                                   f"{ctx.pname}, {year}", alt, source, f"Anno {year}", fig))
    ctx.text("salute", "{{< include /figures/salute.md >}}\n\n{{< include /tables/salute.md >}}")


def _gap_rows(ctx: Ctx, theme: str) -> pd.DataFrame:
    g = ctx.inp.shared["gaps"]
    return g[g["theme"] == theme].reset_index(drop=True)


def housing(ctx: Ctx) -> None:
    rows = _gap_rows(ctx, "alloggio")
    ctx.var("housing.n_gaps", num(len(rows)))
    items = []
    for r in rows.itertuples():
        levels = ", ".join(LEVEL_LABELS.get(lv, lv) for lv in str(r.levels).split(";"))
        items.append(f"- **{esc(r.name)}** ({levels}): {esc(r.would_need)} Chi ha il dato: {esc(r.holder)}.")
    ctx.text("alloggio", "\n".join(items) if items else "Nessuna lacuna registrata per il tema alloggio.")


def labour(ctx: Ctx) -> None:
    """The Labour Force Survey rates exist in the mirror only for macro-areas and Italy: the province's
    ripartizione is labelled with its own name ("Italia centrale"), never with the region or province."""

    ind = ctx.ind
    ids = [("activity_rate", "Tasso di attività"), ("employment_rate", "Tasso di occupazione"),
           ("unemployment_rate", "Tasso di disoccupazione")]
    from insiena.report.build import MACROAREA_OF_RIPARTIZIONE

    # The province's ripartizione ("Italia centrale" for Toscana), or, where the LFS files have no row
    # for it (Sud, Isole), the macro-area that contains it ("Mezzogiorno"); never another area.
    area_codes = [c for c in (ctx.rip, MACROAREA_OF_RIPARTIZIONE.get(ctx.rip)) if c]
    area_rows = [r for s, _ in ids for who in ("foreigners", "italians")
                 for r in ind.records(f"{s}_{who}", level=["ripartizione", "macroarea"])]
    names = {r["territory_code"]: r["territory_name"] for r in area_rows}
    area_code = next((c for c in area_codes if c in names), None)
    area_name = names.get(area_code) if area_code else None
    # The latest year in which the foreigners' rates of the area exist for every indicator that has them.
    year_sets = [set(ind.periods(f"{s}_foreigners", area_code)) for s, _ in ids] if area_code else []
    year_sets = [y for y in year_sets if y]
    common = set.intersection(*year_sets) if year_sets else set()
    year = max(common) if common else None
    ctx.var("labour.area", esc(area_name) if area_name else None)
    ctx.var("labour.year", year)
    cols = []
    if area_code:
        cols += [(area_code, "foreigners", f"Stranieri, {area_name}"), (area_code, "italians", f"Italiani, {area_name}")]
    cols += [(ITALIA, "foreigners", "Stranieri, Italia"), (ITALIA, "italians", "Italiani, Italia")]
    data, used = [], []
    for stem, label in ids:
        entry = {"Indicatore (15-64 anni)": label}
        for code, who, col in cols:
            r = ind.get(f"{stem}_{who}", code, year) if year else None
            entry[col] = r["value"] if r else None
            if year:
                used.append(ind.records(f"{stem}_{who}", code, year))
        data.append(entry)
    frame = pd.DataFrame(data)
    for col in frame.columns[1:]:
        frame[col] = pd.array(frame[col], dtype="Float64")
    if not year:
        ctx.text("lavoro", "I tassi della Rilevazione sulle forze di lavoro per cittadinanza non sono disponibili.")
        for k in ("act_f", "act_i", "emp_f", "unemp_f", "unemp_i"):
            ctx.var(f"labour.{k}", None)
        return
    ctx.var("labour.act_f", pct(frame.iloc[0, 1]))
    ctx.var("labour.act_i", pct(frame.iloc[0, 2]))
    ctx.var("labour.emp_f", pct(frame.iloc[1, 1]))
    ctx.var("labour.unemp_f", pct(frame.iloc[2, 1]))
    ctx.var("labour.unemp_i", pct(frame.iloc[2, 2]))
    source = ctx.source_of(*used)
    gaps = [c for c in frame.columns[1:] if frame[c].isna().any()]
    note = ("Tassi pubblicati da ISTAT (Rilevazione sulle forze di lavoro, media annua). \"n.d.\": il mirror non ha "
            "il dato (il tasso di occupazione degli italiani e, per l'Italia, il tasso di attività per cittadinanza "
            "sono lacune del catalogo). Nessun file del mirror scende alla regione o alla provincia."
            if gaps else "Tassi pubblicati da ISTAT (Rilevazione sulle forze di lavoro, media annua).")
    ctx.table(make_table("lavoro", f"Tassi di attività, occupazione e disoccupazione 15-64 anni, stranieri e italiani: "
                                   f"{esc(area_name)} e Italia, {year}", frame, source, f"Anno {year} (media annua)",
                         formats={c: pct for c in frame.columns[1:]}, note=note))
    fig_data = frame.set_index("Indicatore (15-64 anni)")
    fig = F.grouped_bars(fig_data, kind="pct", decimals=1, ylabel="%", height_cm=7.5)
    alt = (f"Grafico a barre dei tassi di attività, occupazione e disoccupazione di stranieri e italiani in "
           f"{area_name} e in Italia nel {year}; tasso di disoccupazione degli stranieri in {area_name} "
           f"{pct(frame.iloc[2, 1])} contro {pct(frame.iloc[2, 2])} degli italiani")
    ctx.figure(fig_block("lavoro", f"Mercato del lavoro per cittadinanza, {esc(area_name)} (il livello più vicino alla "
                                   f"provincia nei dati del mirror) e Italia, {year}", alt, source,
                         f"Anno {year} (media annua)", fig))
    ctx.text("lavoro", "{{< include /figures/lavoro.md >}}\n\n{{< include /tables/lavoro.md >}}")


def education(ctx: Ctx) -> None:
    ind = ctx.ind
    ids = [("education_lower_secondary_or_less", "Al più la licenza media"),
           ("education_upper_secondary", "Diploma"), ("education_tertiary", "Titolo universitario")]
    age = {"age_class": "15-64"}  # the file also has 10-year classes: the headline is 15-64
    years = set.intersection(*[set(ind.periods(f"{s}_foreigners", ITALIA, **age)) for s, _ in ids]) if ids else set()
    year = max(years) if years else None
    ctx.var("edu.year", year)
    if not year:
        ctx.text("educazione", "I titoli di studio per cittadinanza non sono disponibili.")
        for k in ("low_f", "low_i", "ter_f", "ter_i"):
            ctx.var(f"edu.{k}", None)
        return
    data, used = [], []
    for stem, label in ids:
        f = ind.get(f"{stem}_foreigners", ITALIA, year, **age)
        i = ind.get(f"{stem}_italians", ITALIA, year, **age)
        data.append({"Titolo di studio (15-64 anni)": label, "Stranieri": f["value"] if f else None,
                     "Italiani": i["value"] if i else None})
        used += [ind.records(f"{stem}_foreigners", ITALIA, year, **age),
                 ind.records(f"{stem}_italians", ITALIA, year, **age)]
    frame = pd.DataFrame(data)
    for col in ("Stranieri", "Italiani"):
        frame[col] = pd.array(frame[col], dtype="Float64")
    ctx.var("edu.low_f", pct(frame.iloc[0, 1]))
    ctx.var("edu.low_i", pct(frame.iloc[0, 2]))
    ctx.var("edu.ter_f", pct(frame.iloc[2, 1]))
    ctx.var("edu.ter_i", pct(frame.iloc[2, 2]))
    source = ctx.source_of(*used)
    ctx.table(make_table("educazione", f"Popolazione di 15-64 anni per titolo di studio, stranieri e italiani, Italia, {year}",
                         frame, source, f"Anno {year}", formats={"Stranieri": pct, "Italiani": pct},
                         note="Quote pubblicate (Noi Italia 2024); il livello è nazionale: nessun file del mirror ha i "
                              "titoli di studio per cittadinanza per regione, provincia o comune."))
    fig = F.grouped_bars(frame.set_index("Titolo di studio (15-64 anni)"), kind="pct", decimals=1, ylabel="%",
                         height_cm=6.5)
    alt = (f"Grafico a barre dei titoli di studio in Italia nel {year}: al più la licenza media {pct(frame.iloc[0, 1])} "
           f"degli stranieri e {pct(frame.iloc[0, 2])} degli italiani; titolo universitario {pct(frame.iloc[2, 1])} e "
           f"{pct(frame.iloc[2, 2])}")
    ctx.figure(fig_block("educazione", f"Titolo di studio della popolazione di 15-64 anni, stranieri e italiani, Italia "
                                       f"(livello nazionale), {year}", alt, source, f"Anno {year}", fig))
    ctx.text("educazione", "{{< include /figures/educazione.md >}}\n\n{{< include /tables/educazione.md >}}")


def availability(ctx: Ctx) -> None:
    av = ctx.inp.shared["availability"]
    levels = [lv for lv in LEVEL_LABELS if lv in set(av["level"])]
    rows = []
    for theme in FOUR_THEMES:
        t = av[av["theme"] == theme].set_index("level")
        entry = {"Tema": THEME_LABELS[theme]}
        for lv in levels:
            if lv not in t.index:
                entry[LEVEL_LABELS[lv]] = "—"
                continue
            r = t.loc[lv]
            if int(r["n_computed"]) > 0:
                ctx_only = int(r["n_context"]) == int(r["n_computed"])
                entry[LEVEL_LABELS[lv]] = f"calcolato ({int(r['n_computed'])}{', solo contesto' if ctx_only else ''})"
            elif int(r["n_gap"]) > 0:
                entry[LEVEL_LABELS[lv]] = f"lacuna ({int(r['n_gap'])})"
            else:
                entry[LEVEL_LABELS[lv]] = "—"
        rows.append(entry)
    frame = pd.DataFrame(rows)
    if ctx.zones.empty:
        frame = frame.rename(columns={"zona-distretto": "zona-distretto*"})
    ctx.table(make_table(
        "matrice", "Disponibilità dei dati per i quattro temi e per livello territoriale (numero di indicatori calcolati "
                   "o mancanti)", frame, ctx.source([], elaboration=False).replace(
                       "dati della pipeline INSIEna", "catalogo degli indicatori di INSIEna (config/indicators.yaml)"),
        "Stato del catalogo alla data dei dati del mirror",
        note=("\"calcolato\": almeno un indicatore del tema è prodotto a quel livello dai dati del mirror; \"solo "
              "contesto\": solo dati demografici di contesto (nati e morti per il tema salute); \"lacuna\": "
              "indicatori previsti ma senza dati aperti; \"—\": livello non previsto per il tema."
              + (f" \\*Per la provincia di {ctx.pname} il livello della zona-distretto non esiste." if ctx.zones.empty
                 else ""))))


def gap_agenda(ctx: Ctx) -> None:
    g = ctx.inp.shared["gaps"]
    order = {t: i for i, t in enumerate(["accoglienza", *FOUR_THEMES, "demografia", "governance"])}
    g = g.assign(_o=g["theme"].map(order).fillna(99)).sort_values(["_o"], kind="mergesort").drop(columns="_o")
    frame = pd.DataFrame({
        "Tema": [THEME_LABELS.get(t, t) for t in g["theme"]],
        "Indicatore": g["name"],
        "Livelli mancanti": [", ".join(LEVEL_LABELS.get(x, x) for x in str(v).split(";")) for v in g["levels"]],
        "Che cosa servirebbe": g["would_need"],
        "Chi ha il dato": g["holder"],
        "Tipo di lacuna": [GAP_KINDS.get(k, k) for k in g["gap_kind"]],
        "Id": g["indicator_id"],
    }).reset_index(drop=True)
    four = frame[frame["Tema"].isin([THEME_LABELS[t] for t in FOUR_THEMES + ["accoglienza"]])]
    ctx.var("gaps.n", num(len(frame)))
    ctx.var("gaps.n_indicators", num(frame["Id"].nunique()))
    ctx.var("gaps.n_four", num(four["Id"].nunique()))
    holders = sorted({h.strip() for v in four["Chi ha il dato"].dropna() for h in re.split(r";", str(v)) if h.strip()})
    ctx.var("gaps.n_holders", num(len(holders)))
    table = make_table("lacune", "Lacune dei dati aperti: l'agenda del Lab conoscitivo (accoglienza e quattro temi)",
                       four, "Fonte: catalogo degli indicatori di INSIEna (config/indicators.yaml)",
                       "Stato del catalogo alla data dei dati del mirror", hide=["Tipo di lacuna", "Id"])
    ctx.table(table)
    demo = frame[~frame.index.isin(four.index)]
    ctx.var("gaps.n_other", num(demo["Id"].nunique()))


def initiatives(ctx: Ctx) -> None:
    ini = ctx.inp.shared["initiatives"]
    p = ctx.p
    areas = [code for code, a in (ctx.inp.cfg.get("areas") or {}).items() if p in a.get("provinces", [])]
    zone_names = [str(z) for z in ctx.zones["territory_name"]]
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in [ctx.name, *zone_names]) + r")\b", re.IGNORECASE)

    def relevant(r) -> bool:
        code = r["territory_code"]
        if not fmt.is_missing(code):
            code = str(code)
            return code == p or (len(code) == 6 and code.startswith(p)) or code in areas
        text = " ".join(str(r[c]) for c in ("territory", "lead_body") if not fmt.is_missing(r[c]))
        return bool(pattern.search(text))

    sel = ini[ini.apply(relevant, axis=1)] if len(ini) else ini
    ctx.var("ini.n", num(len(sel)))
    if sel.empty:
        ctx.text("iniziative", f"Il catalogo delle iniziative non registra progetti o servizi per la provincia di {ctx.pname}.")
        return
    order = ["accoglienza", *FOUR_THEMES, "governance", "demografia"]
    rows = []
    for r in sel.itertuples():
        themes = [t for t in str(r.themes).split(";") if t]
        primary = themes[0] if themes else "governance"
        period = " – ".join(str(x) for x in (r.period_start, r.period_end) if not fmt.is_missing(x))
        rows.append({"_o": order.index(primary) if primary in order else 99, "Tema principale": THEME_LABELS.get(primary, primary),
                     "Iniziativa": r.name, "Tipo": r.kind, "Promotore": r.lead_body, "Territorio": r.territory,
                     "Periodo": period, "Temi": ", ".join(THEME_LABELS.get(t, t) for t in themes),
                     "Fonte (URL)": r.source_url, "Id": r.initiative_id})
    rows.sort(key=lambda x: x["_o"])
    for row in rows:
        row.pop("_o")
    frame = pd.DataFrame(rows)
    display = pd.DataFrame({
        "Tema": [esc(v) for v in frame["Tema principale"]],
        "Iniziativa": [esc(v) for v in frame["Iniziativa"]],
        "Promotore": [esc(v) if not fmt.is_missing(v) else "n.d." for v in frame["Promotore"]],
        "Territorio": [esc(v) for v in frame["Territorio"]],
        "Periodo": [esc(v) if v else "n.d." for v in frame["Periodo"]],
        "Fonte": [_link(u) for u in frame["Fonte (URL)"]],
    })
    dates = sorted(d for d in ini["source_date"].dropna().astype(str))
    ctx.table(Table(name="iniziative",
                    caption=f"Iniziative e progetti esistenti sulla migrazione che riguardano la provincia di {ctx.pname}, "
                            "per tema principale",
                    data=frame, display=display,
                    source="Fonte: catalogo delle iniziative di INSIEna (config/initiatives.csv), da pagine pubbliche "
                           "citate riga per riga",
                    date=f"Fonti consultate fino a {period_words(dates[-1])}" if dates else "Date delle fonti non indicate",
                    align=["l"] * 6))
    by_theme = frame["Tema principale"].value_counts()
    summary = words_list([f"{n} per il tema {t.lower()}" for t, n in by_theme.items()])
    ctx.text("iniziative", (f"Il catalogo delle iniziative e dei progetti esistenti sulla migrazione registra "
                            f"{{{{< var ini.n >}}}} voci che riguardano la provincia ({summary}): servizi, progetti "
                            "e organismi già attivi, che la fase 1 mappa (@tbl-iniziative). Ogni voce cita la pagina "
                            "pubblica da cui è tratta.\n\n{{< include /tables/iniziative.md >}}"))


# ---------------------------------------------------------------------------------------- benchmark

def section_benchmark(ctx: Ctx) -> None:
    siena2030(ctx)
    samedi(ctx)


def siena2030(ctx: Ctx) -> None:
    bm = ctx.inp.shared["siena2030"]
    ind, p = ctx.ind, ctx.p
    mine = bm[bm["territory_code_assumed"] == p]
    ctx.var("s2030.applies", "sì" if len(mine) else "no")
    version = str(bm["version"].iloc[0]) if len(bm) else "n.d."
    ctx.var("s2030.version", version)
    if mine.empty:
        local = bm[bm["territory_code_assumed"] != ITALIA]
        where = words_list([f"{esc(ctx.tname(c))}, codice {c}" for c in sorted(local["territory_code_assumed"].unique())])
        stated = words_list([f"\"{esc(t)}\"" for t in sorted(local["territory_as_stated"].dropna().unique())])
        ctx.text("siena2030", (f"I valori pubblicati da SIENA2030 riguardano {stated} (assunto come provincia di {where}): "
                               f"per la provincia di {ctx.pname} non c'è un valore di partenza né una proiezione con cui "
                               "confrontarsi. Gli indicatori di invecchiamento della provincia sono nella @tbl-eta."))
        ctx.var("s2030.share_obs", None)
        return
    rows, series_obs = [], {}
    for iid in list(dict.fromkeys(mine["indicator_id"])):
        b = mine[mine["indicator_id"] == iid]
        base = b[b["kind"] == "baseline"]
        proj = b[b["kind"] == "projection"]
        name = str(ctx.definitions.loc[iid, "name"]) if iid in ctx.definitions.index else iid
        unit = str(b["unit"].iloc[0])
        obs_period = ind.latest(iid, p)
        obs = ind.get(iid, p, obs_period) if obs_period else None
        b0 = base.iloc[0] if len(base) else None
        p1 = proj.iloc[0] if len(proj) else None
        path = None
        if b0 is not None and p1 is not None and obs_period:
            y0, y1 = int(b0["reference_year"]), int(p1["reference_year"])
            yt = int(obs_period[:4])
            path = float(b0["value"]) + (float(p1["value"]) - float(b0["value"])) * (yt - y0) / (y1 - y0)
        ita = bm[(bm["indicator_id"] == iid) & (bm["territory_code_assumed"] == ITALIA) & (bm["kind"] == "baseline")]
        ita_obs = ind.get(iid, ITALIA, str(int(b0["reference_year"])) + "-01-01") if b0 is not None else None
        rows.append({
            "Indicatore": name, "Unità": unit,
            "SIENA2030: valore pubblicato": float(b0["value"]) if b0 is not None else None,
            "Anno del valore pubblicato": str(b0["reference_year"]) if b0 is not None else "",
            "SIENA2030: proiezione": float(p1["value"]) if p1 is not None else None,
            "Anno della proiezione": str(p1["reference_year"]) if p1 is not None else "",
            "Traiettoria lineare alla data osservata": path,
            "Osservato (mirror)": obs["value"] if obs else None,
            "Data osservata": period_words(obs_period) if obs_period else "n.d.",
            "Scarto osservato - traiettoria": (obs["value"] - path) if obs and path is not None else None,
            "Italia: valore pubblicato": float(ita["value"].iloc[0]) if len(ita) else None,
            "Italia: mirror all'anno pubblicato": ita_obs["value"] if ita_obs else None,
        })
        if iid == "share_65_plus_total":
            ctx.var("s2030.share_base", pct(b0["value"]) if b0 is not None else None)
            ctx.var("s2030.share_base_year", str(b0["reference_year"]) if b0 is not None else None)
            ctx.var("s2030.share_proj", pct(p1["value"]) if p1 is not None else None)
            ctx.var("s2030.share_proj_year", str(p1["reference_year"]) if p1 is not None else None)
            ctx.var("s2030.share_obs", pct(obs["value"]) if obs else None)
            ctx.var("s2030.share_obs_date", period_words(obs_period) if obs_period else None)
            ctx.var("s2030.share_obs_at", at_date(obs_period) if obs_period else None)
            ctx.var("s2030.share_path", pct(path) if path is not None else None)
            ctx.var("s2030.share_gap", fmt.fmt_pp(obs["value"] - path) if obs and path is not None else None)
            ctx.var("s2030.assumption", esc(b0["territory_as_stated"]) if b0 is not None else None)
            series_obs = {"b0": b0, "p1": p1}
    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if col not in ("Indicatore", "Unità", "Anno del valore pubblicato", "Anno della proiezione", "Data osservata"):
            frame[col] = pd.array(frame[col], dtype="Float64")
    src_rows = [ind.records(i, p) for i in mine["indicator_id"].unique()]
    urls = sorted(mine["source_url"].dropna().unique())
    source = (ctx.source_of(*src_rows) + "; SIENA2030 come riportato dalla stampa ("
              + ", ".join(_link(u) for u in urls) + f"; config/benchmarks/siena2030.csv, versione {version})")
    table = make_table(
        "siena2030", f"SIENA2030: valori pubblicati, traiettoria lineare verso il 2030 e valori osservati, provincia di "
                     f"{ctx.pname}", frame, source,
        f"Valori SIENA2030 pubblicati nel {years_span(mine['reference_year'].astype(int).where(mine['kind'] == 'baseline').dropna())}; "
        f"osservati al {frame['Data osservata'].iloc[0]}",
        formats={c: (lambda v: num(v, 1)) for c in frame.columns if frame[c].dtype == "Float64"}
        | {"Scarto osservato - traiettoria": lambda v: num(v, 1, signed=True)},
        note=("Ipotesi: la stampa scrive solo \"Siena\"; i valori sono attribuiti alla provincia (052) perché sono dati "
              "camerali presentati con la Giornata dell'Economia, che riporta indicatori provinciali, e perché il mirror "
              "ha le età per provincia e non per comune. L'anno dei valori di partenza non è dichiarato: si usa l'anno "
              "di pubblicazione (2019). La traiettoria è la retta tra il valore di partenza e la proiezione al 2030, "
              "valutata all'anno del dato osservato; il dato 2025 della provincia è il POSAS provvisorio. \"più di 65 "
              "anni\" e \"over 64\" sono letti come 65 anni e più."))

    def with_unit(v, unit, signed=False):
        if fmt.is_missing(v):
            return "n.d."
        return fmt.fmt_pp(v) if signed and unit == "%" else (
            num(v, 1, signed=signed) + ("%" if unit == "%" else f" {esc(unit)}"))

    def dated(v, unit, year):
        return with_unit(v, unit) + (f" ({year})" if year and not fmt.is_missing(v) else "")

    table.display = pd.DataFrame({
        "Indicatore": [esc(v) for v in frame["Indicatore"]],
        "SIENA2030, pubblicato": [dated(v, u, y) for v, u, y in zip(frame["SIENA2030: valore pubblicato"], frame["Unità"],
                                                                     frame["Anno del valore pubblicato"])],
        "SIENA2030, proiezione": [dated(v, u, y) for v, u, y in zip(frame["SIENA2030: proiezione"], frame["Unità"],
                                                                     frame["Anno della proiezione"])],
        "Retta alla data osservata": [with_unit(v, u) for v, u in zip(frame["Traiettoria lineare alla data osservata"],
                                                                      frame["Unità"])],
        "Osservato": [with_unit(v, u) + f" ({d})" for v, u, d in zip(frame["Osservato (mirror)"], frame["Unità"],
                                                                      frame["Data osservata"])],
        "Scarto": [with_unit(v, u, signed=True) for v, u in zip(frame["Scarto osservato - traiettoria"], frame["Unità"])],
        "Italia, pubblicato / mirror": [f"{with_unit(a, u)} / {with_unit(b, u)}" for a, b, u in
                                        zip(frame["Italia: valore pubblicato"], frame["Italia: mirror all'anno pubblicato"],
                                            frame["Unità"])],
    })
    table.align = ["l", "r", "r", "r", "r", "r", "r"]
    ctx.table(table)
    # Figure: share 65+ observed vs the published path.
    b0, p1 = series_obs.get("b0"), series_obs.get("p1")
    if b0 is None:
        ctx.text("siena2030", "{{< include /tables/siena2030.md >}}")
        return
    lines = {}
    for code in (p, ctx.region, ITALIA):
        s = ind.series("share_65_plus_total", code)
        if len(s):
            lines[ctx.name if code == p else ctx.label(code)] = pd.Series(s.values, index=[int(x[:4]) for x in s.index])
    if p1 is not None:
        lines["SIENA2030"] = pd.Series(
            [float(b0["value"]), float(p1["value"])], index=[int(b0["reference_year"]), int(p1["reference_year"])])
    fig = F.line_chart(lines, kind="pct", decimals=1, max_gap=20, start_at_zero=False, markers=True, height_cm=8,
                       ylabel="Residenti di 65 anni e più (%)")
    alt = (f"Grafico a linee della quota di residenti di 65 anni e più: provincia di {ctx.name} osservata "
           f"{ctx.report.variables['s2030']['share_obs']} al {ctx.report.variables['s2030']['share_obs_date']}, "
           f"contro la retta SIENA2030 da {pct(b0['value'])} ({b0['reference_year']}) a "
           f"{pct(p1['value']) if p1 is not None else 'n.d.'} ({p1['reference_year'] if p1 is not None else 'n.d.'}); "
           f"{ctx.region_name} e Italia per confronto")
    ctx.figure(fig_block("siena2030", f"Quota di residenti di 65 anni e più: valori osservati (provincia di {ctx.pname}, "
                                      f"{ctx.rname}, Italia) e retta SIENA2030 dal valore pubblicato alla proiezione al "
                                      f"{p1['reference_year'] if p1 is not None else 'n.d.'}", alt, source,
                         "Osservati al 1° gennaio di ogni anno disponibile; SIENA2030 pubblicato nel 2019", fig))
    ctx.text("siena2030", (
        "La stampa del 2019 riporta per \"Siena\" una quota di residenti con 65 anni e più di "
        "{{< var s2030.share_base >}} (anno di pubblicazione: {{< var s2030.share_base_year >}}) e una proiezione di "
        "{{< var s2030.share_proj >}} al {{< var s2030.share_proj_year >}}; il rapporto li attribuisce alla provincia, "
        "con l'ipotesi spiegata nella nota della @tbl-siena2030. Sulla retta che unisce i due valori, "
        "{{< var s2030.share_obs_at >}} ci si attenderebbe {{< var s2030.share_path >}}: il valore osservato è "
        "{{< var s2030.share_obs >}}, uno scarto di {{< var s2030.share_gap >}}. La @fig-siena2030 affianca le serie "
        "osservate della provincia, della regione e dell'Italia.\n\n"
        "{{< include /figures/siena2030.md >}}\n\n{{< include /tables/siena2030.md >}}"))


def samedi(ctx: Ctx) -> None:
    doc = ctx.inp.shared["samedi"]
    p = ctx.p
    terr = doc["territory"]
    ctx.var("samedi.name", esc(doc["name"]))
    ctx.var("samedi.lead", esc(doc["lead"]))
    ctx.var("samedi.start", period_words(doc["period"]["start"]))
    ctx.var("samedi.end", period_words(doc["period"]["end"]))
    amount = doc["funding"].get("amount_eur")
    ctx.var("samedi.amount", num(amount, 2) if amount is not None else None)
    ctx.var("samedi.fund", esc(doc["funding"]["fund"]))
    ctx.var("samedi.outcome", esc(doc["evaluation"]["outcome"]))
    ctx.var("samedi.record", esc(doc["evaluation"]["record"]))
    ctx.var("samedi.area", esc(terr["name"]))
    if p not in terr["provinces"]:
        ctx.text("samedi", (f"La provincia di {ctx.pname} non fa parte dell'area del progetto SAMEDI ({esc(terr['name'])}): "
                            "il confronto affiancato non si applica."))
        return
    ind = ctx.ind
    territories = [terr["code"], *terr["provinces"]]
    rows, used = [], []
    for iid in doc["side_by_side"]["indicators"]:
        if iid not in ctx.definitions.index:
            continue
        d = ctx.definitions.loc[iid]
        # One date for all the territories: the latest at which the area itself has the indicator.
        period = ind.latest(iid, terr["code"]) or ind.latest(iid, p)
        entry = {"Indicatore": str(d["name"]), "Unità": str(d["unit"]), "Periodo": period_words(period) if period else "n.d."}
        for code in territories:
            r = ind.get(iid, code, period) if period else None
            entry[ctx.tname(code) if code != terr["code"] else "Area SAMEDI"] = r["value"] if r else None
            if period:
                used.append(ind.records(iid, code, period))
        entry["Id"], entry["Periodo (ISO)"] = iid, period
        rows.append(entry)
    frame = pd.DataFrame(rows)
    value_cols = [c for c in frame.columns[3:] if c not in ("Id", "Periodo (ISO)")]
    for col in value_cols:
        frame[col] = pd.array(frame[col], dtype="Float64")
    units = dict(zip(frame["Indicatore"], frame["Unità"]))

    def fmt_cell(v, unit):
        if unit in ("persone", "permessi"):
            return num(v)
        if unit == "%":
            return pct(v)
        return num(v, 1)

    table = make_table("samedi", f"Area SAMEDI e sue province a confronto: indicatori demografici e di protezione "
                                 f"internazionale", frame, ctx.source_of(*used),
                       "Ogni riga alla data indicata nella colonna Periodo", hide=["Id", "Periodo (ISO)"])
    for col in value_cols:
        table.display[col] = [fmt_cell(v, units[i]) for v, i in zip(frame[col], frame["Indicatore"])]
    gaps = [str(ctx.definitions.loc[g, "name"]) for g in doc["side_by_side"]["gaps"] if g in ctx.definitions.index]
    table.note = ("Nessuno di questi indicatori misura la salute mentale o le dipendenze, il tema di SAMEDI: "
                  "mancano " + words_list([esc(g.lower()) for g in gaps]) + ". SAMEDI si rivolge ai cittadini di Paesi "
                  "terzi; gli stranieri residenti ISTAT comprendono i cittadini UE, e nessun file del mirror li separa "
                  "per provincia. I permessi per protezione sono solo non UE.")
    ctx.table(table)
    ctx.text("samedi", "{{< include /tables/samedi.md >}}")


# ----------------------------------------------------------------------------------------- appendix

def section_appendix(ctx: Ctx) -> None:
    sources_appendix(ctx)
    definitions_appendix(ctx)
    validation_appendix(ctx)


def sources_appendix(ctx: Ctx) -> None:
    """Shown: one line per file, the monthly ANAC files and the boundary files one line each with
    their count. Downloadable: every file of the registry with its full checksum and URLs."""
    s = ctx.inp.shared["sources"]
    reg = ctx.inp.shared["registry"]
    status_words = {"provisional": "provvisorio", "final": "definitivo"}
    data = pd.DataFrame({
        "Identificativo": reg["id"], "Dataset": reg["dataset"], "Produttore": reg["producer"], "Titolo": reg["title"],
        "Data di riferimento": reg["reference_date"], "Stato": reg["status"].map(lambda v: status_words.get(v, v)),
        "Licenza": reg["licence"], "SHA-256": reg["sha256"], "Byte": pd.to_numeric(reg["size"]).astype("Int64"),
        "Percorso nel mirror": reg["path"], "URL (copia a commit fisso)": reg["upstream_url"],
        "URL del produttore": reg["producer_url"],
    })
    display = pd.DataFrame({
        "Produttore": [esc(v) for v in s["producer"]],
        "Dataset": [esc(v) for v in s["title"]],
        "File": [num(v) for v in s["files"]],
        "Riferimento": [esc(v) for v in s["reference_date"]],
        "Licenza": [esc(v) for v in s["licence"]],
        "SHA-256": [f"`{v[:12]}…`" if not fmt.is_missing(v) else "nel file scaricabile" for v in s["sha256"]],
    })
    ctx.var("app.n_files", num(len(reg)))
    ctx.var("app.n_lines", num(len(s)))
    ctx.var("app.n_anac", num(int((reg["dataset"] == "anac_contracts").sum())))
    ctx.var("app.n_boundaries", num(int((reg["dataset"] == "boundaries").sum())))
    ctx.table(Table(name="fonti", caption="Fonti dei dati: un file per riga; i file mensili dei contratti ANAC e i file "
                                          "dei confini sono raggruppati in una riga ciascuno con il loro numero",
                    data=data, display=display,
                    source="Fonte: registro delle fonti di INSIEna (config/sources.csv): produttore, URL, licenza, data "
                           "di riferimento e checksum SHA-256 di ogni file; la tabella mostra i primi 12 caratteri del "
                           "checksum, il file scaricabile elenca ogni file con il checksum intero",
                    date="Stato del registro alla data dell'elaborazione",
                    align=["l", "l", "r", "l", "l", "l"]))


def definitions_appendix(ctx: Ctx) -> None:
    d = ctx.inp.shared["definitions"]
    used = set(ctx.ind.df["indicator_id"].unique()) if len(ctx.ind.df) else set()
    d = d[d["indicator_id"].isin(used)]
    frame = pd.DataFrame({
        "Indicatore": d["name"], "Tema": [THEME_LABELS.get(t, t) for t in d["theme"]],
        "Definizione": d["definition"], "Formula": d["formula"], "Unità": d["unit"],
        "Discontinuità e note": [" ".join(x for x in (b, n) if not fmt.is_missing(x)) for b, n in
                                 zip(d["series_breaks"], d["note"])],
        "Id": d["indicator_id"],
    }).reset_index(drop=True)
    ctx.var("app.n_definitions", num(len(frame)))
    table = make_table("definizioni", "Definizioni e formule degli indicatori usati nel rapporto", frame,
                       "Fonte: catalogo degli indicatori di INSIEna (config/indicators.yaml)",
                       "Definizioni valide per tutte le date del rapporto")
    table.display = pd.DataFrame({"Indicatore": [esc(v) for v in frame["Indicatore"]],
                                  "Definizione": [esc(v) for v in frame["Definizione"]],
                                  "Unità": [esc(v) for v in frame["Unità"]]})
    table.note = ("La formula di ogni indicatore, le discontinuità delle serie e le note sulle fonti sono nel file "
                  "scaricabile.")
    table.align = ["l", "l", "l"]
    ctx.table(table)


CHECK_WORDS = {
    "sum_of": "somma dei livelli inferiori uguale al totale",
    "census_break": "discontinuità censuaria segnalata (attesa)",
    "vs": "stessa grandezza da due fonti",
}
STATUS_WORDS = {"ok": "coincidenti", "census_break": "discontinuità attesa", "different_basis": "basi diverse (attese)"}


def _check_words(family: str) -> str:
    m = re.fullmatch(r"(.+?)_sum_of_(\w+?)_vs_(\w+)", family)
    if m:
        return f"{m.group(1).upper().replace('_', ' ')}: somma per {m.group(2)} = {m.group(3)}"
    m = re.fullmatch(r"census_break_(\w+)", family)
    if m:
        return f"{m.group(1).upper()}: rottura censuaria 2021/2022 segnalata"
    m = re.fullmatch(r"(.+?)_vs_(.+)", family)
    if m:
        return f"{m.group(1).replace('_', ' ')} contro {m.group(2).replace('_', ' ')}"
    return family.replace("_", " ")


def validation_appendix(ctx: Ctx) -> None:
    ch = ctx.inp.shared["checks"]
    p = ctx.p
    mine = set([p, ctx.region, ITALIA, *ctx.comuni["territory_code"].astype(str)])
    rows = []
    for (file, family), g in ch.groupby(["file", "family"], sort=True):
        n = int(g["n"].sum())
        by = g.groupby("status")["n"].sum()
        local = g[g["territory_code"].isin(mine)]
        lby = local.groupby("status")["n"].sum()
        failed = int(sum(v for k, v in by.items() if k not in STATUS_WORDS))
        rows.append({
            "Controllo": _check_words(family), "Codice": family, "File": file,
            "Confronti": n, "Coincidenti": int(by.get("ok", 0)),
            "Differenze attese": int(sum(v for k, v in by.items() if k in STATUS_WORDS and k != "ok")),
            "Non superati": failed,
            "Confronti del territorio": int(local["n"].sum()),
            "Non superati del territorio": int(sum(v for k, v in lby.items() if k not in STATUS_WORDS)),
        })
    frame = pd.DataFrame(rows)
    for col in frame.columns[3:]:
        frame[col] = frame[col].astype("Int64")
    total = int(frame["Confronti"].sum()) if len(frame) else 0
    failed = int(frame["Non superati"].sum()) if len(frame) else 0
    ctx.var("val.n_checks", num(len(frame)))
    ctx.var("val.n_comparisons", num(total))
    ctx.var("val.n_failed", num(failed))
    ctx.var("val.n_expected", num(int(frame["Differenze attese"].sum()) if len(frame) else 0))
    ctx.var("val.n_local", num(int(frame["Confronti del territorio"].sum()) if len(frame) else 0))
    ctx.table(make_table(
        "validazione", "Controlli di coerenza tra fonti eseguiti dalla pipeline: confronti, esiti e quelli che "
                       f"riguardano la provincia di {ctx.pname}, i suoi comuni, la {ctx.rname} e l'Italia",
        frame.drop(columns=["Codice", "File"]),
        "Fonte: controlli della pipeline INSIEna (data/processed/checks/)",
        "Eseguiti su tutti i file del mirror",
        note=("\"Differenze attese\": la popolazione POSAS provvisoria e quella censuaria di P2 hanno basi diverse; la "
              "rottura censuaria 2021/2022 è segnalata, non corretta. Ogni riga non superata è elencata nei file di "
              "controllo scaricabili.")))
    coverage_appendix(ctx)


def coverage_appendix(ctx: Ctx) -> None:
    """Dates the sources do not cover, per indicator, at the levels of the province (clarifications
    item 7: never interpolated or borrowed, listed)."""
    cov = ctx.inp.coverage
    levels = ["comune", "zona_distretto", "provincia"] if len(ctx.zones) else ["comune", "provincia"]
    if cov is None or cov.empty:
        ctx.var("val.n_missing", "0")
        ctx.text("copertura", "")
        return
    used = set(ctx.ind.df["indicator_id"]) if len(ctx.ind.df) else set()
    m = cov[cov["territory_level"].isin(levels) & (cov["periods_missing"].fillna("") != "")
            & cov["indicator_id"].isin(used)]
    names = ctx.definitions["name"].to_dict()
    frame = pd.DataFrame({
        "Indicatore": [names.get(i, i) for i in m["indicator_id"]],
        "Livello": [LEVEL_LABELS.get(lv, lv) for lv in m["territory_level"]],
        "Periodi calcolati": [", ".join(period_words(x) for x in str(v).split(";") if x) for v in m["periods_computed"]],
        "Periodi mancanti": [", ".join(period_words(x) for x in str(v).split(";") if x) for v in m["periods_missing"]],
        "Motivo": [re.sub(r"(^|\| )[^:|]+: ", r"\1", str(v)).replace(" | ", "; ") for v in m["missing_reason"]],
        "Id": m["indicator_id"],
    }).reset_index(drop=True)
    ctx.var("val.n_missing", num(len(frame)))
    ctx.table(make_table(
        "copertura", f"Date e anni che le fonti non coprono, per indicatore, ai livelli {words_list([LEVEL_LABELS[x] for x in levels])}",
        frame, "Fonte: controllo di copertura della pipeline INSIEna (data/processed/indicators_coverage.csv) rispetto "
               "al catalogo degli indicatori", "Periodi del catalogo alla data dei dati del mirror", hide=["Id"]))
    ctx.text("copertura", ("Le date che le fonti non coprono non sono stimate: restano vuote nelle tabelle e nelle figure. "
                           "La @tbl-copertura le elenca, con il motivo, ai livelli della provincia.\n\n"
                           "{{< include /tables/copertura.md >}}"))


# ------------------------------------------------------------------------------------------ summary

def section_summary(ctx: Ctx) -> None:
    """The key-figures table: province vs region vs Italy, each with its date."""
    ind, p = ctx.ind, ctx.p
    latest = ctx.latest
    specs = [
        ("foreign_residents", "Stranieri residenti", latest, num),
        ("foreign_share", "Incidenza degli stranieri sui residenti (%)", latest, pct),
        ("foreign_residents_change", "Variazione degli stranieri rispetto alla data precedente (%)", latest,
         lambda v: pct(v, signed=True)),
        ("natural_balance_rate_foreigners", "Saldo naturale degli stranieri (per 1.000)", None,
         lambda v: per1000(v, True)),
        ("migratory_balance_rate_foreigners", "Saldo migratorio degli stranieri (per 1.000)", None,
         lambda v: per1000(v, True)),
        ("citizenship_acquisitions_per_1000_foreigners", "Acquisizioni di cittadinanza per 1.000 stranieri", None, per1000),
        ("share_65_plus_foreigners", "Stranieri con 65 anni e più (%)", None, pct),
        ("protection_permits", "Nuovi permessi per protezione internazionale", None, num),
        ("protection_permits_per_1000_residents", "Nuovi permessi per protezione per 1.000 residenti", None,
         lambda v: num(v, 2)),
        ("reception_presences_per_1000_residents", "Migranti in accoglienza per 1.000 residenti", None, per1000),
    ]
    data, disp, used = [], [], []
    cols = [p, ctx.region, ITALIA]
    for iid, label, period, f in specs:
        per = period or ind.latest(iid, p) or ind.latest(iid, ctx.region)
        entry = {"Indicatore": label, "Periodo": period_words(per) if per else "n.d."}
        dentry = {"Indicatore": esc(label), "Periodo": period_words(per) if per else "n.d."}
        for code in cols:
            r = ind.get(iid, code, per) if per else None
            entry[ctx.label(code)] = r["value"] if r else None
            dentry[ctx.label(code)] = f(r["value"]) if r else "—"
            if per:
                used.append(ind.records(iid, code, per))
        data.append(entry)
        disp.append(dentry)
    frame = pd.DataFrame(data)
    for col in frame.columns[2:]:
        frame[col] = pd.array(frame[col], dtype="Float64")
    ctx.table(Table(
        name="sintesi", caption=f"Indicatori chiave: provincia di {ctx.pname}, {ctx.rname} e Italia",
        data=frame, display=pd.DataFrame(disp), source=ctx.source_of(*used),
        date="Ogni riga alla data o nell'anno indicati (l'ultimo disponibile per la provincia)",
        align=["l", "l", "r", "r", "r"],
        note=("\"—\": indicatore non disponibile a quel livello (i migranti in accoglienza sono pubblicati solo per "
              "regione). Le date differiscono perché ogni fonte ha il suo ultimo aggiornamento.")))
    # Permits (also used in prose).
    year = ind.latest("protection_permits", p)
    r = ind.get("protection_permits", p, year) if year else None
    ctx.var("perm.year", year)
    ctx.var("perm.count", num(r["value"]) if r else None)
    rate = ind.get("protection_permits_per_1000_residents", p, year) if year else None
    ctx.var("perm.rate", num(rate["value"], 2) if rate else None)
    ctx.var("perm.region_count", num(ind.value("protection_permits", ctx.region, year)) if year else None)
    ctx.var("perm.italy_count", num(ind.value("protection_permits", ITALIA, year)) if year else None)
    ctx.var("perm.italy_rate", num(ind.value("protection_permits_per_1000_residents", ITALIA, year), 2) if year else None)
    ctx.var("perm.sentence", (f"Nel {year} sono stati rilasciati nella provincia {num(r['value'])} nuovi permessi di "
                              "soggiorno per protezione internazionale" + (f" ({num(rate['value'], 2)} ogni 1.000 "
                                                                           "residenti)." if rate else ".")
                              if r else "I nuovi permessi per protezione internazionale non sono disponibili per "
                                        "la provincia (schema provinciale del file ISTAT a 103 province)."))
    s = ind.series("protection_permits", p)
    if len(s):
        ctx.var("perm.peak_year", s.idxmax())
        ctx.var("perm.peak_count", num(s.max()))
        ctx.var("perm.first_year", s.index[0])
        ctx.var("perm.first_count", num(s.iloc[0]))
    else:
        for k in ("peak_year", "peak_count", "first_year", "first_count"):
            ctx.var(f"perm.{k}", None)
    permits_figure_table(ctx)
    # The main gaps, one line per theme, for the summary.
    g = ctx.inp.shared["gaps"]
    lines = []
    for theme in ["accoglienza", *FOUR_THEMES]:
        names = list(dict.fromkeys(g.loc[g["theme"] == theme, "name"]))
        if names:
            shown = [esc(n[:1].lower() + n[1:]) for n in names[:3]]
            more = f" e altri {len(names) - 3}" if len(names) > 3 else ""
            lines.append(f"- **{THEME_LABELS[theme]}**: {'; '.join(shown)}{more}.")
    # Indented as a list nested in the summary's "Dati mancanti" item (the include sits at column 2).
    ctx.text("sintesi_lacune", "\n  ".join(lines))


def permits_figure_table(ctx: Ctx) -> None:
    ind, p = ctx.ind, ctx.p
    years = ind.periods("protection_permits", p)
    if not years:
        ctx.text("permessi", "I nuovi permessi per protezione internazionale non sono disponibili per la provincia.")
        return
    rows, used = [], []
    for y in years:
        entry = {"Anno": y}
        for code in (p, ctx.region, ITALIA):
            entry[f"Permessi, {ctx.label(code)}"] = ind.value("protection_permits", code, y)
            used.append(ind.records("protection_permits", code, y))
        for code in (p, ctx.region, ITALIA):
            entry[f"Per 1.000 residenti, {ctx.label(code)}"] = ind.value("protection_permits_per_1000_residents", code, y)
            used.append(ind.records("protection_permits_per_1000_residents", code, y))
        rows.append(entry)
    frame = pd.DataFrame(rows)
    for col in frame.columns[1:4]:
        frame[col] = pd.array(frame[col], dtype="Float64").round(0).astype("Int64")
    for col in frame.columns[4:]:
        frame[col] = pd.array(frame[col], dtype="Float64")
    note = ("Permessi rilasciati nell'anno (flussi), non permessi validi; tutti i paesi di cittadinanza. Le province "
            "sono nello schema a 103 codici del file ISTAT. Il tasso per 1.000 residenti manca dove il mirror non ha la "
            "popolazione della provincia (anni prima del 2022).")
    ctx.table(make_table("permessi", f"Nuovi permessi di soggiorno per protezione internazionale: provincia di {ctx.pname}, "
                                     f"{ctx.rname} e Italia, {years_span(years)}", frame, ctx.source_of(*used),
                         f"Anni {years_span(years)}", formats={"Anno": lambda v: v} |
                         {c: (lambda v: num(v, 2)) for c in frame.columns[4:]}, note=note))
    ctx.text("permessi", (
        "I nuovi permessi di soggiorno per protezione internazionale sono i soli dati per provincia legati "
        "alla domanda di asilo. Nel {{< var perm.year >}} nella provincia ne sono stati rilasciati "
        "{{< var perm.count >}} ({{< var perm.rate >}} ogni 1.000 residenti; Italia {{< var perm.italy_rate >}}); nel "
        "periodo {{< var perm.first_year >}}-{{< var perm.year >}} il massimo è stato nel {{< var perm.peak_year >}}, "
        "con {{< var perm.peak_count >}} permessi (@tbl-permessi).\n\n{{< include /tables/permessi.md >}}"))


# ------------------------------------------------------------------------------------------ assemble

def assemble(inputs: ProvinceInputs) -> Report:
    import time

    ctx = Ctx(inputs)
    for name, fn in (("territorio", section_territory), ("stranieri", section_foreigners),
                     ("accoglienza", section_reception), ("temi", section_themes),
                     ("benchmark", section_benchmark), ("sintesi", section_summary),
                     ("appendice", section_appendix)):
        t0 = time.perf_counter()
        fn(ctx)
        ctx.report.timings[name] = time.perf_counter() - t0
    return ctx.report
