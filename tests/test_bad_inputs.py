"""Bad inputs: each is a real file of the mirror, changed a little, dropped into a copy of a good build.

For each case the run must stop (non-zero exit) with a message naming the file, the row or line, the
column and the check; the failure cases must be in logs/validation/<name>.failures.csv (retrieval
and configuration errors have no rows: their message is the record); and every processed table,
figure and report of the earlier good run must still be there, byte for byte (Snakemake may put a
file back with a new timestamp: see badinputs.snapshot).

The mutated file gets its new sha256 and size in the registry (as an analyst registering a new
version would), so that the parser and the validator, not the checksum, must catch it. Only the
checksum case leaves the registry as it was.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import io
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from badinputs import BOM, Lab, column_index, find_line, join, snapshot, split

pytestmark = pytest.mark.integration

P3 = "p3_2025_it_comuni"
POSAS = "posas_2025_it_province"
SDMX = "istat_22_289"
STRASA = "strasa_2022_en_provinces"
MONTHLY = "bilancio_demografico_mensile"
CRUSCOTTO = "cruscotto_accoglienza"
PERMITS = "dcis_permsogg1_12012025111539693"
PROVINCE = "052"
SIENA = "052032"


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    lab = Lab(tmp_path_factory.mktemp("bad_inputs"))
    lab.build()
    return lab


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A local 'upstream' on 127.0.0.1 serving tmp/www (loopback is the only network tests have)."""
    www = tmp_path_factory.mktemp("www")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@dataclass
class Expect:
    """What the message and the failures file must say."""

    file: str  # the raw file as named in messages (path under the project)
    row: str  # line in the raw file ("" when the row is absent from the file)
    column: str  # "" for a whole-line problem
    check: str
    value: str | None = None
    failures: str | None = None  # stem of logs/validation/<stem>.failures.csv


def _raw(lab: Lab, source_id: str) -> str:
    return f"data/raw/{lab.registry_row(source_id)['path']}"


def _lines(lab: Lab, source_id: str) -> tuple[bytes, list[str]]:
    return split(lab.read(source_id))


def _edit(line: str, sep: str, index: int, fn: Callable[[str], str]) -> str:
    parts = line.split(sep)
    parts[index] = fn(parts[index])
    return sep.join(parts)


def _plus(delta: int) -> Callable[[str], str]:
    return lambda v: str(int(v) + delta)


# ---------------------------------------------------------------------------------------------
# The mutations. Each returns what the message must name; line numbers are 1-based lines of the file.


def missing_title(source_id: str):
    def mutate(lab: Lab) -> Expect:
        bom, lines = _lines(lab, source_id)
        lab.put(source_id, join(bom, lines[1:]))
        return Expect(_raw(lab, source_id), "1", "", "title line before the header", failures=source_id)
    return mutate


def wrong_separator(lab: Lab) -> Expect:
    # A file re-saved by a spreadsheet in an English locale: commas instead of semicolons.
    bom, lines = _lines(lab, P3)
    lab.put(P3, join(bom, [ln.replace(";", ",") for ln in lines]))
    return Expect(_raw(lab, P3), "2", "", "separator ';'", value="found ','", failures=P3)


def latin1(lab: Lab) -> Expect:
    # STRASA names Forlì-Cesena in its data rows: the first non-UTF-8 byte is in the Province column.
    bom, lines = _lines(lab, STRASA)
    first = next(i for i, ln in enumerate(lines) if not ln.isascii())
    lab.put(STRASA, join(b"", lines, encoding="latin-1"))
    return Expect(_raw(lab, STRASA), str(first + 1), "Province", "encoding utf-8", failures=STRASA)


