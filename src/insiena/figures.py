"""Figures of the report: one colour-blind-safe style, Italian number formats, deterministic files.

Every function takes its data as arguments and returns a matplotlib ``Figure``; titles, captions
and source lines belong to the report stage. Figures are built with ``matplotlib.figure.Figure``,
never ``pyplot``: no global figure registry to leak memory in a loop over provinces, no backend to
switch (PNG is rendered by Agg, SVG by the SVG backend, picked by ``savefig`` from the format).

The style (``STYLE``) is applied per figure through ``style()``, a ``matplotlib.rc_context``; nothing
is changed in the global rcParams, so notebooks and other code keep their own settings.

Colours: Okabe & Ito (2008), distinguishable with every common colour-vision deficiency; lines also
differ by dash pattern, so the figures survive greyscale printing.
"""

from __future__ import annotations

import contextlib
import math
import os
from typing import Iterable, Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib import ticker
from matplotlib.figure import Figure

from insiena import fmt
from insiena.io import atomic_path

CM = 1 / 2.54
WIDTH_CM = 16.0          # text width of an A4 page with 2.5 cm margins
DPI = 150
SVG_HASHSALT = "insiena"  # SVG element ids are salted hashes: a fixed salt makes them reproducible

OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
# Series order: strongest contrast first; yellow last (weak on white).
SERIES_COLORS = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000",
                 "#F0E442")
SERIES_DASHES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), "-", "--")
MALE_COLOR = "#56B4E9"
FEMALE_COLOR = "#E69F00"
MUTED = "#5a5a5a"
TEXT = "#1a1a1a"

STYLE = {
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.titlelocation": "left",
    "axes.labelsize": 8,
    "axes.labelcolor": TEXT,
    "axes.edgecolor": "#6b6b6b",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": False,  # same hyphen-minus as insiena.fmt
    "axes.prop_cycle": matplotlib.cycler(color=list(SERIES_COLORS)),
    "axes.axisbelow": True,
    "axes.facecolor": "white",
    "text.color": TEXT,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "xtick.color": "#333333",
    "ytick.color": "#333333",
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.major.size": 3,
    "ytick.major.size": 3,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "legend.fontsize": 7.5,
    "legend.title_fontsize": 7.5,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "hatch.linewidth": 0.5,
    "figure.facecolor": "white",
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "savefig.facecolor": "white",
    "svg.hashsalt": SVG_HASHSALT,
    "svg.fonttype": "path",
}


def style():
    """Context manager applying ``STYLE``; artists read rcParams when created, so build inside it."""
    return matplotlib.rc_context(STYLE)


def new_figure(width_cm: float = WIDTH_CM, height_cm: float = 9.0, nrows: int = 1, ncols: int = 1,
               **subplot_kw):
    """A styled figure of the given size (constrained layout) and its axes."""
    with style():
        fig = Figure(figsize=(width_cm * CM, height_cm * CM), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=True, **subplot_kw)
    return fig, axes


@contextlib.contextmanager
def _figure_for(ax, width_cm: float, height_cm: float):
    """Yield (fig, ax) inside the style: the given axes, or a new figure when ``ax`` is None."""
    with style():
        if ax is None:
            fig, ax = new_figure(width_cm, height_cm)
        yield ax.get_figure(), ax


def save_figure(fig: Figure, path_png: str | os.PathLike, path_svg: str | os.PathLike | None = None,
                dpi: int = DPI) -> None:
    """Write PNG (and SVG) atomically and byte-for-byte reproducibly.

    PNG: no "Software" text chunk (it names the matplotlib version) and no time chunk. SVG: no date,
    and ids from a fixed hash salt (matplotlib salts with a random UUID otherwise).
    """
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}):
        with atomic_path(path_png, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None},
                        facecolor="white")
        if path_svg is not None:
            with atomic_path(path_svg, suffix=".svg") as tmp:
                fig.savefig(tmp, format="svg", metadata={"Date": None}, facecolor="white")


# ------------------------------------------------------------------------------------ tick labels

def _decimals_for(step: float) -> int:
    for d in range(0, 5):
        scaled = step * 10 ** d
        if abs(scaled - round(scaled)) < 1e-6 * max(1.0, scaled):
            return d
    return 4


