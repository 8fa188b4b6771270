"""Comune boundaries (openpolis TopoJSON) and choropleth maps, with numpy and matplotlib only.

The openpolis files (see MANIFEST-istat.md, sections 6 and 8.1) are quantized TopoJSON: integer
arcs, delta-encoded, with a ``transform``; a negative arc index ``~i`` means arc ``i`` reversed.
``decode_topology`` turns one object of such a file into ``Feature`` records whose polygons are lists
of rings (exterior first, then holes), each an ``(n, 2)`` float array of lon/lat, closed (first point
equals last) and oriented the RFC 7946 way (exteriors counter-clockwise, holes clockwise), so that
matplotlib's non-zero fill rule draws holes as holes.

Files of suppressed provinces (P_104..P_107) hold no geometry: loading them returns ``[]`` and the
caller says that no boundaries exist, instead of drawing an empty frame.

Maps are drawn in lon/lat with the axes aspect set to 1/cos(mean latitude): an equirectangular
projection centred on the territory, true to shape at the scale of a province or region of Italy.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from itertools import chain
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from insiena import fmt

# Zero-padded width of each ISTAT code property found in the openpolis files.
CODE_WIDTH = {"com_istat_code": 6, "prov_istat_code": 3, "reg_istat_code": 2}

MISSING_LABEL = "dato non disponibile"
MISSING_FACE = "#e3e3e3"
MISSING_HATCH_COLOR = "#8a8a8a"
BORDER_COLOR = "white"
OUTLINE_COLOR = "#3a3a3a"


class Feature(NamedTuple):
    code: str  # zero-padded ISTAT code ("052032"), or "" when the file has no code property
    name: str  # the "name" property, with encoding slips repaired (properties keep the raw text)
    properties: dict
    polygons: list  # list of polygons; each a list of rings, exterior first; ring = (n, 2) lon/lat


# --------------------------------------------------------------------------------------- decoding

def municipalities_filename(province: str | int) -> str:
    """openpolis file name of a province: the number is NOT zero padded (``"052"`` -> ``P_52``)."""
    return f"limits_P_{int(province)}_municipalities.topo.json"


def _decode_arcs(topo: dict) -> list[np.ndarray]:
    arcs = topo.get("arcs") or []
    if not arcs:
        return []
    lengths = np.fromiter((len(a) for a in arcs), dtype=np.int64, count=len(arcs))
    flat = np.array(list(chain.from_iterable(arcs)), dtype=np.float64 if "transform" not in topo
                    else np.int64)
    if flat.ndim != 2 or flat.shape[1] < 2:
        raise ValueError("TopoJSON arcs must be lists of [x, y] positions")
    flat = flat[:, :2]
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    transform = topo.get("transform")
    if transform is not None:
        # Delta decoding of every arc at once: a running sum over the whole array, minus the sum
        # accumulated before each arc's first position. Integers keep shared vertices exactly equal.
        total = np.cumsum(flat, axis=0)
        before = total[starts] - flat[starts]
        absolute = total - np.repeat(before, lengths, axis=0)
        scale = np.asarray(transform["scale"], dtype=np.float64)
        translate = np.asarray(transform["translate"], dtype=np.float64)
        coords = absolute * scale + translate
    else:
        coords = flat.astype(np.float64)
    return np.split(coords, starts[1:])


def _ring(arc_ids: Sequence[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for k, i in enumerate(arc_ids):
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        # Consecutive arcs share their junction point: keep it once.
        parts.append(arc if k == 0 else arc[1:])
    ring = np.concatenate(parts) if parts else np.empty((0, 2))
    if len(ring) < 4 or not np.array_equal(ring[0], ring[-1]):
        raise ValueError(f"TopoJSON ring from arcs {list(arc_ids)} is not closed")
    return ring


def signed_area(ring: np.ndarray) -> float:
    """Shoelace area in squared degrees: positive for counter-clockwise rings."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def _polygon(rings_arcs: Sequence[Sequence[int]], arcs: list[np.ndarray]) -> list[np.ndarray]:
    rings = []
    for k, ids in enumerate(rings_arcs):
        ring = _ring(ids, arcs)
        ccw = signed_area(ring) > 0
        if ccw != (k == 0):  # exterior must be counter-clockwise, holes clockwise
            ring = ring[::-1].copy()
        rings.append(ring)
    return rings


