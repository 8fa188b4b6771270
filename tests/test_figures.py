"""Report figures: deterministic atomic files, Italian ticks, gaps and breaks, bars, pyramids."""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from insiena import figures, maps

FIXTURE = Path(__file__).parent / "fixtures" / "maps" / "tiny.topo.json"
ROOT = Path(__file__).resolve().parents[1]

AGES = [f"{a}-{a + 4}" for a in range(0, 100, 5)] + ["100+"]


def _sample_figures():
    """One of each kind, hatches and text included (they carry the SVG ids and glyphs)."""
    feats = maps.load_municipalities(FIXTURE)
    fig_map, _ = figures.choropleth_figure(feats, {"001001": 12.34, "001002": None, "001003": 8.5},
                                           legend_title="Stranieri ogni 100 residenti",
                                           label_top=2)
    fig_line = figures.line_chart(
        {"Siena": {2019: 27_000, 2020: 27_400, 2021: 27_900, 2022: 26_800, 2023: np.nan,
                   2024: 27_500},
         "Toscana": {2019: 25_000, 2020: 25_500, 2022: 25_900, 2023: 26_100, 2024: 26_600}},
        breaks=[(2021.5, "Ricostruzione censuaria")])
    return {"map": fig_map, "line": fig_line}


def _digests(tmp: Path, tag: str) -> dict[str, str]:
    out = {}
    for name, fig in _sample_figures().items():
        png, svg = tmp / f"{tag}-{name}.png", tmp / f"{tag}-{name}.svg"
        figures.save_figure(fig, png, svg)
        out[name] = (hashlib.sha256(png.read_bytes()).hexdigest(),
                     hashlib.sha256(svg.read_bytes()).hexdigest())
    return out


# ----------------------------------------------------------------------------- determinism

def test_save_is_byte_identical_for_the_same_figure_and_for_a_rebuilt_one(tmp_path):
    figs = _sample_figures()
    for name, fig in figs.items():
        figures.save_figure(fig, tmp_path / "a.png", tmp_path / "a.svg")
        figures.save_figure(fig, tmp_path / "b.png", tmp_path / "b.svg")
        assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes(), name
        assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes(), name
    assert _digests(tmp_path, "first") == _digests(tmp_path, "second")


def test_save_is_byte_identical_across_processes(tmp_path):
    # Another process with another hash seed: any dependence on set/dict order, ids or time would
    # show up as different bytes.
    script = ("import sys, json; sys.path.insert(0, sys.argv[1]); import test_figures as t; "
              "from pathlib import Path; print(json.dumps(t._digests(Path(sys.argv[2]), 'child')))")
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    proc = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path)],
                          capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed},
                          timeout=300, check=True)
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    assert child == {k: list(v) for k, v in _digests(tmp_path, "parent").items()}


def test_png_has_no_software_or_time_chunk_and_svg_no_date(tmp_path):
    fig = _sample_figures()["line"]
    figures.save_figure(fig, tmp_path / "f.png", tmp_path / "f.svg")
    png = (tmp_path / "f.png").read_bytes()
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"tIME"):
        assert chunk not in png
    width, height = struct.unpack(">II", png[16:24])
    assert width == 944 and height == 472  # 16 x 8 cm at 150 dpi
    svg = (tmp_path / "f.svg").read_text()
    assert "<dc:date>" not in svg