class ItalianFormatter(ticker.Formatter):
    """Tick labels through ``insiena.fmt``: "1.500", "2,5%"; decimals from the tick spacing unless
    fixed. ``absolute=True`` drops the sign (both halves of an age pyramid are positive shares)."""

    def __init__(self, unit: str = "", decimals: int | None = None, absolute: bool = False):
        self.unit = unit
        self.decimals = decimals
        self.absolute = absolute
        self._auto = 0

    def set_locs(self, locs):
        super().set_locs(locs)
        steps = np.diff(np.sort(np.asarray(locs, dtype=float)))
        steps = steps[steps > 0]
        self._auto = _decimals_for(float(steps.min())) if steps.size else 0

    def __call__(self, x, pos=None):
        d = self._auto if self.decimals is None else self.decimals
        return fmt.with_unit(fmt.fmt_num(abs(x) if self.absolute else x, d), self.unit)


def italian_ticks(axis, unit: str = "", decimals: int | None = None, absolute: bool = False) -> None:
    """Format an ``ax.xaxis`` / ``ax.yaxis`` the Italian way."""
    axis.set_major_formatter(ItalianFormatter(unit, decimals, absolute))


class ItalianDateFormatter(ticker.Formatter):
    """Date ticks in Italian: years alone when every tick is a 1 January, else "gen 2025", "apr"."""

    def __call__(self, x, pos=None):
        return self.format_ticks([x])[0]

    def format_ticks(self, values):
        from matplotlib import dates as mdates

        days = [mdates.num2date(v).date() for v in values]
        if all(d.month == 1 and d.day == 1 for d in days):
            return [str(d.year) for d in days]
        labels, last_year = [], None
        for d in days:
            month = fmt.month_name(d.month, short=True)
            labels.append(f"{month}\n{d.year}" if d.year != last_year else month)
            last_year = d.year
        return labels


def _style_axes(ax, grid: str = "y") -> None:
    ax.grid(False)
    if grid in ("x", "y", "both"):
        ax.grid(True, axis=grid)
    ax.tick_params(axis="both", which="both", direction="out", length=3)


def _unit(kind: str) -> str:
    if kind not in ("num", "pct"):
        raise ValueError(f"kind must be 'num' or 'pct', not {kind!r}")
    return "%" if kind == "pct" else ""


# ------------------------------------------------------------------------------------ line chart