def _geometry_polygons(geom: dict, arcs: list[np.ndarray]) -> list[list[np.ndarray]]:
    kind = geom.get("type")
    if kind is None:
        return []
    if kind == "Polygon":
        return [_polygon(geom["arcs"], arcs)]
    if kind == "MultiPolygon":
        return [_polygon(p, arcs) for p in geom["arcs"]]
    if kind == "GeometryCollection":
        return [p for g in geom.get("geometries", []) for p in _geometry_polygons(g, arcs)]
    raise ValueError(f"unsupported TopoJSON geometry type for boundaries: {kind}")


def _code(props: dict, key: str | None) -> str:
    if key is None:
        return ""
    value = props.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        value = str(int(value))
    return str(value).zfill(CODE_WIDTH.get(key, 0))


def _repair_name(name: str) -> str:
    """Undo one known encoding slip: a few openpolis names carry Windows-1252 bytes read as
    Latin-1: U+008A for "Š" (San Floriano del Collio-Števerjan), U+009E for "ž" (Duino
    Aurisina-Devin Nabrežina). C1 control characters never occur in a real name, so their presence
    identifies the slip."""
    if not any("\x80" <= c <= "\x9f" for c in name):
        return name
    try:
        return name.encode("latin-1").decode("cp1252")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def decode_topology(topo: dict, object_name: str | None = None,
                    key: str | None = None) -> list[Feature]:
    """Features of one object of a TopoJSON topology, sorted by code.

    ``object_name`` defaults to the topology's only object. ``key`` is the property holding the code;
    by default the first of com_istat_code, prov_istat_code, reg_istat_code found in the properties.
    """
    if topo.get("type") != "Topology":
        raise ValueError("not a TopoJSON topology (type != 'Topology')")
    objects = topo.get("objects") or {}
    if object_name is None:
        if len(objects) != 1:
            raise ValueError(f"topology has objects {sorted(objects)}: pass object_name")
        object_name = next(iter(objects))
    if object_name not in objects:
        raise KeyError(f"topology has no object {object_name!r} (it has {sorted(objects)})")
    obj = objects[object_name]
    geometries = obj.get("geometries", []) if obj.get("type") == "GeometryCollection" else [obj]
    if not geometries:
        return []
    arcs = _decode_arcs(topo)
    if key is None:
        first = geometries[0].get("properties") or {}
        key = next((k for k in CODE_WIDTH if k in first), None)
    features = []
    for geom in geometries:
        props = dict(geom.get("properties") or {})
        name = _repair_name(str(props.get("name") or ""))
        features.append(Feature(code=_code(props, key), name=name,
                                properties=props, polygons=_geometry_polygons(geom, arcs)))
    codes = [f.code for f in features if f.code]
    if len(codes) != len(set(codes)):
        raise ValueError(f"duplicate {key} in TopoJSON object {object_name!r}")
    return sorted(features, key=lambda f: f.code)


def load_features(path: str | os.PathLike, object_name: str | None = None,
                  key: str | None = None) -> list[Feature]:
    """Decode a TopoJSON file (see ``decode_topology``); an empty topology gives ``[]``."""
    with open(path, encoding="utf-8") as fh:
        topo = json.load(fh)
    try:
        return decode_topology(topo, object_name=object_name, key=key)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"{os.fspath(path)}: {exc}") from None


def load_municipalities(path: str | os.PathLike) -> list[Feature]:
    """Comuni of an openpolis file, sorted by their 6-digit ``com_istat_code``; ``[]`` if empty.

    Works for the per-province files (object "municipalities") and the regional ones ("comuni").
    """
    return load_features(path, key="com_istat_code")


def load_provinces(path: str | os.PathLike) -> list[Feature]:
    """Provinces of ``limits_IT_provinces.topo.json``, keyed by 3-digit ``prov_istat_code``."""
    return load_features(path, object_name="provinces", key="prov_istat_code")


def load_regions(path: str | os.PathLike) -> list[Feature]:
    """Regions of ``limits_IT_regions.topo.json``, keyed by 2-digit ``reg_istat_code``."""
    return load_features(path, object_name="regions", key="reg_istat_code")


# ------------------------------------------------------------------------------------- geometry