def test_save_is_atomic(tmp_path):
    fig = _sample_figures()["line"]
    target = tmp_path / "out" / "fig.png"
    figures.save_figure(fig, target)  # creates the folder
    before = target.read_bytes()

    class Broken(Exception):
        pass

    def failing_savefig(path, **kwargs):
        Path(path).write_bytes(b"half a png")
        raise Broken

    fig.savefig = failing_savefig
    with pytest.raises(Broken):
        figures.save_figure(fig, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["fig.png"]  # no temp file left


def test_no_global_state_and_no_pyplot():
    before = dict(matplotlib.rcParams)
    _sample_figures()
    figures.pyramid(None, AGES[:3], [1, 2, 3], [3, 2, 1])
    assert dict(matplotlib.rcParams) == before
    code = ("import sys, insiena.figures, insiena.maps, insiena.fmt; "
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- tick labels

def test_italian_formatter():
    f = figures.ItalianFormatter()
    f.set_locs([0, 1000, 2000])
    assert [f(v) for v in (0, 1000, 2000)] == ["0", "1.000", "2.000"]
    f = figures.ItalianFormatter("%")
    f.set_locs([0, 2.5, 5.0])
    assert [f(v) for v in (0, 2.5, 5.0)] == ["0,0%", "2,5%", "5,0%"]
    f = figures.ItalianFormatter("%", absolute=True)
    f.set_locs([-2, 0, 2])
    assert [f(v) for v in (-2, 0, 2)] == ["2%", "0%", "2%"]
    f = figures.ItalianFormatter(decimals=2)
    f.set_locs([0, 1])
    assert f(-0.001) == "0,00"


def test_date_formatter():
    from matplotlib import dates as mdates

    f = figures.ItalianDateFormatter()
    years = [mdates.date2num(pd.Timestamp(f"{y}-01-01")) for y in (2020, 2021)]
    assert f.format_ticks(years) == ["2020", "2021"]
    months = [mdates.date2num(pd.Timestamp(d)) for d in ("2024-11-01", "2025-01-01", "2025-03-01")]
    assert f.format_ticks(months) == ["nov\n2024", "gen\n2025", "mar"]


# ------------------------------------------------------------------------------ line chart

def _line_xy(ax, label):
    line = next(ln for ln in ax.lines if ln.get_label() == label)
    return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)


def test_line_chart_breaks_at_gaps_and_nan_never_interpolates():
    fig = figures.line_chart({"a": {2019: 1.0, 2020: 2.0, 2022: 3.0, 2023: np.nan, 2024: 5.0}},
                             kind="pct")
    ax = fig.axes[0]
    x, y = _line_xy(ax, "a")
    # 2021 missing: a NaN between 2020 and 2022; 2023 NaN stays NaN; nothing invented.
    assert list(x) == [2019, 2020, 2021, 2022, 2023, 2024]
    assert np.isnan(y[2]) and np.isnan(y[4])
    assert list(y[[0, 1, 3, 5]]) == [1.0, 2.0, 3.0, 5.0]
    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels and all(t.endswith("%") and "." not in t for t in labels)
    assert ax.get_ylim()[0] == 0


def test_line_chart_series_break_marker_and_split():
    series = {"Siena": pd.Series({2019: 10.0, 2020: 10.5, 2021: 11.0, 2022: 10.2, 2023: 10.6})}
    fig = figures.line_chart(series, breaks=[(2021.5, "Ricostruzione censuaria")])
    ax = fig.axes[0]
    assert "Ricostruzione censuaria" in [t.get_text() for t in ax.texts]
    x, y = _line_xy(ax, "Siena")
    assert np.isnan(y[list(x).index(2021.5)])
    fig = figures.line_chart(series, breaks=[(2021.5, "Ricostruzione censuaria")],
                             connect_breaks=True)
    x, y = _line_xy(fig.axes[0], "Siena")
    assert not np.isnan(y).any()


def test_line_chart_isolated_point_is_visible_without_markers():
    fig = figures.line_chart({"a": {2019: 1.0, 2021: 2.0, 2022: 3.0}}, markers=False)
    ax = fig.axes[0]
    dots = [ln for ln in ax.lines if ln.get_linestyle() == "None"]
    assert len(dots) == 1 and list(dots[0].get_xdata()) == [2019.0]


def test_line_chart_with_dates_and_irregular_spacing():
    dates = ["2024-01-15", "2024-02-15", "2024-03-15", "2024-06-15", "2024-07-15"]
    fig = figures.line_chart({"Presenze": pd.Series([900, 950, 920, 990, 1010], index=dates)},
                             start_at_zero=False)
    ax = fig.axes[0]
    x, y = _line_xy(ax, "Presenze")
    assert len(x) == 6 and np.isnan(y[3])  # the April-May hole is a break
    FigureCanvasAgg(fig).draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert any(t.startswith(("gen", "feb", "mar", "apr", "mag", "giu", "lug")) for t in ticks)
    assert any("2024" in t for t in ticks)
    yt = [t.get_text() for t in ax.get_yticklabels()]
    assert "1.000" in yt


def test_line_chart_gap_rules_for_monthly_and_annual_dates():
    monthly = {"2024-01-01": 1, "2024-02-01": 2, "2024-03-01": 3, "2024-05-01": 5}
    x, y = _line_xy(figures.line_chart({"m": monthly}).axes[0], "m")
    assert np.isnan(y).sum() == 1 and np.isnan(y[3])
    annual = {f"{yr}-01-01": yr for yr in (2019, 2020, 2021, 2023)}
    x, y = _line_xy(figures.line_chart({"a": annual}).axes[0], "a")
    assert np.isnan(y).sum() == 1 and np.isnan(y[3])
    # An explicit max_gap (days for dates) overrides the rule.
    x, y = _line_xy(figures.line_chart({"a": annual}, max_gap=pd.Timedelta(days=800)).axes[0], "a")
    assert not np.isnan(y).any()


def test_line_chart_legend_and_styles():
    fig = figures.line_chart({"Siena": {2020: 1, 2021: 2}, "Toscana": {2020: 2, 2021: 3},
                              "Italia": {2020: 3, 2021: 4}})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Siena", "Toscana", "Italia"]
    styles = {ln.get_linestyle() for ln in ax.lines if ln.get_label() in ("Siena", "Toscana")}
    colors = [ln.get_color() for ln in ax.lines if not ln.get_label().startswith("_")]
    assert len(styles) == 2 and colors == list(figures.SERIES_COLORS[:3])
    FigureCanvasAgg(fig).draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "2020" in ticks and "2021" in ticks and all(len(t) == 4 for t in ticks)  # not "2.020"


# ------------------------------------------------------------------------------- bar charts

def test_bar_chart_ranks_labels_and_keeps_missing():
    values = {"Poggibonsi": 14.2, "Siena": 11.0, "Radicondoli": 24.7, "Gaiole": None}
    fig = figures.bar_chart(values, kind="pct", decimals=1, highlight=["Siena"])
    ax = fig.axes[0]
    order = [t.get_text() for t in ax.get_yticklabels()]  # top to bottom
    assert order == ["Radicondoli", "Poggibonsi", "Siena", "Gaiole"]
    assert [t.get_position()[1] for t in ax.get_yticklabels()] == [3, 2, 1, 0]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["24,7%", "14,2%", "11,0%", "n.d."]
    widths = [p.get_width() for p in ax.patches]
    assert widths == [24.7, 14.2, 11.0, 0.0]
    colors = [matplotlib.colors.to_hex(p.get_facecolor()) for p in ax.patches]
    assert colors[2] == "#d55e00" and colors[0] == "#0072b2"


def test_bar_chart_negative_values_and_top():
    fig = figures.bar_chart(pd.Series({"a": -210, "b": 1343, "c": 15}), top=2)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1.343", "15"]
    fig = figures.bar_chart({"a": -210, "b": 1343})
    ax = fig.axes[0]
    assert ax.get_xlim()[0] < -210 and "-210" in [t.get_text() for t in ax.texts]


def test_grouped_bars():
    df = pd.DataFrame({"Siena": [11.6, 88.4], "Toscana": [11.8, np.nan], "Italia": [9.2, 90.8]},
                      index=["Stranieri", "Italiani"])
    for horizontal in (False, True):
        fig = figures.grouped_bars(df, horizontal=horizontal)
        ax = fig.axes[0]
        assert len(ax.patches) == 6
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Siena", "Toscana", "Italia"]
        texts = [t.get_text() for t in ax.texts]
        assert texts == ["11,6%", "88,4%", "11,8%", "n.d.", "9,2%", "90,8%"]
    with pytest.raises(ValueError):
        figures.grouped_bars(df, kind="ratio")


# ------------------------------------------------------------------------------ age pyramid

def test_pyramid_shares_and_overlay():
    rng = np.random.default_rng(0)
    males, females = rng.integers(100, 1000, 21), rng.integers(100, 1000, 21)
    fig = figures.pyramid(None, AGES, males, females, overlay=(males * 2, females),
                          labels=("Stranieri", "Totale residenti"))
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == 42
    left = np.array([b.get_width() for b in bars[:21]])
    right = np.array([b.get_width() for b in bars[21:]])
    assert (left <= 0).all() and (right >= 0).all()
    assert -left.sum() + right.sum() == pytest.approx(100.0)
    assert left[0] == pytest.approx(-100 * males[0] / (males.sum() + females.sum()))
    outlines = [ln for ln in ax.lines if ln.get_color() == "black"]
    assert len(outlines) == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Stranieri, maschi", "Stranieri, femmine", "Totale residenti"]
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["0-4", "5-9"]
    assert all(not t.startswith("-") for t in
               (ax.xaxis.get_major_formatter()(v, 0) for v in (-4, -2, 0, 2, 4)))


def test_pyramid_overlay_outline_follows_classes():
    fig = figures.pyramid(None, ["0-4", "5-9"], [1, 1], [1, 1], overlay=([2, 0], [0, 2]))
    ax = fig.axes[0]
    left, right = [ln for ln in ax.lines if ln.get_color() == "black"]
    np.testing.assert_allclose(left.get_xdata(), [0, -50, -50, 0, 0, 0])
    np.testing.assert_allclose(left.get_ydata(), [-0.5, -0.5, 0.5, 0.5, 1.5, 1.5])
    np.testing.assert_allclose(right.get_xdata(), [0, 0, 0, 50, 50, 0])


def test_pyramid_refuses_missing_or_mismatched():
    with pytest.raises(ValueError, match="missing"):
        figures.pyramid(None, ["0-4", "5-9"], [1, np.nan], [1, 1])
    with pytest.raises(ValueError):
        figures.pyramid(None, ["0-4"], [1, 2], [1, 2])
    with pytest.raises(ValueError):
        figures.pyramid(None, ["0-4", "5-9"], [1, 2], [1, 2], overlay=([1], [1]))


def test_pyramid_on_given_axes_and_percent_input():
    fig, axes = figures.new_figure(16, 9, 1, 2)
    out = figures.pyramid(axes[1], ["0-4", "5-9"], [20, 30], [25, 25], normalize=False)
    assert out is fig
    assert [p.get_width() for p in axes[1].patches] == [-20, -30, 25, 25]