def _is_year(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _x_position(x, is_date: bool) -> float:
    """Numeric x of a year (the year itself) or of a date (matplotlib date number, in days)."""
    if not is_date:
        return float(x)
    import pandas as pd
    from matplotlib import dates as mdates

    return float(mdates.date2num(pd.Timestamp(x).to_pydatetime()))


def _gap_threshold(all_x, xs: np.ndarray, is_date: bool) -> float:
    """Spacing beyond which consecutive points are not neighbours (a missing observation).

    Years: more than one year apart. Dates on the first of the month (stocks, monthly series):
    more than 1.5 times the smallest step in months. Other dates (irregular reports): more than
    1.5 times the median spacing.
    """
    import pandas as pd

    if not is_date:
        return 1.5
    stamps = pd.DatetimeIndex(sorted({pd.Timestamp(x) for x in all_x}))
    if len(stamps) < 2:
        return math.inf
    if (stamps.day == 1).all():
        months = np.diff(stamps.year * 12 + stamps.month)
        return 1.5 * float(months[months > 0].min()) * 30.44
    return 1.5 * float(np.median(np.diff(xs)))


def _with_gaps(x: np.ndarray, y: np.ndarray, max_gap: float, cuts: Sequence[float]):
    """Insert NaN where consecutive points are further apart than ``max_gap`` or straddle a cut,
    so the line breaks there instead of bridging (i.e. interpolating) missing observations."""
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    out_x, out_y = [], []
    for i in range(len(x)):
        if i:
            straddles = any(x[i - 1] < c < x[i] for c in cuts)
            if x[i] - x[i - 1] > max_gap or straddles:
                out_x.append((x[i - 1] + x[i]) / 2)
                out_y.append(np.nan)
        out_x.append(x[i])
        out_y.append(y[i])
    return np.asarray(out_x), np.asarray(out_y, dtype=float)


def _isolated(y: np.ndarray) -> np.ndarray:
    valid = ~np.isnan(y)
    prev = np.concatenate(([False], valid[:-1]))
    nxt = np.concatenate((valid[1:], [False]))
    return valid & ~prev & ~nxt


def line_chart(series: Mapping[str, object], *, ax=None, kind: str = "num",
               decimals: int | None = None, ylabel: str | None = None, xlabel: str | None = None,
               breaks: Sequence[tuple[object, str]] = (), connect_breaks: bool = False,
               max_gap=None, start_at_zero: bool = True, markers: bool | None = None,
               label_last: bool = False, title: str | None = None,
               width_cm: float = WIDTH_CM, height_cm: float = 8.0) -> Figure:
    """Time series, one line per entry of ``series`` (label -> pandas Series or {x: y} mapping).

    x is a year (int) or a date (ISO string, date, Timestamp). Missing observations are never
    interpolated: a NaN value, or a spacing wider than ``max_gap`` (in years, or in days or a
    Timedelta for dates; default: see ``_gap_threshold``: a missing year, a missing month of a
    monthly series, or 1.5 times the median spacing of irregular dates), breaks the line; a point
    with no neighbour is drawn as a marker. ``breaks`` are series breaks, e.g. ``[("2021-10-01", "Ricostruzione censuaria")]``:
    a dashed vertical line with its label; lines are interrupted there unless ``connect_breaks``.
    """
    import pandas as pd

    unit = _unit(kind)
    data = {str(k): (v if isinstance(v, pd.Series) else pd.Series(dict(v)))
            for k, v in series.items()}
    all_x = [x for v in data.values() for x in v.index]
    is_date = not all(_is_year(x) for x in all_x)
    with _figure_for(ax, width_cm, height_cm) as (fig, ax):
        xs_all = np.unique([_x_position(x, is_date) for x in all_x])
        gap = _gap_threshold(all_x, xs_all, is_date) if max_gap is None else (
            max_gap / pd.Timedelta(days=1) if isinstance(max_gap, pd.Timedelta) else float(max_gap))
        cut_positions = [_x_position(x, is_date) for x, _ in breaks]
        cuts = [] if connect_breaks else cut_positions
        n_points = max((len(s) for s in data.values()), default=0)
        show_markers = n_points <= 20 if markers is None else markers

        all_y = []
        for i, (label, s) in enumerate(data.items()):
            x = np.array([_x_position(v, is_date) for v in s.index], dtype=float)
            y = pd.to_numeric(pd.Series(list(s.values), dtype="object"), errors="coerce")
            y = y.astype(float).to_numpy()
            x, y = _with_gaps(x, y, gap, cuts)
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            dash = SERIES_DASHES[i % len(SERIES_DASHES)]
            ax.plot(x, y, color=color, linestyle=dash, label=label, zorder=3,
                    marker="o" if show_markers else None, markersize=3.2)
            lone = _isolated(y)
            if lone.any() and not show_markers:
                ax.plot(x[lone], y[lone], linestyle="none", marker="o", markersize=3.2, color=color,
                        zorder=3)
            all_y.extend(y[~np.isnan(y)].tolist())
            if label_last and np.any(~np.isnan(y)):
                j = int(np.flatnonzero(~np.isnan(y))[-1])
                ax.annotate(fmt.with_unit(fmt.fmt_num(y[j], 1 if decimals is None else decimals),
                                          unit),
                            (x[j], y[j]), xytext=(4, 0), textcoords="offset points",
                            va="center", fontsize=7, color=color)

        for pos, (_, text) in zip(cut_positions, breaks):
            ax.axvline(pos, color=MUTED, linestyle=(0, (3, 2)), linewidth=0.8, zorder=2)
            ax.annotate(text, (pos, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -2),
                        textcoords="offset points", ha="left", va="top", fontsize=7,
                        color=MUTED, style="italic")

        _style_axes(ax, "y")
        italian_ticks(ax.yaxis, unit, decimals)
        if start_at_zero and all_y and min(all_y) >= 0:
            ax.set_ylim(bottom=0)
        if all_y:
            # Headroom above the highest point, for the series-break label and the legend.
            bottom = ax.get_ylim()[0]
            ax.set_ylim(top=max(all_y) + 0.12 * ((max(all_y) - bottom) or 1))
        if is_date:
            from matplotlib import dates as mdates

            ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=9))
            ax.xaxis.set_major_formatter(ItalianDateFormatter())
        else:
            ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True, nbins=10))
            ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: str(int(round(v)))))
        if len(xs_all):
            pad = 0.03 * (xs_all.max() - xs_all.min() or 1)
            ax.set_xlim(xs_all.min() - pad, xs_all.max() + pad * (4 if label_last else 1))
        if ylabel:
            ax.set_ylabel(ylabel)
        if xlabel:
            ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title)
        if len(data) > 1:
            ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=min(len(data), 4),
                      handlelength=2.6, borderaxespad=0.3)
    return fig


