"""`make report SMK_ARGS=...` ends by listing the reports of the provinces that run was for."""

from __future__ import annotations

from insiena.cli import config_overrides, outputs


def test_config_overrides_are_parsed_as_snakemake_parses_them():
    assert config_overrides(["--cores", "2", "--config", "provinces=['053', '052']", "-n"]) == {
        "provinces": ["053", "052"]}
    assert config_overrides(["--config", "provinces=all", "renderer=pandoc"]) == {
        "provinces": "all", "renderer": "pandoc"}
    assert config_overrides(["--cores", "1"]) == {}


def test_outputs_lists_the_provinces_of_the_run(tmp_path, monkeypatch, capsys):
    root = tmp_path / "project"
    (root / "config").mkdir(parents=True)
    from insiena.paths import project_root

    for name in ("config.yaml", "config.schema.yaml", "territory_crosswalk.csv"):
        (root / "config" / name).write_bytes((project_root() / "config" / name).read_bytes())
    (root / "Snakefile").write_text("")
    (root / "results" / "053").mkdir(parents=True)
    (root / "results" / "053" / "report.html").write_text("<html></html>")
    monkeypatch.setenv("INSIENA_ROOT", str(root))
    assert outputs(["--config", "provinces=['053', '015']"]) == 0
    out = capsys.readouterr().out
    assert f"053: {root / 'results' / '053' / 'report.html'}" in out
    assert "015: no report yet" in out
    assert not any(line.startswith("  052:") for line in out.splitlines())  # config.yaml's, not this run's
    assert outputs(["--config", "provinces=53"]) == 1  # as Snakemake would refuse it
