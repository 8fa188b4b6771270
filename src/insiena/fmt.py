"""Italian formatting of numbers, percentages and dates, for every text the report shows.

Conventions (one choice each, used everywhere: prose, tables, figure labels):

- Thousands separator ".", decimal separator ",": ``1.234,5``. Four-digit numbers are grouped too
  (``1.234``), as ISTAT does. Years are not numbers: format them with ``str(year)``.
- Rounding is half away from zero on the *decimal* value the reader sees (``0.05 -> "0,1"``,
  ``2.675 -> "2,68"``, ``-0.05 -> "-0,1"``), not Python's round-half-even on the binary float: a
  reader who rounds the printed table by hand must get the printed figure.
- A value that rounds to zero is written without a sign (``-0.04 -> "0,0"``, never ``"-0,0"``).
- Negative numbers use the ASCII hyphen-minus ``-`` (not U+2212): it is what a reader types when
  searching the PDF or HTML, and what spreadsheets parse when a value is copied out.
- Signed values (changes) carry an explicit ``+``; zero carries none: ``+1.343``, ``-210``, ``0``.
- Percentages take no space before ``%``, as ISTAT writes them: ``11,6%``. Ranges use an en dash
  without spaces and a single unit: ``8,5–10,2%``. Percentage-point differences are ``+1,2 p.p.``.
- Dates are long-form Italian: ``1° gennaio 2025`` (ordinal for the first day), ``31 dicembre 2025``;
  month names are lower case.
- Missing values (None, NaN, pandas NA/NaT) are written ``n.d.`` ("non disponibile"). Infinite values
  raise: they come from a division by zero upstream, which must be fixed there, not hidden here.

Every function is pure and imports neither pandas nor matplotlib.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from decimal import ROUND_HALF_UP, Decimal, localcontext

NA = "n.d."
MINUS = "-"
EN_DASH = "\u2013"

MONTHS = ("gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
          "settembre", "ottobre", "novembre", "dicembre")
MONTHS_SHORT = ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic")

# Units written attached to the number; any other unit is separated by a space ("12 anni").
_ATTACHED_UNITS = {"%", "\u2030"}


def is_missing(x) -> bool:
    """True for None, float NaN, numpy NaN/NaT, pandas NA/NaT (without importing pandas)."""
    if x is None:
        return True
    if type(x).__name__ == "NAType":  # pandas.NA: its comparisons return NA, not a bool
        return True
    try:
        return bool(x != x)
    except (TypeError, ValueError):
        return False


def _to_decimal(x) -> Decimal:
    if isinstance(x, (bool, str, bytes)):
        # "1.234" would silently parse as 1,234 thousandths: refuse text, it is a bug upstream.
        raise TypeError(f"not a number: {x!r}")
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, numbers.Integral):
        d = Decimal(int(x))
    else:
        f = float(x)  # numpy scalars' repr is "np.float64(...)": go through a Python float
        if math.isinf(f):
            raise ValueError(f"cannot format an infinite value ({x!r})")
        # repr gives the shortest decimal that round-trips, i.e. the number the analyst "sees":
        # 2.675 is stored as 2.67499999..., but repr says 2.675 and readers round that to 2,68.
        d = Decimal(repr(f))
    if d.is_infinite():
        raise ValueError(f"cannot format an infinite value ({x!r})")
    return d


def _round(d: Decimal, decimals: int) -> Decimal:
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    with localcontext() as ctx:
        ctx.prec = max(28, d.adjusted() + decimals + 2)
        return d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _digits(q: Decimal, decimals: int) -> str:
    """Unsigned Italian digits of an already rounded value."""
    english = f"{abs(q):,.{decimals}f}"
    return english.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def round_half_up(x, decimals: int = 0) -> float:
    """The value the formatters print, as a float (for classing values the way they are shown)."""
    return float(_round(_to_decimal(x), decimals))


def fmt_num(x, decimals: int = 0, signed: bool = False) -> str:
    """``fmt_num(1234.5, 1) -> "1.234,5"``; ``fmt_num(1234) -> "1.234"``; missing -> ``"n.d."``.

    With ``signed=True`` positive values get a ``+`` (``"+1.343"``); zero never has a sign.
    """
    if is_missing(x):
        return NA
    q = _round(_to_decimal(x), decimals)
    if q.is_zero():
        sign = ""
    elif q < 0:
        sign = MINUS
    else:
        sign = "+" if signed else ""
    return sign + _digits(q, decimals)


def fmt_int(x, signed: bool = False) -> str:
    """Whole number with dot thousands: ``fmt_int(27345) -> "27.345"``."""
    return fmt_num(x, 0, signed=signed)


def fmt_signed(x, decimals: int = 0) -> str:
    """A change: ``+1.343``, ``-210``, ``0``."""
    return fmt_num(x, decimals, signed=True)


def with_unit(number: str, unit: str) -> str:
    """Attach a unit the Italian way: ``%`` and ``‰`` without a space, any other unit with one."""
    if not unit or number == NA:
        return number
    return f"{number}{unit}" if unit in _ATTACHED_UNITS else f"{number} {unit}"


def fmt_pct(x, decimals: int = 1, signed: bool = False) -> str:
    """A value already expressed in percent: ``fmt_pct(11.64) -> "11,6%"``."""
    return with_unit(fmt_num(x, decimals, signed=signed), "%")


def fmt_pp(x, decimals: int = 1) -> str:
    """A difference between two percentages, in percentage points: ``"+1,2 p.p."``."""
    return with_unit(fmt_num(x, decimals, signed=True), "p.p.")


def fmt_range(low, high, decimals: int = 0, unit: str = "") -> str:
    """A class or interval: ``fmt_range(8.5, 10.2, 1, "%") -> "8,5–10,2%"``; one value if equal."""
    lo, hi = fmt_num(low, decimals), fmt_num(high, decimals)
    text = lo if lo == hi else f"{lo}{EN_DASH}{hi}"
    return with_unit(text, unit)


def to_date(x) -> _dt.date | None:
    """A ``datetime.date`` from a date, datetime, pandas Timestamp, numpy datetime64 or ISO string."""
    if is_missing(x):
        return None
    if isinstance(x, _dt.datetime):  # also pandas.Timestamp, a datetime subclass
        return x.date()
    if isinstance(x, _dt.date):
        return x
    if isinstance(x, str):
        return _dt.date.fromisoformat(x.strip()[:10])
    if type(x).__name__ == "datetime64":
        return x.astype("datetime64[D]").item()
    raise TypeError(f"not a date: {x!r}")


def month_name(month: int, short: bool = False) -> str:
    """``month_name(1) -> "gennaio"``; ``short=True`` gives the chart abbreviation ``"gen"``."""
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month must be 1..12, not {month!r}")
    return (MONTHS_SHORT if short else MONTHS)[int(month) - 1]


def fmt_date(x) -> str:
    """``"2025-01-01" -> "1° gennaio 2025"``, ``"2025-12-31" -> "31 dicembre 2025"``."""
    d = to_date(x)
    if d is None:
        return NA
    day = "1°" if d.day == 1 else str(d.day)
    return f"{day} {MONTHS[d.month - 1]} {d.year}"


def fmt_month(x, short: bool = False) -> str:
    """``"2025-09-15" -> "settembre 2025"`` (``short=True``: ``"set 2025"``)."""
    d = to_date(x)
    if d is None:
        return NA
    return f"{month_name(d.month, short)} {d.year}"