def truncated(lab: Lab) -> Expect:
    # A download cut off in the middle of a row: half of line k, no line break, no trailing note.
    bom, lines = _lines(lab, P3)
    k = len(lines) // 2
    half = lines[k][: len(lines[k]) // 2]
    kept = half.split(";")
    header = [h.strip('"') for h in lines[1].split(";")]
    lab.put(P3, join(bom, lines[:k] + [half]))
    return Expect(_raw(lab, P3), str(k + 1), header[len(kept)], f"{len(header)} fields per row", failures=P3)


def empty(lab: Lab) -> Expect:
    lab.put(P3, b"")
    return Expect(_raw(lab, P3), "1", "", "header and at least one data row", failures=P3)


def extra_column(lab: Lab) -> Expect:
    bom, lines = _lines(lab, POSAS)
    end = max(i for i, ln in enumerate(lines) if ln.count(";") >= 5)
    out = [lines[0], lines[1] + ';"Note"'] + [ln + ";x" for ln in lines[2:end + 1]] + lines[end + 1:]
    lab.put(POSAS, join(bom, out))
    return Expect(_raw(lab, POSAS), "2", "Note", "column_in_schema", failures=POSAS)


def missing_column(lab: Lab) -> Expect:
    bom, lines = _lines(lab, POSAS)
    drop = column_index(lines[1], ";", "Totale femmine")
    out = [lines[0]] + [";".join(p for j, p in enumerate(ln.split(";")) if j != drop) if ln.count(";") >= 5 else ln
                        for ln in lines[1:]]
    lab.put(POSAS, join(bom, out))
    return Expect(_raw(lab, POSAS), "2", "Totale femmine", "column_in_dataframe", failures=POSAS)


def males_plus_females(lab: Lab) -> Expect:
    # Siena's "registered for other reasons" total, outside the balance identity: only M + F = T fails.
    bom, lines = _lines(lab, P3)
    i = find_line(lines, f'"{SIENA}";')
    col = "Iscritti in anagrafe per altri motivi - Totale"
    j = column_index(lines[1], ";", col)
    lines[i] = _edit(lines[i], ";", j, _plus(1))
    lab.put(P3, join(bom, lines))
    return Expect(_raw(lab, P3), str(i + 1), col, "Maschi + Femmine = Totale", value=lines[i].split(";")[j],
                  failures=P3)


def negative_count(lab: Lab) -> Expect:
    # A count set to -1 with its total lowered too, so that only the sign is wrong.
    bom, lines = _lines(lab, P3)
    males = column_index(lines[1], ";", "Cancellati dall'anagrafe per altri motivi - Maschi")
    total = column_index(lines[1], ";", "Cancellati dall'anagrafe per altri motivi - Totale")
    i = find_line(lines, f'"{SIENA}";')
    parts = lines[i].split(";")
    shift = int(parts[males]) + 1  # males become -1
    parts[males], parts[total] = str(int(parts[males]) - shift), str(int(parts[total]) - shift)
    lines[i] = ";".join(parts)
    lab.put(P3, join(bom, lines))
    return Expect(_raw(lab, P3), str(i + 1), "Cancellati dall'anagrafe per altri motivi - Maschi",
                  "greater_than_or_equal_to(0)", value="-1", failures=P3)


def duplicated_row(lab: Lab) -> Expect:
    # Siena's residents at 1 January 2023, published twice. (22_289 rather than 29_316 FJAN: FJAN is
    # read by two ingest jobs at once, and which of them reports first depends on scheduling.)
    bom, lines = _lines(lab, SDMX)
    i = find_line(lines, f"IT1:22_289(1.0),A,{SIENA},JAN,9,TOTAL,99,2023-01-01,")
    lines.insert(i + 1, lines[i])
    lab.put(SDMX, join(bom, lines))
    return Expect(_raw(lab, SDMX), str(i + 2), "REF_AREA", "one observation per REF_AREA, SEX and TIME_PERIOD",
                  value=SIENA, failures=SDMX)


def unknown_comune(lab: Lab) -> Expect:
    # A typo in a code of a province outside the configuration: nothing downstream would notice.
    bom, lines = _lines(lab, P3)
    i = find_line(lines, '"098001";')
    lines[i] = lines[i].replace('"098001"', '"098999"', 1)
    lab.put(P3, join(bom, lines))
    return Expect(_raw(lab, P3), str(i + 1), "Codice comune",
                  "a comune code of p2_2025_it_comuni (the comuni of the same year)", value="098999", failures=P3)


def comune_missing(lab: Lab) -> Expect:
    bom, lines = _lines(lab, P3)
    del lines[find_line(lines, f'"{SIENA}";')]
    lab.put(P3, join(bom, lines))
    return Expect(_raw(lab, P3), "", "territory_code", f"every comune of province {PROVINCE} present at 2025",
                  value=SIENA, failures=P3)


def total_999(lab: Lab) -> Expect:
    # Siena's 999 row: males and total both +1, so M + F = T still holds and only the ages disagree.
    bom, lines = _lines(lab, POSAS)
    i = find_line(lines, f'"{PROVINCE}";"Siena";999;')
    for col in ("Totale maschi", "Totale"):
        lines[i] = _edit(lines[i], ";", column_index(lines[1], ";", col), _plus(1))
    lab.put(POSAS, join(bom, lines))
    return Expect(_raw(lab, POSAS), str(i + 1), "Totale maschi", "ages 0-100 add up to the 999 total row",
                  value="126669", failures=POSAS)


def province_absent(lab: Lab) -> Expect:
    # A province of the configuration (valid in the crosswalk) cut out of the file.
    bom, lines = _lines(lab, POSAS)
    lab.put(POSAS, join(bom, [ln for ln in lines if not ln.startswith(f'"{PROVINCE}";')]))
    return Expect(_raw(lab, POSAS), "", "territory_code", "every configured provincia present at 2025-01-01",
                  value=PROVINCE, failures=POSAS)


def cruscotto_negative(lab: Lab) -> Expect:
    # The Ministry's daily dashboard: a region's people in reception centres typed as negative.
    data = lab.read(CRUSCOTTO).decode("utf-8").split("\n")
    i = find_line(data, "Toscana,2024-12-31,")
    col = column_index(data[0], ",", "Migranti presenti nei centri di accoglienza")
    value = data[i].split(",")[col]
    data[i] = _edit(data[i], ",", col, lambda v: "-" + v)
    lab.put(CRUSCOTTO, "\n".join(data).encode("utf-8"))
    # The raw model keeps the Ministry's counts as text: a count is "digits only".
    return Expect(_raw(lab, CRUSCOTTO), str(i + 1), "Migranti presenti nei centri di accoglienza",
                  r"str_matches('^\d+$')", value="-" + value, failures=CRUSCOTTO)


def permits_wrong_separator(lab: Lab) -> Expect:
    bom, lines = _lines(lab, PERMITS)
    lab.put(PERMITS, join(bom, [ln.replace('","', '";"').replace('",', '";') for ln in lines]))
    return Expect(_raw(lab, PERMITS), "1", "ITTER107", "column present (separator ',')", failures=PERMITS)


VALIDATION_CASES = {
    "missing title line (POSAS)": missing_title(POSAS),
    "missing title line (P3)": missing_title(P3),
    "wrong separator (P3)": wrong_separator,
    "Latin-1 instead of UTF-8 (STRASA)": latin1,
    "truncated in the middle of a row (P3)": truncated,
    "empty file (P3)": empty,
    "extra column (POSAS)": extra_column,
    "missing column (POSAS)": missing_column,
    "males + females != total (P3)": males_plus_females,
    "negative count (P3)": negative_count,
    "duplicated comune-date row (SDMX 22_289)": duplicated_row,
    "unknown comune code (P3)": unknown_comune,
    "comune missing (P3)": comune_missing,
    "999 total disagrees with the ages (POSAS)": total_999,
    "configured province cut out of the data (POSAS)": province_absent,
    "negative count (cruscotto)": cruscotto_negative,
    "wrong separator (PERMSOGG1)": permits_wrong_separator,
}


def failure_rows(lab: Lab, stem: str) -> list[dict[str, str]]:
    path = lab.work / "logs" / "validation" / f"{stem}.failures.csv"
    assert path.is_file(), f"no failure file {path}"
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def assert_nothing_lost(lab: Lab, before: dict) -> None:
    after = snapshot(lab.work)
    assert sorted(after) == sorted(before), f"files appeared or vanished: {sorted(set(after) ^ set(before))[:10]}"
    changed = [k for k in before if after[k] != before[k]]
    assert not changed, f"outputs of the good run were replaced: {changed[:10]}"


@pytest.mark.parametrize("mutate", VALIDATION_CASES.values(), ids=VALIDATION_CASES.keys())
def test_bad_file_is_rejected_and_nothing_is_lost(lab, mutate):
    work = lab.restore()
    before = snapshot(work)
    expect = mutate(lab)
    run = lab.snakemake()
    assert run.returncode != 0, run.output[-3000:]
    # One line of the message names the file, the line, the column and the check together.
    row = f"row {expect.row}" if expect.row else "row (absent)"
    column = f"column {expect.column}" if expect.column else "whole line"
    fragment = f"{expect.file}: "
    assert fragment in run.output, run.output[-3000:]
    where = f"{row}, {column}: check '{expect.check}' failed"
    assert where in run.output, f"expected {where!r} in:\n{run.output[-3000:]}"
    rows = failure_rows(lab, expect.failures)
    match = [r for r in rows if r["file"] == expect.file and r["row"] == expect.row
             and r["column"] == expect.column and r["check"] == expect.check]
    assert match, f"no failure case {expect} in {rows[:5]}"
    if expect.value is not None:
        assert any(expect.value in r["value"] for r in match), match
    assert_nothing_lost(lab, before)


def test_a_rerun_after_a_rejection_fails_again(lab):
    # Snakemake puts the good outputs back with a fresh timestamp: the rerun must still see that the
    # raw file changed and stop again, not take the restored tables as up to date.
    lab.restore()
    before = snapshot(lab.work)
    expect = wrong_separator(lab)
    assert lab.snakemake().returncode != 0
    again = lab.snakemake()
    assert again.returncode != 0
    assert f"row {expect.row}, whole line: check '{expect.check}' failed" in again.output
    assert_nothing_lost(lab, before)


# ---------------------------------------------------------------------------------------------
# Retrieval: the checksum and the zip archive. No rows here: the message is the record.


def test_checksum_mismatch_stops_and_keeps_the_good_raw_copy(lab):
    lab.restore()
    before = snapshot(lab.work, ("data/processed", "results", "data/raw"))
    failures_before = sorted((lab.work / "logs" / "validation").glob("*"))
    registered = lab.registry_row(P3)["sha256"]
    bom, lines = _lines(lab, P3)
    i = find_line(lines, f'"{SIENA}";')
    lines[i] = _edit(lines[i], ";", 2, _plus(1))
    data = join(bom, lines)
    lab.put(P3, data, register=False)  # the analyst forgot to register the new version
    run = lab.snakemake()
    assert run.returncode != 0
    assert (f"{_raw(lab, P3)}: checksum mismatch for source '{P3}' retrieved from {lab.mirror_file(P3)}: "
            f"expected sha256 {registered}") in run.output
    assert f"got {hashlib.sha256(data).hexdigest()} ({len(data)} bytes)" in run.output
    assert "add a new entry to config/sources.csv" in run.output
    assert sorted((lab.work / "logs" / "validation").glob("*")) == failures_before
    after = snapshot(lab.work, ("data/processed", "results", "data/raw"))
    assert after == before, [k for k in before if after.get(k) != before[k]]


def _traversal_zip(member: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
        zf.writestr("../../evil.csv", b"written outside the project\n")
    return buf.getvalue()


def _oversized_zip(member: str, size: int) -> bytes:
    # A zip bomb: zeros compress about a thousandfold.
    buf = io.BytesIO()
    chunk = bytes(1 << 20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open(member, "w", force_zip64=True) as out:
            for _ in range(size // len(chunk) + 1):
                out.write(chunk)
    return buf.getvalue()


LIMIT = 536_870_912  # max_archive_bytes default (config/config.schema.yaml)


@pytest.mark.parametrize("kind", ["traversal", "oversized"])
def test_hostile_zip_from_upstream_is_refused(lab, server, kind):
    """Through the retrieve rule: the mirror lacks the file, so (download: fallback) it is fetched
    from its upstream URL, a zip member on a local server. `download: always` would take the same
    code path for every file of the registry, whose real URLs are out of reach in the tests."""
    www, url = server
    lab.restore()
    before = snapshot(lab.work, ("data/processed", "results", "data/raw"))
    member = Path(lab.registry_row(P3)["path"]).name
    real = lab.read(P3)
    archive = _traversal_zip(member, real) if kind == "traversal" else _oversized_zip(member, LIMIT + 1)
    (www / f"{kind}.zip").write_bytes(archive)
    upstream = f"{url}/{kind}.zip#{member}"
    lab.set_registry(P3, upstream_url=upstream)
    lab.mirror_file(P3).unlink()
    run = lab.snakemake()
    assert run.returncode != 0
    assert f"{_raw(lab, P3)}: source '{P3}' from {upstream}: " in run.output, run.output[-3000:]
    if kind == "traversal":
        assert "refused archive with unsafe member path '../../evil.csv'" in run.output
    else:
        assert re.search(rf"member '{member}' declares \d+ bytes, over the limit of {LIMIT} \(max_archive_bytes\)",
                         run.output), run.output[-3000:]
    assert "Nothing was extracted; an earlier copy, if any, is untouched." in run.output
    assert not list(lab.base.rglob("evil.csv"))
    leftovers = [p for p in (lab.work / "data/raw/istat/demo_bilancio").iterdir() if p.name.startswith((".", "tmp"))]
    assert leftovers == [], "no temporary file or folder is left beside the raw file"
    after = snapshot(lab.work, ("data/processed", "results", "data/raw"))
    assert after == before, [k for k in before if after.get(k) != before[k]]


# ---------------------------------------------------------------------------------------------
# Configuration: an unsafe YAML tag, a province the data do not have. The message is the record.

UNSAFE = 'provinces: ["052"]\nrenderer: !!python/object/apply:os.system ["touch {marker}"]\n'


def test_unsafe_yaml_tag_in_a_config_file_is_refused_and_not_run(lab):
    lab.restore()
    before = snapshot(lab.work)
    marker = lab.base / "pwned"
    config = lab.work / "unsafe.yaml"
    config.write_text(UNSAFE.format(marker=marker), encoding="utf-8")
    # Snakemake's own loader refuses the tag too, but without saying where.
    run = lab.snakemake("--configfile", str(config))
    assert run.returncode != 0
    assert "Config file is not valid JSON or YAML" in run.output
    # `make check` and `make report` go through the preflight, which names file, line, column and key.
    run = lab.insiena("check", "--configfile", str(config))
    assert run.returncode != 0
    assert (f"{config}: line 2, column 11, key 'renderer': check 'standard YAML tags only' failed: "
            f"tag 'tag:yaml.org,2002:python/object/apply:os.system' refused") in run.output
    assert not marker.exists()
    assert_nothing_lost(lab, before)


def test_unsafe_yaml_tag_in_the_project_config_is_refused(lab):
    lab.restore()
    before = snapshot(lab.work)
    marker = lab.base / "pwned"
    config = lab.work / "config" / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'renderer: "auto"', f'renderer: !!python/object/apply:os.system ["touch {marker}"]'), encoding="utf-8")
    run = lab.insiena("check")
    assert run.returncode != 0
    line = next(i for i, ln in enumerate(config.read_text().split("\n"), 1) if ln.startswith("renderer:"))
    assert f"config/config.yaml: line {line}, column 11, key 'renderer': check 'standard YAML tags only'" in run.output
    assert lab.snakemake().returncode != 0
    assert not marker.exists()
    assert_nothing_lost(lab, before)


def test_province_missing_from_the_crosswalk_is_refused(lab):
    # 104 (Olbia-Tempio) was suppressed in 2016: no current file has it, nor the crosswalk.
    lab.restore()
    before = snapshot(lab.work)
    run = lab.snakemake("--config", "provinces=['104']")
    assert run.returncode != 0
    assert ("INSIEna: config: key 'provinces': '104' is not an ISTAT province code "
            "(see config/territory_crosswalk.csv)") in run.output
    assert_nothing_lost(lab, before)


# ---------------------------------------------------------------------------------------------
# Tolerated: a UTF-8 byte-order mark added where the producer writes none, or dropped where it
# writes one (Excel and editors do both). The data are the same, so the file is accepted and gives
# the same tables, byte for byte.


def test_bom_added_is_accepted_with_identical_tables(lab):
    # The Ministry's dashboard has no BOM; its ingest is the quickest to rerun.
    lab.restore()
    before = snapshot(lab.work)
    data = lab.read(CRUSCOTTO)
    assert not data.startswith(BOM)
    lab.put(CRUSCOTTO, BOM + data)
    run = lab.snakemake("data/processed/reception_presences.parquet", "data/processed/reception_presences_gaps.csv")
    assert run.returncode == 0, run.output[-3000:]
    assert "rule ingest_reception_presences:" in run.output, "the ingest read the new file"
    assert snapshot(lab.work) == before


def _both(tmp_path: Path, src: Path) -> tuple[Path, Path]:
    """The file without and with a BOM, whichever the producer wrote."""
    data = src.read_bytes()
    data = data[len(BOM):] if data.startswith(BOM) else data
    plain, marked = tmp_path / "plain" / src.name, tmp_path / "bom" / src.name
    for path, body in ((plain, data), (marked, BOM + data)):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(body)
    return plain, marked


def test_bom_present_or_absent_gives_the_same_rows_in_every_reader(tmp_path, mirror, root, monkeypatch):
    """Each reader, on a file it reads in the pipeline: the ISTAT one (P3 has a BOM, the monthly
    balance none), the reception one, the theme one (LFS D5 has a BOM)."""
    import pandas as pd

    from insiena.ingest.istat_bilancio import parse_bilancio, parse_monthly_balance
    from insiena.ingest.reception import read_cruscotto
    from insiena.ingest.themes import read_table
    from insiena.territories import codes_by_level, crosswalk

    monkeypatch.setenv("INSIENA_ROOT", str(tmp_path))
    codes = codes_by_level(crosswalk(root / "config" / "territory_crosswalk.csv"))

    def same(read, relative: str) -> None:
        plain, marked = _both(tmp_path, mirror / relative)
        a, b = read(plain), read(marked)
        for x, y in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            pd.testing.assert_frame_equal(x, y)

    same(lambda p: parse_bilancio(p, P3, {"reference_date": "2025-12-31", "status": "provisional"}, "bilancio_p3"),
         "istat/demo_bilancio/P3_2025_it_Comuni.csv")
    same(lambda p: parse_monthly_balance(p, MONTHLY, {"reference_date": "2022-01", "status": "provisional"}, codes),
         "istat/demo_bilancio/Bilancio_demografico_mensile.csv")
    same(read_cruscotto, "reception/ondata_cruscotto/accoglienza.csv")
    lfs = "themes/lavoro/D5-Activity_rate_between_foreigners_and_italians.csv"
    header = (mirror / lfs).read_text(encoding="utf-8-sig").split("\n", 1)[0].replace('"', "").split(",")
    same(lambda p: read_table(p, header, name="lfs").drop(columns="_line"), lfs)


# ---------------------------------------------------------------------------------------------
# Hostile text: a project name carrying a script must reach the report as text.

SCRIPT = "<script>alert(1)</script>"


def test_script_in_a_project_name_is_shown_escaped_in_the_report(lab, tmp_path):
    if not (lab.good / "results" / PROVINCE / "report.html").is_file():
        pytest.skip("the pipeline does not build results/<province>/report.html yet")
    from insiena.report.browser import check_page

    lab.restore()
    path = lab.work / "config" / "initiatives.csv"
    text = path.read_text(encoding="utf-8")
    name = "IN.TE.SE - Integrazione nel Territorio Senese"
    assert text.count(f",{name},") == 1
    path.write_text(text.replace(f",{name},", f",{SCRIPT} {name},"), encoding="utf-8")
    run = lab.snakemake()
    assert run.returncode == 0, run.output[-3000:]
    html = lab.work / "results" / PROVINCE / "report.html"
    source = html.read_text(encoding="utf-8")
    assert SCRIPT not in source and "&lt;script&gt;alert(1)&lt;/script&gt;" in source
    page = check_page(html)
    assert page["alerts"] == []
    assert f"{SCRIPT} IN.TE.SE" in page["text"]


def test_make_check_names_the_rejected_file_and_prints_no_stale_summary(lab):
    lab.restore()
    before = snapshot(lab.work)
    expect = truncated(lab)
    run = lab.insiena("check", "--cores", "2")
    assert run.returncode != 0
    assert f"row {expect.row}, column {expect.column}: check '{expect.check}' failed" in run.output
    assert "INSIEna check: an input was rejected" in run.output
    assert "INSIEna inputs:" not in run.output, "the summary on disk is from the last accepted inputs"
    assert_nothing_lost(lab, before)