def bounds(features: Iterable[Feature]) -> tuple[float, float, float, float]:
    """(lon_min, lat_min, lon_max, lat_max) of the exteriors of all features."""
    exteriors = [poly[0] for f in features for poly in f.polygons]
    if not exteriors:
        raise ValueError("no geometry to take the bounds of")
    pts = np.concatenate(exteriors)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _ring_centroid(ring: np.ndarray) -> tuple[float, float, float]:
    x, y = ring[:, 0], ring[:, 1]
    cross = x[:-1] * y[1:] - x[1:] * y[:-1]
    a = 0.5 * cross.sum()
    if a == 0:
        return 0.0, float(x.mean()), float(y.mean())
    cx = ((x[:-1] + x[1:]) * cross).sum() / (6 * a)
    cy = ((y[:-1] + y[1:]) * cross).sum() / (6 * a)
    return float(a), float(cx), float(cy)


def centroid(feature: Feature) -> tuple[float, float]:
    """Area-weighted centroid (lon, lat) of a feature, holes subtracted (computed in degrees)."""
    total = sx = sy = 0.0
    for poly in feature.polygons:
        for ring in poly:
            a, cx, cy = _ring_centroid(ring)  # holes are clockwise: their area counts negative
            total += a
            sx += a * cx
            sy += a * cy
    if total == 0:
        raise ValueError(f"feature {feature.code} has no area")
    return sx / total, sy / total


def label_point(feature: Feature) -> tuple[float, float]:
    """A point inside the feature for its label: on the horizontal line through the centroid of
    its largest polygon, the middle of the widest stretch that lies inside it (a concave comune's
    centroid can fall outside it)."""
    poly = max(feature.polygons, key=lambda p: signed_area(p[0]))
    _, cx, cy = _ring_centroid(poly[0])
    xs = []
    for ring in poly:
        a, b = ring[:-1], ring[1:]
        crosses = (a[:, 1] > cy) != (b[:, 1] > cy)
        a, b = a[crosses], b[crosses]
        t = (cy - a[:, 1]) / (b[:, 1] - a[:, 1])
        xs.append(a[:, 0] + t * (b[:, 0] - a[:, 0]))
    xs = np.sort(np.concatenate(xs))
    if len(xs) < 2:
        return cx, cy
    spans = xs[1::2] - xs[0::2]
    i = int(np.argmax(spans))
    return float((xs[2 * i] + xs[2 * i + 1]) / 2), cy


def outline(features: Iterable[Feature]) -> list[np.ndarray]:
    """Outer boundary of a set of comuni (a province, a zona-distretto) as closed polylines.

    Adjacent comuni share their border vertices exactly (TopoJSON arcs are shared), so the boundary
    of the union is made of the segments used by exactly one ring. Enclaves of another territory
    remain as inner rings, as they should.
    """
    segs = [np.stack([ring[:-1], ring[1:]], axis=1)
            for f in features for poly in f.polygons for ring in poly]
    if not segs:
        return []
    segs = np.concatenate(segs)
    segs = segs[~np.all(segs[:, 0] == segs[:, 1], axis=1)]
    # Direction-free key: order each segment's two endpoints lexicographically.
    a, b = segs[:, 0], segs[:, 1]
    swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
    keyed = np.where(swap[:, None, None], segs[:, ::-1], segs).reshape(len(segs), 4)
    uniq, counts = np.unique(keyed, axis=0, return_counts=True)
    single = uniq[counts == 1].reshape(-1, 2, 2)
    return _stitch(single)


def _stitch(segments: np.ndarray) -> list[np.ndarray]:
    """Join segments sharing endpoints into polylines (closed where they close); the walk follows
    the input order, which np.unique has sorted, so the result is deterministic."""
    adjacency: dict[tuple, list[int]] = {}
    ends = [(tuple(s[0]), tuple(s[1])) for s in segments.tolist()]
    for i, (p, q) in enumerate(ends):
        adjacency.setdefault(p, []).append(i)
        adjacency.setdefault(q, []).append(i)
    used = np.zeros(len(ends), dtype=bool)
    lines = []
    for start in range(len(ends)):
        if used[start]:
            continue
        used[start] = True
        p, q = ends[start]
        line = [p, q]
        while True:
            nxt = next((j for j in adjacency[line[-1]] if not used[j]), None)
            if nxt is None:
                break
            used[nxt] = True
            a, b = ends[nxt]
            line.append(b if a == line[-1] else a)
        lines.append(np.array(line))
    return lines


