"""TopoJSON decoding (fixture and the real openpolis files) and choropleth drawing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from insiena import figures, maps

FIXTURE = Path(__file__).parent / "fixtures" / "maps" / "tiny.topo.json"
SIENA_CODES = {f"052{i:03d}" for i in range(1, 38)} - {"052014", "052029"}


@pytest.fixture(scope="module")
def topo_dir(mirror) -> Path:
    return mirror / "istat" / "boundaries_openpolis" / "topojson"


def _province_file(topo_dir: Path, code: str) -> Path:
    return topo_dir / maps.municipalities_filename(code)


# ----------------------------------------------------------------------------------- fixture

def test_fixture_decodes_to_expected_coordinates():
    feats = {f.code: f for f in maps.load_municipalities(FIXTURE)}
    assert list(feats) == ["001001", "001002", "001003", "001004"]

    holed = feats["001001"]
    assert holed.name == "Con buco" and len(holed.polygons) == 1
    exterior, hole = holed.polygons[0]
    np.testing.assert_array_equal(exterior, [[12, 40], [12, 41], [10, 41], [10, 40], [12, 40]])
    np.testing.assert_array_equal(hole, [[10.5, 40.25], [10.5, 40.5], [11, 40.5], [11, 40.25],
                                         [10.5, 40.25]])

    # Ring [3, -1]: arc 3 forwards, then arc 0 reversed (~0 == -1).
    (right,) = feats["001002"].polygons
    np.testing.assert_array_equal(right[0], [[12, 40], [14, 40], [14, 41], [12, 41], [12, 40]])

    # Numeric code zero-padded; the first island is clockwise in the file and comes out reversed.
    islands = feats["001003"].polygons
    assert len(islands) == 2
    np.testing.assert_array_equal(islands[0][0], [[15, 40], [16, 40], [15, 40.5], [15, 40]])
    np.testing.assert_array_equal(islands[1][0], [[17, 40], [18, 40], [18, 40.5], [17, 40]])

    assert feats["001004"].polygons == []
    assert feats["001004"].properties["prov_istat_code"] == "001"


def test_fixture_winding_and_centroid():
    feats = {f.code: f for f in maps.load_municipalities(FIXTURE)}
    exterior, hole = feats["001001"].polygons[0]
    assert maps.signed_area(exterior) == pytest.approx(2.0)
    assert maps.signed_area(hole) == pytest.approx(-0.125)
    # Centroid of a 2 x 1 rectangle minus a 0.5 x 0.25 hole at its lower left.
    cx = (2 * 11 - 0.125 * 10.75) / 1.875
    cy = (2 * 40.5 - 0.125 * 40.375) / 1.875
    assert maps.centroid(feats["001001"]) == pytest.approx((cx, cy))
    x, y = maps.label_point(feats["001001"])
    assert 10 < x < 12 and 40 < y < 41


def test_fixture_outline_drops_shared_border_and_keeps_the_hole():
    feats = {f.code: f for f in maps.load_municipalities(FIXTURE)}
    lines = maps.outline([feats["001001"], feats["001002"]])
    assert len(lines) == 2
    for line in lines:
        np.testing.assert_array_equal(line[0], line[-1])  # both close
    points = {tuple(p) for line in lines for p in line}
    assert (12.0, 40.0) in points and (12.0, 41.0) in points   # corners of the outer rectangle
    outer = max(lines, key=len)
    segs = {frozenset({tuple(a), tuple(b)}) for a, b in zip(outer[:-1], outer[1:])}
    assert frozenset({(12.0, 40.0), (12.0, 41.0)}) not in segs   # the shared border is gone
    assert len(segs) == 6
    hole = min(lines, key=len)
    assert {tuple(p) for p in hole} == {(10.5, 40.25), (10.5, 40.5), (11.0, 40.5), (11.0, 40.25)}


def test_unquantized_topology_and_errors():
    topo = {"type": "Topology", "arcs": [[[10.0, 40.0], [11.0, 40.0], [11.0, 41.0], [10.0, 40.0]]],
            "objects": {"a": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "arcs": [[0]], "properties": {"prov_istat_code": 52}}]}}}
    (feat,) = maps.decode_topology(topo)
    assert feat.code == "052"  # key inferred, zero padded to 3 digits
    np.testing.assert_array_equal(feat.polygons[0][0][1], [11.0, 40.0])

    open_ring = json.loads(json.dumps(topo))
    open_ring["arcs"][0] = [[10.0, 40.0], [11.0, 40.0], [11.0, 41.0], [10.5, 41.0]]
    with pytest.raises(ValueError, match="not closed"):
        maps.decode_topology(open_ring)
    with pytest.raises(KeyError):
        maps.decode_topology(topo, object_name="municipalities")
    with pytest.raises(ValueError, match="Topology"):
        maps.decode_topology({"type": "FeatureCollection"})


def test_municipalities_filename_has_no_zero_padding():
    assert maps.municipalities_filename("052") == "limits_P_52_municipalities.topo.json"
    assert maps.municipalities_filename(1) == "limits_P_1_municipalities.topo.json"
    assert maps.municipalities_filename("100") == "limits_P_100_municipalities.topo.json"


# --------------------------------------------------------------------------- real boundaries

def test_siena_municipalities(topo_dir):
    feats = maps.load_municipalities(_province_file(topo_dir, "052"))
    assert len(feats) == 35
    assert {f.code for f in feats} == SIENA_CODES
    assert [f.code for f in feats] == sorted(SIENA_CODES)
    for f in feats:
        assert f.properties["prov_istat_code"] == "052"
        for poly in f.polygons:
            for ring in poly:
                assert ring.shape[1] == 2 and len(ring) >= 4
                np.testing.assert_array_equal(ring[0], ring[-1])
    lon0, lat0, lon1, lat1 = maps.bounds(feats)
    # The southern tip (Abbadia San Salvatore, Piancastagnaio) reaches 42.786 N.
    assert 10.9 <= lon0 < lon1 <= 12.1
    assert 42.75 <= lat0 < lat1 <= 43.6
    # The decoded extent is the one the file declares (quantization error under 1e-3 degrees).
    declared = json.loads(_province_file(topo_dir, "052").read_text())["bbox"]
    assert (lon0, lat0, lon1, lat1) == pytest.approx(declared, abs=1e-3)

    siena = next(f for f in feats if f.code == "052032")
    assert siena.name == "Siena"
    lon, lat = maps.centroid(siena)
    assert lon == pytest.approx(11.33, abs=0.1)
    assert lat == pytest.approx(43.32, abs=0.1)


def test_grosseto_and_suppressed_province(topo_dir):
    assert len(maps.load_municipalities(_province_file(topo_dir, "053"))) == 28
    for code in ("104", "105", "106", "107"):
        assert maps.load_municipalities(_province_file(topo_dir, code)) == []


def test_siena_outline_is_one_closed_ring(topo_dir):
    feats = maps.load_municipalities(_province_file(topo_dir, "052"))
    lines = maps.outline(feats)
    assert len(lines) == 1
    np.testing.assert_array_equal(lines[0][0], lines[-1][-1])
    # The outline encloses every comune: its bounds equal the province's.
    pts = lines[0]
    assert (pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()) == \
        pytest.approx(maps.bounds(feats))


def test_record_without_geometry_is_reported_not_drawn(topo_dir):
    feats = maps.load_municipalities(_province_file(topo_dir, "096"))
    assert len(feats) == 74
    (empty,) = [f for f in feats if not f.polygons]
    assert (empty.code, empty.name) == ("096034", "Miagliano")
    fig, classes = figures.choropleth_figure(feats, {f.code: 1.0 for f in feats})
    assert classes.no_geometry == ["096034"] and not classes.unmatched
    assert "096034" not in classes.assigned and len(classes.assigned) == 73


def test_names_with_windows_1252_slips_are_repaired(topo_dir):
    gorizia = {f.code: f for f in maps.load_municipalities(_province_file(topo_dir, "031"))}
    trieste = {f.code: f for f in maps.load_municipalities(_province_file(topo_dir, "032"))}
    assert gorizia["031019"].name == "San Floriano del Collio-Števerjan"
    assert trieste["032001"].name == "Duino Aurisina-Devin Nabrežina"
    assert trieste["032001"].properties["name"].endswith("Nabre\x9eina")  # raw text kept
    assert trieste["032006"].name == "Trieste"


def test_regions_provinces_and_tuscany(topo_dir):
    provinces = maps.load_provinces(topo_dir / "limits_IT_provinces.topo.json")
    assert len(provinces) == 107
    assert {"052", "053", "111"} <= {p.code for p in provinces}
    regions = maps.load_regions(topo_dir / "limits_IT_regions.topo.json")
    assert [r.code for r in regions][:2] == ["01", "02"] and len(regions) == 20
    tuscany = maps.load_municipalities(topo_dir / "limits_R_9_municipalities.topo.json")
    assert len(tuscany) == 273
    assert SIENA_CODES <= {f.code for f in tuscany}


# ---------------------------------------------------------------------------------- classing

def test_classify_uses_printed_values_and_non_overlapping_labels():
    values = {"a": 8.5, "b": 10.24, "c": 10.25, "d": 12.0, "e": 31.5}
    breaks = [8.5, 10.2, 12.0, 31.5]
    assigned, labels = maps.classify(values, breaks, decimals=1, unit="%")
    assert labels == ["8,5\u201310,2%", "10,3\u201312,0%", "12,1\u201331,5%"]
    # 10.24 prints as 10,2 -> first class; 10.25 prints as 10,3 -> second.
    assert assigned == {"a": 0, "b": 0, "c": 1, "d": 1, "e": 2}


def test_class_breaks_quantiles_and_few_values():
    data = list(np.linspace(1, 100, 100))
    br = maps.class_breaks(data, 5, decimals=0)
    assert br[0] == 1 and br[-1] == 100 and len(br) == 6
    assert maps.class_breaks([5.0, 5.0, 5.0], 5, 1) == [5.0]
    assert len(maps.class_breaks([1.0, 2.0], 5, 1)) == 3
    assert maps.class_breaks([], 5) == []
    # Inner limits 25.75, 50.5, 75.25 rounded half up to the legend's precision.
    assert maps.class_breaks(data, 4, 0, method="equal") == [1.0, 26.0, 51.0, 75.0, 100.0]
    with pytest.raises(ValueError):
        maps.class_breaks(data, 4, 0, method="jenks")


def test_choropleth_missing_unmatched_and_labels(topo_dir):
    feats = maps.load_municipalities(_province_file(topo_dir, "052"))
    values = {f.code: float(i) for i, f in enumerate(feats)}
    values["052010"] = float("nan")
    values["052999"] = 3.0  # e.g. a comune created after the boundaries' date
    fig, classes = figures.choropleth_figure(feats, values, legend_title="Quota", label_top=2,
                                             label_codes=["052032"], decimals=0, unit="")
    assert classes.missing == ["052010"]
    assert classes.unmatched == ["052999"]
    assert len(classes.labels) == 5 and len(classes.colors) == 5
    assert set(classes.assigned) == SIENA_CODES - {"052010"}
    map_ax = fig.axes[0]
    texts = [t.get_text() for t in map_ax.texts]
    assert any(t.startswith("Siena\n") for t in texts) and len(texts) == 3
    legend_texts = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert legend_texts[-1] == "dato non disponibile"
    assert legend_texts[0] == classes.labels[-1]  # highest class on top
    # Equirectangular aspect at Siena's latitude.
    assert map_ax.get_aspect() == pytest.approx(1 / np.cos(np.radians(43.17)), rel=0.01)


def test_choropleth_all_missing_and_empty(topo_dir):
    feats = maps.load_municipalities(_province_file(topo_dir, "052"))
    fig, classes = figures.choropleth_figure(feats, {})
    assert classes.labels == [] and len(classes.missing) == 35
    with pytest.raises(ValueError, match="no boundaries"):
        figures.choropleth_figure([], {"052032": 1.0})
    fig, ax = figures.new_figure()
    with pytest.raises(ValueError, match="no boundaries"):
        maps.choropleth(ax, [], {})


def test_locator_map(topo_dir):
    provinces = maps.load_provinces(topo_dir / "limits_IT_provinces.topo.json")
    fig, ax = figures.new_figure(5, 6)
    maps.locator(ax, provinces, ["052"])
    assert len(ax.collections) == 2


@pytest.mark.integration
def test_every_province_decodes_draws_and_saves_fast(topo_dir, tmp_path):
    files = sorted(topo_dir.glob("limits_P_*_municipalities.topo.json"))
    assert len(files) == 111
    # CPU time of this process: the budget is about our work, not about other jobs sharing the
    # machine (under `make test` the pipeline build may run beside this test). Wall time is printed.
    timings, walls, empty = {}, {}, []
    for path in files:
        start, wall = time.process_time(), time.perf_counter()
        feats = maps.load_municipalities(path)
        if not feats:
            empty.append(path.name)
            continue
        code = feats[0].properties["prov_istat_code"]
        values = {f.code: (int(f.code) * 7919 % 1000) / 10 for f in feats}
        values[feats[0].code] = None
        fig, classes = figures.choropleth_figure(feats, values, legend_title="Stranieri ogni\n"
                                                 "100 residenti", label_top=3)
        figures.save_figure(fig, tmp_path / f"{code}.png")
        timings[code] = time.process_time() - start
        walls[code] = time.perf_counter() - wall
        assert classes.missing == [feats[0].code] and not classes.unmatched
        # One record without a shape in the whole mirror: Miagliano (Biella).
        assert classes.no_geometry == (["096034"] if code == "096" else [])
        assert all(f.properties["prov_istat_code"] == code for f in feats)
    assert sorted(empty) == [f"limits_P_{n}_municipalities.topo.json" for n in (104, 105, 106, 107)]
    assert len(timings) == 107
    slowest = max(timings, key=timings.get)
    print(f"\nprovince maps (decode + draw + PNG), CPU: mean {np.mean(list(timings.values())):.3f} s,"
          f" max {timings[slowest]:.3f} s ({slowest}); wall: mean {np.mean(list(walls.values())):.3f}"
          f" s, max {max(walls.values()):.3f} s")
    assert timings[slowest] < 1.0
