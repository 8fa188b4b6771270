"""Cross-source comparisons: what each status means and how rows are named."""

from __future__ import annotations

import pandas as pd

from insiena.consistency import COLUMNS, census_break, compare
from insiena.schemas.istat import ConsistencyChecks


def pop(rows):
    df = pd.DataFrame(rows, columns=["territory_code", "territory_level", "date", "sex", "age", "value", "source_id"])
    return df.astype({"age": "Int64", "value": "Int64"})


def test_equal_values_are_ok_and_differences_are_a_minus_b():
    a = pop([("052", "provincia", "2025-01-01", "totale", None, 30217, "fjan"),
             ("053", "provincia", "2025-01-01", "totale", None, 22986, "fjan"),
             ("051", "provincia", "2025-01-01", "totale", None, 1, "fjan")])
    b = pop([("052", "provincia", "2025-01-01", "totale", None, 30217, "p3"),
             ("053", "provincia", "2025-01-01", "totale", None, 22980, "p3")])
    raw = compare(a, b, "foreign")
    assert list(raw.columns) == COLUMNS
    out = raw.set_index("territory_code")
    assert out.loc["052", "status"] == "ok" and out.loc["052", "difference"] == 0
    assert out.loc["053", "status"] == "mismatch" and out.loc["053", "difference"] == 6
    assert "051" not in out.index  # only territories both files give
    ConsistencyChecks.validate(raw)


def test_different_basis_and_breakdown_in_the_check_name():
    a = pop([("052", "provincia", "2025-01-01", s, None, v, "posas") for s, v in
             (("totale", 259826), ("maschi", 126668), ("femmine", 133158))])
    b = pop([("052", "provincia", "2025-01-01", s, None, v, "p2") for s, v in
             (("totale", 259460), ("maschi", 126399), ("femmine", 133061))])
    out = compare(a, b, "posas_vs_census", differs="different_basis", by_sex=True)
    assert sorted(out["check"]) == ["posas_vs_census[sex=femmine]", "posas_vs_census[sex=maschi]",
                                    "posas_vs_census[sex=totale]"]
    assert set(out["status"]) == {"different_basis"}
    assert out.set_index("check").loc["posas_vs_census[sex=totale]", "difference"] == 366
    by_age = compare(pop([("IT", "italia", "2024-01-01", "maschi", 65, 10, "it")]),
                     pop([("IT", "italia", "2024-01-01", "maschi", 65, 10, "reg")]), "x", by_sex=True, by_age=True)
    assert by_age["check"].tolist() == ["x[sex=maschi,age=65]"]


def test_census_break_pairs_2021_with_2022_above_comune_level():
    rows = pop([("052", "provincia", "2021-01-01", "totale", None, 29531, "fjan"),
                ("052", "provincia", "2022-01-01", "totale", None, 28310, "fjan"),
                ("052032", "comune", "2021-01-01", "totale", None, 6016, "fjan"),
                ("052032", "comune", "2022-01-01", "totale", None, 5145, "fjan"),
                ("052", "provincia", "2023-01-01", "totale", None, 28559, "fjan")])
    out = census_break(rows, "census_break_fjan")
    assert out[["territory_code", "date", "value_a", "value_b", "difference", "status"]].values.tolist() == [
        ["052", "2022-01-01", 29531, 28310, 1221, "census_break"]]