# ---------------------------------------------------------------------------------- choropleth

@dataclass
class Classes:
    """How the values were classed: what the legend says, for the caption or a table beside it."""

    breaks: list[float]                  # k+1 class limits on the rounded values
    labels: list[str]                    # k legend labels, e.g. "8,5–10,2%"
    colors: list[tuple]                  # k RGBA colours, light to dark
    assigned: dict[str, int] = field(default_factory=dict)   # code -> class index
    missing: list[str] = field(default_factory=list)         # comuni drawn "dato non disponibile"
    unmatched: list[str] = field(default_factory=list)       # codes in values with no boundary
    no_geometry: list[str] = field(default_factory=list)     # boundary record without a shape


def _values_of(values: Mapping[str, float]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items() if not fmt.is_missing(v)}


def class_breaks(data: Sequence[float], n_classes: int = 5, decimals: int = 1,
                 method: str = "quantiles") -> list[float]:
    """Class limits computed from the data, rounded to the precision shown in the legend.

    ``method`` is "quantiles" (about as many comuni per class) or "equal" (equal-width classes).
    Fewer classes come out when the data have fewer distinct rounded values.
    """
    v = np.array(sorted(fmt.round_half_up(x, decimals) for x in data), dtype=float)
    if v.size == 0:
        return []
    k = max(1, min(n_classes, len(np.unique(v))))
    if method == "quantiles":
        inner = np.quantile(v, np.linspace(0, 1, k + 1)[1:-1])
    elif method == "equal":
        inner = np.linspace(v[0], v[-1], k + 1)[1:-1]
    else:
        raise ValueError(f"unknown classing method {method!r}")
    inner = [fmt.round_half_up(x, decimals) for x in inner]
    return sorted({float(v[0]), float(v[-1]), *inner})


def classify(values: Mapping[str, float], breaks: Sequence[float], decimals: int = 1,
             unit: str = "%") -> tuple[dict[str, int], list[str]]:
    """Class index of each value and the legend labels, with non-overlapping limits.

    Classes are closed on the right, on values rounded as printed: with one decimal the classes are
    ``8,5–10,2`` and ``10,3–12,0``, so a comune printed as 10,2 in a table is in the first one.
    """
    step = 10.0 ** -decimals
    breaks = [float(b) for b in breaks]
    if len(breaks) == 1:
        breaks = breaks * 2
    k = len(breaks) - 1
    lows = [breaks[0]] + [fmt.round_half_up(b + step, decimals) for b in breaks[1:-1]]
    labels = [fmt.fmt_range(lo, hi, decimals, unit) for lo, hi in zip(lows, breaks[1:])]
    assigned = {}
    inner = np.array(breaks[1:-1])
    for code, value in values.items():
        r = fmt.round_half_up(value, decimals)
        if r < breaks[0] or r > breaks[-1]:
            raise ValueError(f"value {value} of {code} outside the classes {breaks}")
        assigned[code] = int(np.searchsorted(inner, r, side="left")) if k > 1 else 0
    return assigned, labels


def sequential_colors(n: int, cmap: str = "YlGnBu") -> list[tuple]:
    """``n`` colours from a ColorBrewer sequential map (colour-blind safe), light to dark; the
    ends are trimmed so that the lightest class still stands out from the white page."""
    import matplotlib

    cm = matplotlib.colormaps[cmap]
    if n == 1:
        return [tuple(cm(0.6))]
    return [tuple(cm(x)) for x in np.linspace(0.15, 0.92, n)]


def _path(polygons: list[list[np.ndarray]]):
    from matplotlib.path import Path

    verts, codes = [], []
    for poly in polygons:
        for ring in poly:
            verts.append(ring)
            c = np.full(len(ring), Path.LINETO, dtype=Path.code_type)
            c[0], c[-1] = Path.MOVETO, Path.CLOSEPOLY
            codes.append(c)
    return Path(np.concatenate(verts), np.concatenate(codes))