# ------------------------------------------------------------------------------------ bar charts

def _bar_label(ax, value: float, pos: float, unit: str, decimals: int, horizontal: bool,
               fontsize: float = 7) -> None:
    if np.isnan(value):
        text, v = fmt.NA, 0.0
    else:
        text, v = fmt.with_unit(fmt.fmt_num(value, decimals), unit), value
    outward = 1 if v >= 0 else -1
    if horizontal:
        ax.annotate(text, (v, pos), xytext=(3 * outward, 0), textcoords="offset points",
                    ha="left" if outward > 0 else "right", va="center", fontsize=fontsize,
                    color=MUTED if np.isnan(value) else TEXT)
    else:
        ax.annotate(text, (pos, v), xytext=(0, 2 * outward), textcoords="offset points",
                    ha="center", va="bottom" if outward > 0 else "top", fontsize=fontsize,
                    color=MUTED if np.isnan(value) else TEXT)


def _pad_for_labels(ax, values: np.ndarray, horizontal: bool, share: float = 0.14) -> None:
    finite = values[~np.isnan(values)]
    lo = min(0.0, float(finite.min())) if finite.size else 0.0
    hi = max(0.0, float(finite.max())) if finite.size else 1.0
    span = (hi - lo) or 1.0
    limits = (lo - share * span if lo < 0 else 0.0, hi + share * span if hi > 0 else 0.0)
    (ax.set_xlim if horizontal else ax.set_ylim)(*limits)


def bar_chart(values, *, ax=None, kind: str = "num", decimals: int = 0, sort: bool = True,
              top: int | None = None, highlight: Iterable[str] = (), xlabel: str | None = None,
              color: str = "#0072B2", highlight_color: str = "#D55E00", title: str | None = None,
              width_cm: float = WIDTH_CM, height_cm: float | None = None) -> Figure:
    """Horizontal bars ranked from the largest (top) down, each labelled with its value.

    ``values``: label -> number (mapping or pandas Series). Missing values stay in the chart, last,
    with the label "n.d." and no bar: a missing figure is not a zero. ``highlight`` colours some bars
    (e.g. the comune capoluogo) with ``highlight_color``.
    """
    unit = _unit(kind)
    items = [(str(k), np.nan if fmt.is_missing(v) else float(v)) for k, v in dict(values).items()]
    if sort:
        present = sorted((i for i in items if not np.isnan(i[1])), key=lambda kv: (-kv[1], kv[0]))
        items = present + [i for i in items if np.isnan(i[1])]
    if top is not None:
        items = items[:top]
    if height_cm is None:
        height_cm = min(24.0, 1.4 + 0.5 * len(items))
    hl = set(highlight)
    labels = [k for k, _ in items]
    vals = np.array([v for _, v in items], dtype=float)
    with _figure_for(ax, width_cm, height_cm) as (fig, ax):
        pos = np.arange(len(items))[::-1]  # first item at the top
        colors = [highlight_color if k in hl else color for k in labels]
        ax.barh(pos, np.nan_to_num(vals), height=0.7, color=colors, zorder=2)
        for p, v in zip(pos, vals):
            _bar_label(ax, v, p, unit, decimals, horizontal=True)
        ax.set_yticks(pos, labels)
        ax.tick_params(axis="y", length=0)
        ax.axvline(0, color="#6b6b6b", linewidth=0.6, zorder=3)
        # The value labels carry the numbers: no value axis, no grid to compete with them.
        ax.xaxis.set_visible(False)
        for side in ("bottom", "left", "top", "right"):
            ax.spines[side].set_visible(False)
        _pad_for_labels(ax, vals, horizontal=True, share=0.16)
        ax.set_ylim(-0.6, len(items) - 0.4)
        if xlabel:
            ax.xaxis.set_visible(True)
            ax.set_xlabel(xlabel)
            ax.tick_params(axis="x", bottom=False, labelbottom=False)
        if title:
            ax.set_title(title)
    return fig


