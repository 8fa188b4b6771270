"""The rendered HTML in headless Debian Chromium: no console errors, images load, data stays text."""

from __future__ import annotations

from pathlib import Path

import pytest

from insiena.report import render_report
from insiena.report.browser import check_page

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).parent / "fixtures" / "report"


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser")
    render_report(FIXTURE, out, formats=("html",), renderer="pandoc")
    return out / "report.html"


def test_report_opens_cleanly(report_html, tmp_path):
    page = check_page(report_html, tmp_path / "report.png")
    assert page["console_errors"] == []
    assert len(page["images"]) == 2
    assert page["broken_images"] == [] and page["images_without_alt"] == []
    assert page["broken_links"] == [] and page["internal_links"] >= 10
    assert page["lang"] == "it"
    assert page["title"] == "Profilo territoriale della provincia di Siena"
    assert page["screenshot"].stat().st_size > 50_000
    assert page["screenshot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_script_in_data_is_shown_not_run(report_html, tmp_path):
    page = check_page(report_html)
    assert page["alerts"] == [] and page["scripts"] == 0
    assert "<script>alert(1)</script>" in page["text"]
    assert "Comune | con barra & simboli *strani*" in page["text"]


def test_check_page_catches_what_it_should(tmp_path):
    # A control: the checks above would be worthless if they could not fail.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="it"><head><title>x</title></head><body>'
                   '<script>alert(1)</script><img src="missing.png" alt="">'
                   '<a href="#nowhere">x</a><script>console.error("boom")</script></body></html>',
                   encoding="utf-8")
    page = check_page(bad, tmp_path / "bad.png")
    assert page["alerts"] == ["alert:1"]
    assert page["broken_images"] == ["missing.png"] and page["images_without_alt"] == ["missing.png"]
    assert page["broken_links"] == ["#nowhere"]
    assert any("boom" in message for message in page["console_errors"])