def setup_map_axes(ax, features: Sequence[Feature], margin: float = 0.02) -> None:
    """Limits from the features' bounds, equirectangular aspect 1/cos(mean latitude), no axes."""
    x0, y0, x1, y1 = bounds(features)
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    ax.set_xlim(x0 - dx, x1 + dx)
    ax.set_ylim(y0 - dy, y1 + dy)
    ax.set_aspect(1.0 / math.cos(math.radians((y0 + y1) / 2)))
    ax.set_axis_off()


def draw_outline(ax, features: Sequence[Feature], color: str = OUTLINE_COLOR,
                 linewidth: float = 1.0, zorder: float = 4, **kwargs):
    """Draw the outer boundary of ``features`` (e.g. the province, from its comuni)."""
    from matplotlib.collections import LineCollection

    lines = LineCollection(outline(features), colors=color, linewidths=linewidth,
                           capstyle="round", joinstyle="round", zorder=zorder, **kwargs)
    ax.add_collection(lines, autolim=False)
    return lines


def draw_features(ax, features: Sequence[Feature], facecolor="#d9d9d9", edgecolor=BORDER_COLOR,
                  linewidth: float = 0.4, zorder: float = 1, **kwargs):
    """Fill features with one colour (locator maps, context layers)."""
    from matplotlib.collections import PathCollection

    coll = PathCollection([_path(f.polygons) for f in features if f.polygons], facecolors=facecolor,
                          edgecolors=edgecolor, linewidths=linewidth, zorder=zorder, **kwargs)
    ax.add_collection(coll, autolim=False)
    return coll


def choropleth(ax, features: Sequence[Feature], values: Mapping[str, float], *,
               n_classes: int = 5, method: str = "quantiles", breaks: Sequence[float] | None = None,
               decimals: int = 1, unit: str = "%", cmap: str = "YlGnBu",
               legend_title: str | None = None, legend: bool = True, legend_ax=None,
               missing_label: str = MISSING_LABEL, show_counts: bool = False,
               label_top: int = 0, label_codes: Iterable[str] = (), label_values: bool = True,
               province_outline: bool = True, fontsize: float = 7.5) -> Classes:
    """Classed choropleth of ``values`` (code -> number; None/NaN = missing) on ``ax``.

    Comuni without a value are grey and hatched, with the legend entry ``missing_label``; values
    whose code has no boundary are reported in ``Classes.unmatched`` (e.g. comuni merged after the
    boundaries' date) and records without a shape in ``Classes.no_geometry``, for the caller to
    mention. Breaks are computed from the data (``method``) unless given. ``label_top`` names the
    N comuni with the highest values; ``label_codes`` names others. The legend goes to the right
    of ``ax``, or into ``legend_ax`` (whose frame is hidden) if given.
    """
    from insiena.figures import style

    # A record without a shape exists in the openpolis files (Miagliano, 096034, lost in the 20%
    # simplification): it is neither drawn nor classed, and is reported for the caption.
    no_geometry = sorted(f.code for f in features if not f.polygons)
    known = {f.code for f in features}
    features = [f for f in features if f.polygons]
    if not features:
        raise ValueError("no boundaries to draw: the caller must say that the map is not available")
    drawn = {f.code for f in features}
    matched = {c: v for c, v in _values_of(values).items() if c in drawn}
    unmatched = sorted(str(c) for c in values if str(c) not in known)

    if breaks is None:
        breaks = class_breaks(list(matched.values()), n_classes, decimals, method)
    assigned, labels = classify(matched, breaks, decimals, unit) if breaks else ({}, [])
    colors = sequential_colors(len(labels), cmap) if labels else []
    without = [f for f in features if f.code not in assigned]

    with style():
        _draw_classes(ax, features, assigned, colors)
        if province_outline:
            draw_outline(ax, features, linewidth=0.9)
        setup_map_axes(ax, features)
        ranked = sorted(matched.items(), key=lambda kv: (-kv[1], kv[0]))[:label_top]
        to_label = list(dict.fromkeys([c for c, _ in ranked] + [str(c) for c in label_codes]))
        _draw_labels(ax, [f for f in features if f.code in to_label],
                     matched if label_values else {}, decimals, unit, fontsize)
        if legend:
            counts = [sum(1 for i in assigned.values() if i == k) for k in range(len(labels))]
            entries = [(c, f"{lab} ({n})" if show_counts else lab)
                       for c, lab, n in zip(colors, labels, counts)][::-1]  # highest class on top
            if without:
                entries.append((None, f"{missing_label} ({len(without)})" if show_counts
                                else missing_label))
            _draw_legend(ax, legend_ax, entries, legend_title, fontsize + 0.5)

    return Classes(breaks=[float(b) for b in breaks], labels=labels, colors=colors,
                   assigned=dict(sorted(assigned.items())),
                   missing=sorted(f.code for f in without), unmatched=unmatched,
                   no_geometry=no_geometry)


