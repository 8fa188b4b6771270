import hashlib

import pandas as pd
import pytest

from insiena.errors import RegistryError
from insiena.registry import load_registry


def test_registry_is_valid_and_complete(root):
    reg = load_registry(root=root)
    assert len(reg) == 280
    assert reg.loc["istat_29_316_fjan", "sha256"] == "2d7d7e92d6017bcd558204d307cdca3bdd467caa2755bd135dd9a07f0979c698"
    assert reg.loc["posas_2025_it_province", "status"] == "provisional"
    assert (reg["dataset"] == "anac_contracts").sum() == 132
    # Every entry but the hand-transcribed zone table has a reproducible upstream at a commit.
    no_url = reg[reg["upstream_url"].isna()]
    assert list(no_url.index) == ["zone_distretto_siena"]
    assert reg["upstream_url"].dropna().str.match(r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/").all()


def test_registry_checksums_match_the_mirror(root, mirror):
    reg = load_registry(root=root)
    for row in reg.itertuples():
        data = (mirror / row.path).read_bytes()
        assert len(data) == int(row.size), row.path
        assert hashlib.sha256(data).hexdigest() == row.sha256, row.path


def _write(tmp_path, df):
    path = tmp_path / "sources.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("column, value, check", [
    ("sha256", "abc", "str_matches"),
    ("path", "../etc/passwd", "str_matches"),
    ("status", "draft", "isin"),
    ("reference_date", "sometime", "str_matches"),
])
def test_bad_registry_rows_are_rejected(tmp_path, root, column, value, check):
    df = pd.read_csv(root / "config" / "sources.csv", dtype=str, keep_default_na=False)
    df.loc[3, column] = value
    with pytest.raises(RegistryError) as exc:
        load_registry(_write(tmp_path, df), root=tmp_path)
    assert "row 5" in str(exc.value) and column in str(exc.value) and check in str(exc.value)
    assert (tmp_path / "logs" / "validation" / "sources.failures.csv").is_file()


def test_duplicate_ids_are_rejected(tmp_path, root):
    df = pd.read_csv(root / "config" / "sources.csv", dtype=str, keep_default_na=False)
    df.loc[1, "id"] = df.loc[0, "id"]
    with pytest.raises(RegistryError, match="unique"):
        load_registry(_write(tmp_path, df), root=tmp_path)


def test_registry_rows_are_the_validated_rows_and_a_changed_file_is_validated_again(root, tmp_path):
    from insiena.registry import registry_rows

    reg = load_registry(root=root)
    path = tmp_path / "sources.csv"
    path.write_bytes((root / "config" / "sources.csv").read_bytes())
    rows = registry_rows(path, root=tmp_path)
    assert list(rows) == list(reg.index)
    assert rows["zone_distretto_siena"]["upstream_url"] is None
    assert rows["istat_29_316_fjan"]["sha256"] == reg.loc["istat_29_316_fjan", "sha256"]
    assert rows["posas_2025_it_province"]["status"] == "provisional"
    assert len(list((tmp_path / ".snakemake" / "insiena").glob("registry-*.validated"))) == 1
    assert registry_rows(path, root=tmp_path) == rows  # from the stamp, without pandera
    # A stamp is for one file content: the same file, edited to an invalid status, is refused.
    path.write_text(path.read_text(encoding="utf-8").replace(",provisional,", ",draft,", 1), encoding="utf-8")
    with pytest.raises(RegistryError, match="draft"):
        registry_rows(path, root=tmp_path)
