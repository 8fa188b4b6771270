"""Italian formatting: separators, half-up rounding, signs, percentages, dates, missing values."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from insiena import fmt


@pytest.mark.parametrize("value, decimals, expected", [
    (0, 0, "0"),
    (7, 0, "7"),
    (999, 0, "999"),
    (1000, 0, "1.000"),
    (1234, 0, "1.234"),
    (27345, 0, "27.345"),
    (1234567, 0, "1.234.567"),
    (59_030_133, 0, "59.030.133"),
    (1234.5, 1, "1.234,5"),
    (1234.5, 2, "1.234,50"),
    (1234.56, 1, "1.234,6"),
    (0.5, 2, "0,50"),
    (3.14159, 3, "3,142"),
    (-210, 0, "-210"),
    (-1234.5, 1, "-1.234,5"),
    (1e-7, 2, "0,00"),
    (12, 2, "12,00"),
    (Decimal("1234.55"), 1, "1.234,6"),
])
def test_fmt_num(value, decimals, expected):
    assert fmt.fmt_num(value, decimals) == expected


@pytest.mark.parametrize("value, decimals, expected", [
    # Half away from zero on the decimal the reader sees, not banker's rounding on the binary float.
    (0.05, 1, "0,1"),
    (0.15, 1, "0,2"),
    (0.25, 1, "0,3"),
    (0.35, 1, "0,4"),
    (2.5, 0, "3"),
    (3.5, 0, "4"),
    (0.5, 0, "1"),
    (1234.5, 0, "1.235"),
    (2.675, 2, "2,68"),      # stored as 2.67499999...: Python's round gives 2.67
    (1.005, 2, "1,01"),      # stored as 1.00499999...
    (11.65, 1, "11,7"),
    (-0.05, 1, "-0,1"),
    (-2.5, 0, "-3"),
    (-1234.5, 0, "-1.235"),
    (999.95, 1, "1.000,0"),  # rounding carries into a new thousands group
    (999_999.5, 0, "1.000.000"),
])
def test_rounding_half_up(value, decimals, expected):
    assert fmt.fmt_num(value, decimals) == expected


@pytest.mark.parametrize("value, decimals", [(-0.0, 0), (-0.0, 1), (-0.04, 1), (-0.4, 0),
                                             (-0.0049, 2), (np.float64(-0.0), 1)])
def test_negative_zero_has_no_sign(value, decimals):
    assert not fmt.fmt_num(value, decimals).startswith("-")
    assert not fmt.fmt_signed(value, decimals).startswith(("-", "+"))
    assert fmt.fmt_num(value, decimals).strip("0,") == ""


@pytest.mark.parametrize("value, decimals, expected", [
    (1343, 0, "+1.343"),
    (-210, 0, "-210"),
    (0, 0, "0"),
    (0.04, 1, "0,0"),
    (2.25, 1, "+2,3"),
    (-2.25, 1, "-2,3"),
    (15_000, 0, "+15.000"),
])
def test_fmt_signed(value, decimals, expected):
    assert fmt.fmt_signed(value, decimals) == expected


def test_minus_is_ascii_hyphen():
    # Searchable in the PDF and parseable when copied to a spreadsheet (documented choice).
    assert fmt.fmt_num(-5) == "-5"
    assert "\u2212" not in fmt.fmt_num(-5) + fmt.fmt_pct(-5) + fmt.fmt_signed(-5)
    assert fmt.MINUS == "-"


@pytest.mark.parametrize("value, decimals, expected", [
    (11.64, 1, "11,6%"),
    (11.65, 1, "11,7%"),
    (8.5, 1, "8,5%"),
    (100, 0, "100%"),
    (0.05, 1, "0,1%"),
    (-3.25, 1, "-3,3%"),
    (12.345, 2, "12,35%"),
    (1234.5, 1, "1.234,5%"),
])
def test_fmt_pct(value, decimals, expected):
    assert fmt.fmt_pct(value, decimals) == expected


def test_fmt_pct_defaults_and_sign():
    assert fmt.fmt_pct(11.64) == "11,6%"
    assert " " not in fmt.fmt_pct(11.64)  # no space before %, as ISTAT writes it
    assert fmt.fmt_pct(1.2, signed=True) == "+1,2%"
    assert fmt.fmt_pct(0, signed=True) == "0,0%"


def test_fmt_pp():
    assert fmt.fmt_pp(1.23) == "+1,2 p.p."
    assert fmt.fmt_pp(-0.66) == "-0,7 p.p."
    assert fmt.fmt_pp(0.01) == "0,0 p.p."


def test_fmt_int():
    assert fmt.fmt_int(27345) == "27.345"
    assert fmt.fmt_int(27345.5) == "27.346"
    assert fmt.fmt_int(np.int64(1_000_000)) == "1.000.000"
    assert fmt.fmt_int(-1343, signed=True) == "-1.343"
    assert fmt.fmt_int(10**20) == "100.000.000.000.000.000.000"


@pytest.mark.parametrize("value, expected", [
    (np.float32(0.25), "0,3"), (np.float64(1234.5), "1.234,5"), (np.int32(1234), "1.234,0"),
    (pd.Series([1234.5]).astype("Float64").iloc[0], "1.234,5"),
    (pd.Series([-7]).astype("Int64").iloc[0], "-7,0"),
])
def test_numpy_and_pandas_scalars(value, expected):
    assert fmt.fmt_num(value, 1) == expected


@pytest.mark.parametrize("value", [None, float("nan"), np.nan, np.float64("nan"), pd.NA, pd.NaT,
                                   np.datetime64("NaT"), Decimal("NaN")])
def test_missing_is_nd(value):
    assert fmt.is_missing(value)
    assert fmt.fmt_num(value) == "n.d."
    assert fmt.fmt_pct(value) == "n.d."
    assert fmt.fmt_signed(value) == "n.d."
    assert fmt.fmt_pp(value) == "n.d."
    assert fmt.fmt_date(value) == "n.d."
    assert fmt.fmt_month(value) == "n.d."


@pytest.mark.parametrize("value", [0, 0.0, "", "x", False])
def test_present_values_are_not_missing(value):
    assert not fmt.is_missing(value)


@pytest.mark.parametrize("value", [math.inf, -math.inf, np.inf, Decimal("Infinity")])
def test_infinity_raises(value):
    with pytest.raises(ValueError, match="infinite"):
        fmt.fmt_num(value)


@pytest.mark.parametrize("value", ["1.234", "12", b"1", True])
def test_text_and_booleans_are_refused(value):
    with pytest.raises(TypeError):
        fmt.fmt_num(value)


def test_negative_decimals_refused():
    with pytest.raises(ValueError):
        fmt.fmt_num(1, -1)


@pytest.mark.parametrize("low, high, decimals, unit, expected", [
    (8.5, 10.2, 1, "%", "8,5\u201310,2%"),
    (8.5, 8.54, 1, "%", "8,5%"),
    (120, 3500, 0, "", "120\u20133.500"),
    (-2.5, 3, 1, "", "-2,5\u20133,0"),
    (1, 5, 0, "anni", "1\u20135 anni"),
    (1, 5, 1, "\u2030", "1,0\u20135,0\u2030"),
])
def test_fmt_range(low, high, decimals, unit, expected):
    assert fmt.fmt_range(low, high, decimals, unit) == expected


def test_with_unit():
    assert fmt.with_unit("11,6", "%") == "11,6%"
    assert fmt.with_unit("12", "anni") == "12 anni"
    assert fmt.with_unit("n.d.", "%") == "n.d."
    assert fmt.with_unit("5", "") == "5"


@pytest.mark.parametrize("value, expected", [
    ("2025-01-01", "1° gennaio 2025"),
    ("2025-12-31", "31 dicembre 2025"),
    ("2024-02-29", "29 febbraio 2024"),
    ("2025-09-15", "15 settembre 2025"),
    ("2021-10-09T00:00:00", "9 ottobre 2021"),
    (dt.date(2022, 1, 1), "1° gennaio 2022"),
    (dt.datetime(2023, 6, 30, 12, 0), "30 giugno 2023"),
    (pd.Timestamp("2025-08-01"), "1° agosto 2025"),
    (np.datetime64("2025-03-02"), "2 marzo 2025"),
])
def test_fmt_date(value, expected):
    assert fmt.fmt_date(value) == expected


def test_every_month_name():
    names = [fmt.fmt_date(dt.date(2025, m, 1)).split()[1] for m in range(1, 13)]
    assert names == ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                     "agosto", "settembre", "ottobre", "novembre", "dicembre"]
    assert [fmt.month_name(m, short=True) for m in (1, 5, 6, 9, 12)] == ["gen", "mag", "giu", "set",
                                                                        "dic"]
    with pytest.raises(ValueError):
        fmt.month_name(13)


def test_fmt_month():
    assert fmt.fmt_month("2025-09-15") == "settembre 2025"
    assert fmt.fmt_month(dt.date(2024, 1, 31), short=True) == "gen 2024"


def test_bad_dates():
    with pytest.raises(ValueError):
        fmt.fmt_date("31/12/2025")
    with pytest.raises(TypeError):
        fmt.fmt_date(2025)


def test_round_half_up_matches_printed_value():
    for value, decimals in [(0.05, 1), (2.675, 2), (10.25, 1), (-0.05, 1), (7, 0)]:
        printed = fmt.fmt_num(value, decimals)
        assert fmt.fmt_num(fmt.round_half_up(value, decimals), decimals) == printed
