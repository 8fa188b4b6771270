"""Several provinces in one run, in parallel: each report's headline numbers are its own."""

from __future__ import annotations

import re

import pytest
import yaml

from conftest import copy_project, run_snakemake
from insiena import load
from insiena.fmt import fmt_int, fmt_pct

pytestmark = pytest.mark.integration
PROVINCES = ["052", "053", "015"]


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("scale") / "insiena")
    run_snakemake(project, "--config", f"provinces={PROVINCES}")
    return project


def _headline(project, province):
    ind = load("indicators", province=province, root=project, territory_code=province,
               territory_level="provincia", sex="totale", age_class="totale", category="totale")
    count = ind[ind["indicator_id"] == "foreign_residents"]
    latest = count["period"].max()
    value = count.loc[count["period"] == latest, "value"].iloc[0]
    share = ind[(ind["indicator_id"] == "foreign_share") & (ind["period"] == latest)]["value"].iloc[0]
    return latest, value, share


@pytest.mark.parametrize("province", PROVINCES)
def test_each_report_shows_its_own_headline_numbers(three, province):
    folder = three / "results" / province
    assert (folder / "report.html").stat().st_size > 50_000
    assert (folder / "report.pdf").read_bytes()[:5] == b"%PDF-"
    latest, count, share = _headline(three, province)
    variables = yaml.safe_load((folder / "report_src" / "_variables.yml").read_text(encoding="utf-8"))
    assert variables["pop"]["foreign"] == fmt_int(count)
    html = re.sub(r"<[^>]+>", " ", (folder / "report.html").read_text(encoding="utf-8"))
    assert fmt_int(count) in html
    assert fmt_pct(share, 1) in html


def test_provinces_do_not_share_numbers(three):
    counts = {p: _headline(three, p)[1] for p in PROVINCES}
    assert len(set(counts.values())) == len(PROVINCES)
    # Siena's count at 31 December 2025 is the P3 sum of its 35 comuni (manifest: 31,560).
    assert counts["052"] == 31_560


def test_province_jobs_ran_side_by_side(three):
    # Each benchmark file is written when its job ends and records the job's duration: two province
    # jobs whose [end - duration, end] intervals overlap ran at the same time on the two cores.
    spans = []
    for rule in ("report_data", "render_report"):
        for province in PROVINCES:
            tsv = three / "benchmarks" / rule / f"{province}.tsv"
            seconds = float(tsv.read_text(encoding="utf-8").splitlines()[-1].split("\t")[0])
            end = tsv.stat().st_mtime
            spans.append((end - seconds, end, rule, province))
    overlapping = [(a[2:], b[2:]) for i, a in enumerate(spans) for b in spans[i + 1:]
                   if a[3] != b[3] and a[0] < b[1] - 0.5 and b[0] < a[1] - 0.5]
    assert overlapping, spans
    # No province job wrote into another's folder: each folder holds only its own province's files.
    for province in PROVINCES:
        assert sorted(p.name for p in (three / "results" / province).iterdir()) == [
            "figures", "report.html", "report.pdf", "report_src", "tables"]
