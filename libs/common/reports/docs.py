"""Writes the catalogue's field table into docs/intake.md (`make docs`)."""

from __future__ import annotations

import sys
from pathlib import Path

from libs.common.reports.fields import CATALOGUE, Catalogue

START = "<!-- field table: generated from libs/common/reports/fields.py -->\n"
END = "<!-- end of field table -->"


def with_field_table(text: str, catalogue: Catalogue = CATALOGUE) -> str:
    """`text` with the part between the markers replaced by the catalogue's table."""
    start = text.index(START) + len(START)
    end = text.index(END, start)
    return text[:start] + catalogue.markdown_table() + text[end:]


def main(argv: list[str]) -> None:
    """Rewrite each named Markdown file in place."""
    for name in argv:
        path = Path(name)
        path.write_text(with_field_table(path.read_text()))


if __name__ == "__main__":
    main(sys.argv[1:])