def grouped_bars(data, *, ax=None, kind: str = "pct", decimals: int = 1, horizontal: bool = False,
                 value_labels: bool = True, colors: Sequence[str] | None = None,
                 ylabel: str | None = None, legend_title: str | None = None,
                 title: str | None = None, width_cm: float = WIDTH_CM,
                 height_cm: float | None = None) -> Figure:
    """Side-by-side bars: rows of ``data`` (a DataFrame) are categories along the axis, columns are
    the groups compared (e.g. columns Siena / Toscana / Italia, rows Stranieri / Italiani).

    The first column gets the strongest colour: put the territory of the report first. Missing
    values are labelled "n.d." without a bar.
    """
    import pandas as pd

    frame = pd.DataFrame(data)
    unit = _unit(kind)
    cats = [str(c) for c in frame.index]
    groups = [str(g) for g in frame.columns]
    vals = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    palette = list(colors) if colors else list(SERIES_COLORS)
    n_cat, n_grp = vals.shape
    if height_cm is None:
        height_cm = min(24.0, 2.0 + 0.45 * n_cat * n_grp) if horizontal else 8.0
    width = 0.8 / max(n_grp, 1)
    with _figure_for(ax, width_cm, height_cm) as (fig, ax):
        centres = np.arange(n_cat)[::-1] if horizontal else np.arange(n_cat)
        for j, g in enumerate(groups):
            # Horizontal: first group on top within each category, as in the legend.
            offset = ((n_grp - 1) / 2 - j) * width if horizontal else (j - (n_grp - 1) / 2) * width
            pos = centres + offset
            v = vals[:, j]
            if horizontal:
                ax.barh(pos, np.nan_to_num(v), height=width * 0.92, color=palette[j % len(palette)],
                        label=g, zorder=2)
            else:
                ax.bar(pos, np.nan_to_num(v), width=width * 0.92, color=palette[j % len(palette)],
                       label=g, zorder=2)
            if value_labels:
                for p, x in zip(pos, v):
                    _bar_label(ax, x, p, unit, decimals, horizontal,
                               fontsize=6.5 if n_grp > 3 else 7)
        if horizontal:
            ax.set_yticks(centres, cats)
            ax.tick_params(axis="y", length=0)
            _style_axes(ax, "x")
            italian_ticks(ax.xaxis, unit)
            ax.axvline(0, color="#6b6b6b", linewidth=0.6, zorder=3)
            ax.spines["left"].set_visible(False)
            if ylabel:
                ax.set_xlabel(ylabel)
        else:
            ax.set_xticks(centres, cats)
            ax.tick_params(axis="x", length=0)
            _style_axes(ax, "y")
            italian_ticks(ax.yaxis, unit)
            ax.axhline(0, color="#6b6b6b", linewidth=0.6, zorder=3)
            if ylabel:
                ax.set_ylabel(ylabel)
        if value_labels:
            _pad_for_labels(ax, vals.ravel(), horizontal)
        ax.legend(title=legend_title, loc="lower left", bbox_to_anchor=(0, 1.0),
                  ncol=min(n_grp, 5), borderaxespad=0.3, handlelength=1.2)
        if title:
            ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------- age pyramid

def _shares(males, females, normalize: bool) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray([np.nan if fmt.is_missing(v) else float(v) for v in males], dtype=float)
    f = np.asarray([np.nan if fmt.is_missing(v) else float(v) for v in females], dtype=float)
    if m.shape != f.shape:
        raise ValueError("males and females must have one value per age class")
    if np.isnan(m).any() or np.isnan(f).any():
        # A share of an incomplete total would be wrong for every class, not only the missing one.
        raise ValueError("age pyramid with missing values: shares would not be comparable")
    if normalize:
        total = m.sum() + f.sum()
        if total <= 0:
            raise ValueError("age pyramid of an empty population")
        m, f = 100 * m / total, 100 * f / total
    return m, f


