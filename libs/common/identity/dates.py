"""Dates of birth as written in reports and watchlists: full, year only, or unknown."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from libs.common.errors import InvalidInput
from libs.common.identity.ruledata import DATA

# Nobody alive was born before 1890; a year past 2100 is a typo, not a person.
MIN_YEAR: Final[int] = DATA["dates"]["min_year"]
MAX_YEAR: Final[int] = DATA["dates"]["max_year"]

_ISO: Final = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_DOTTED: Final = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")  # 14.03.1999, as in CIS documents


@dataclass(frozen=True)
class BirthDate:
    """A date of birth known to the day (`full`), to the year only, or not at all."""

    year: int | None = None
    full: dt.date | None = None

    @property
    def precision(self) -> str:
        """ "full", "year" or "unknown"."""
        if self.full is not None:
            return "full"
        return "year" if self.year is not None else "unknown"


def _invalid(code: str) -> InvalidInput:
    """The error of a bad date; its message is the one `rules.json` gives the code."""
    return InvalidInput(DATA["errors"][code], fields=[{"field": "dob"}])


def parse_dob(text: str | None) -> BirthDate:
    """Read YYYY-MM-DD, YYYY-MM or YYYY (year precision), DD.MM.YYYY, or None/"" (unknown)."""
    if text is None:
        return BirthDate()
    if not isinstance(text, str):
        raise _invalid("dob_type")
    text = text.strip()
    if not text:
        return BirthDate()
    if dotted := _DOTTED.fullmatch(text):
        day, month, year = (int(g) for g in dotted.groups())
    elif iso := _ISO.fullmatch(text):
        year = int(iso.group(1))
        # A month without a day is no more useful for matching than the year alone.
        if iso.group(3) is None:
            if not MIN_YEAR <= year <= MAX_YEAR:
                raise _invalid("dob_year_range")
            if iso.group(2) is not None and not 1 <= int(iso.group(2)) <= 12:
                raise _invalid("dob_month_range")
            return BirthDate(year=year)
        month, day = int(iso.group(2)), int(iso.group(3))
    else:
        raise _invalid("dob_format")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _invalid("dob_year_range")
    try:
        full = dt.date(year, month, day)
    except ValueError:
        raise _invalid("dob_not_date") from None
    return BirthDate(year=year, full=full)