def _draw_classes(ax, features: Sequence[Feature], assigned: dict[str, int], colors) -> None:
    from matplotlib.collections import PathCollection

    with_value = [f for f in features if f.code in assigned]
    without = [f for f in features if f.code not in assigned]
    if with_value:
        ax.add_collection(PathCollection(
            [_path(f.polygons) for f in with_value],
            facecolors=[colors[assigned[f.code]] for f in with_value],
            edgecolors="none", linewidths=0, zorder=1), autolim=False)
    if without:
        paths = [_path(f.polygons) for f in without]
        ax.add_collection(PathCollection(paths, facecolors=MISSING_FACE, edgecolors="none",
                                         linewidths=0, zorder=1), autolim=False)
        # Hatch colour follows the edge colour on every matplotlib version; width 0 hides the edge.
        ax.add_collection(PathCollection(paths, facecolors="none", edgecolors=MISSING_HATCH_COLOR,
                                         linewidths=0, hatch="/////", zorder=2), autolim=False)
    # Borders last, over fills and hatching alike.
    draw_features(ax, features, facecolor="none", edgecolor=BORDER_COLOR, linewidth=0.5, zorder=3)


def _draw_labels(ax, features: Sequence[Feature], values: Mapping[str, float], decimals: int,
                 unit: str, fontsize: float) -> None:
    import matplotlib.patheffects as pe

    halo = [pe.withStroke(linewidth=2.2, foreground="white")]
    for f in features:
        x, y = label_point(f)
        text = f.name
        if f.code in values:
            text += "\n" + fmt.with_unit(fmt.fmt_num(values[f.code], decimals), unit)
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="#1a1a1a",
                linespacing=1.05, path_effects=halo, zorder=5)


def _draw_legend(ax, legend_ax, entries, title: str | None, fontsize: float) -> None:
    """Legend of (colour, label) entries; colour None is the hatched "no data" entry."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, edgecolor="none", label=lab) if c is not None else
               Patch(facecolor=MISSING_FACE, edgecolor=MISSING_HATCH_COLOR, linewidth=0,
                     hatch="/////", label=lab)
               for c, lab in entries]
    target, anchor = (ax, (1.0, 0.5)) if legend_ax is None else (legend_ax, (0.0, 0.5))
    if legend_ax is not None:
        legend_ax.set_axis_off()
    leg = target.legend(handles=handles, title=title, loc="center left", bbox_to_anchor=anchor,
                        frameon=False, fontsize=fontsize, title_fontsize=fontsize,
                        alignment="left", handlelength=1.6, handleheight=1.1)
    leg.set_zorder(6)


def map_size_cm(features: Sequence[Feature], width_cm: float = 16.0, legend_cm: float = 5.0,
                min_height_cm: float = 7.0, max_height_cm: float = 19.0) -> tuple[float, float]:
    """Figure size that fits the territory's shape beside a legend of ``legend_cm``, on A4."""
    x0, y0, x1, y1 = bounds(features)
    aspect = (y1 - y0) / ((x1 - x0) * math.cos(math.radians((y0 + y1) / 2)))
    height = (width_cm - legend_cm) * aspect + 0.6
    return width_cm, float(min(max(height, min_height_cm), max_height_cm))


def locator(ax, context: Sequence[Feature], highlight: Iterable[str],
            color: str = "#0072B2") -> None:
    """Small context map: all ``context`` features in grey, the ``highlight`` codes in colour."""
    hl = set(highlight)
    draw_features(ax, [f for f in context if f.code not in hl], facecolor="#dedede",
                  edgecolor="white", linewidth=0.2)
    draw_features(ax, [f for f in context if f.code in hl], facecolor=color, edgecolor="white",
                  linewidth=0.2, zorder=2)
    setup_map_axes(ax, context)