def _step_outline(values: np.ndarray, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """Outline of touching horizontal bars (height 1, centred on 0..n-1), as one polyline."""
    n = len(values)
    y = np.repeat(np.arange(n + 1) - 0.5, 2)[1:-1]
    x = np.repeat(values, 2) * sign
    return np.concatenate(([0], x, [0])), np.concatenate(([-0.5], y, [n - 0.5]))


def pyramid(ax, ages: Sequence[str], males, females, *, overlay=None, normalize: bool = True,
            labels: tuple[str, str] = ("", ""),
            side_titles: tuple[str, str] = ("Maschi", "Femmine"),
            decimals: int | None = None, title: str | None = None,
            width_cm: float = WIDTH_CM, height_cm: float = 11.0) -> Figure:
    """Age pyramid: males to the left, females to the right, youngest class at the bottom.

    ``males``/``females`` are counts per age class (shares of the population's total when
    ``normalize``, the default) or already percentages (``normalize=False``). ``overlay`` is a
    second population ``(males, females)`` drawn as a black outline over the bars, e.g. foreigners
    as bars and all residents as outline. ``labels`` = (bars, overlay) names for the legend.
    ``ax`` may be None: a figure of ``width_cm`` x ``height_cm`` is created.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    m, f = _shares(males, females, normalize)
    if len(ages) != len(m):
        raise ValueError("one age label per class is needed")
    unit = "%" if normalize else ""
    with _figure_for(ax, width_cm, height_cm) as (fig, ax):
        y = np.arange(len(ages))
        ax.barh(y, -m, height=1.0, color=MALE_COLOR, edgecolor="white", linewidth=0.4, zorder=2)
        ax.barh(y, f, height=1.0, color=FEMALE_COLOR, edgecolor="white", linewidth=0.4, zorder=2)
        extent = max(m.max(), f.max())
        bars_label = labels[0] or "Popolazione"
        handles = [Patch(color=MALE_COLOR, label=f"{bars_label}, {side_titles[0].lower()}"),
                   Patch(color=FEMALE_COLOR, label=f"{bars_label}, {side_titles[1].lower()}")]
        if overlay is not None:
            om, of = _shares(overlay[0], overlay[1], normalize)
            if om.shape != m.shape:
                raise ValueError("overlay must have the same age classes")
            for vals, sign in ((om, -1), (of, 1)):
                xs, ys = _step_outline(vals, sign)
                ax.plot(xs, ys, color="black", linewidth=1.0, zorder=4, solid_joinstyle="miter")
            extent = max(extent, om.max(), of.max())
            handles.append(Line2D([], [], color="black", linewidth=1.0,
                                  label=labels[1] or "Confronto"))
        lim = extent * 1.1
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-0.5, len(ages) - 0.5)
        ax.set_yticks(y, list(ages))
        ax.tick_params(axis="y", length=0)
        ax.axvline(0, color="#6b6b6b", linewidth=0.6, zorder=3)
        _style_axes(ax, "x")
        ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=8, steps=[1, 2, 5, 10],
                                                      symmetric=True))
        italian_ticks(ax.xaxis, unit, decimals, absolute=True)
        ax.spines["left"].set_visible(False)
        for x, text, ha in ((0.25, side_titles[0], "center"), (0.75, side_titles[1], "center")):
            ax.text(x, 0.985, text, transform=ax.transAxes, ha=ha, va="top", fontsize=8,
                    fontweight="bold", color=TEXT)
        ax.set_ylabel("Classe di età")
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0),
                  ncol=len(handles), borderaxespad=0.3, handlelength=1.6)
        if title:
            ax.set_title(title)
    return fig


# ------------------------------------------------------------------------------------------ maps

def choropleth_figure(features, values, *, width_cm: float = WIDTH_CM,
                      height_cm: float | None = None, legend_cm: float = 5.0, **kwargs):
    """A styled figure sized to the territory, with ``insiena.maps.choropleth`` drawn on it and the
    legend in its own column at the right, as wide as the legend needs.

    Returns ``(fig, classes)``; ``kwargs`` go to ``choropleth`` (legend_title, decimals, unit...).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from insiena import maps

    drawn = [f for f in features if f.polygons]
    if not drawn:
        raise ValueError("no boundaries to draw: the caller must say that the map is not available")
    w, h = maps.map_size_cm(drawn, width_cm, legend_cm)
    h = height_cm or h
    with style():
        fig = Figure(figsize=(w * CM, h * CM))
        map_ax = fig.add_axes((0.0, 0.0, 1 - legend_cm / w, 1.0))
        legend_ax = fig.add_axes((1 - legend_cm / w, 0.0, legend_cm / w, 1.0))
        classes = maps.choropleth(map_ax, features, values, legend_ax=legend_ax, **kwargs)
        # Give the legend exactly the width it takes (titles vary), and the map the rest.
        legend = legend_ax.get_legend()
        if legend is not None:
            renderer = FigureCanvasAgg(fig).get_renderer()
            needed = legend.get_window_extent(renderer).width / fig.dpi / CM + 0.3
            share = min(needed, 0.6 * w) / w
            map_ax.set_position((0.0, 0.0, 1 - share, 1.0))
            legend_ax.set_position((1 - share, 0.0, share, 1.0))
        else:
            legend_ax.remove()
            map_ax.set_position((0.0, 0.0, 1.0, 1.0))
    return fig, classes
