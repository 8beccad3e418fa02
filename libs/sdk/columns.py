"""The columns of a tabular report file: one per catalogue field, then the person's."""

from __future__ import annotations

from libs.common.reports.fields import CATALOGUE

# `charges` is "STATE:CODE:ARTICLE" items separated by ";". The person never leaves this
# machine: only tokens made from these columns are sent.
PERSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("person_name", "the person's name in any script or spelling; NEVER sent, only tokens are"),
    ("person_dob", "date of birth: YYYY-MM-DD, DD.MM.YYYY, YYYY, or empty; NEVER sent"),
    ("person_sex", "female, male or unknown"),
)
CSV_COLUMNS: tuple[tuple[str, str], ...] = (*CATALOGUE.csv_columns(), *PERSON_COLUMNS)
KNOWN_COLUMNS = frozenset(name for name, _ in CSV_COLUMNS)
