"""`lifeline admin enrol` draws the enrolment link as a QR code: the drawing is the link's code."""

from __future__ import annotations

import segno

from lifeline.cli.admin_enrol import qr_text

LINK = "https://console.example/enrol#code=" + "Ab0_-" * 8 + "xyz"
BORDER = 2
LIGHT_TOP, LIGHT_BOTTOM = "█▀", "█▄"  # block characters light the terminal's dark background


def _dark_modules(text: str) -> list[list[bool]]:
    """The module grid back from the drawing: two rows per line, a block is a light module."""
    rows: list[list[bool]] = []
    for line in text.splitlines():
        rows.append([c not in LIGHT_TOP for c in line])
        rows.append([c not in LIGHT_BOTTOM for c in line])
    return rows


def test_the_drawn_code_is_the_links_qr_code_with_a_quiet_zone() -> None:
    code = segno.make(LINK, error="m")
    size = code.symbol_size(border=0)[0]
    drawn = _dark_modules(qr_text(LINK))
    inner = [row[BORDER : BORDER + size] for row in drawn[BORDER : BORDER + size]]
    assert inner == [[bool(m) for m in row] for row in code.matrix]
    # The quiet zone (the border) is light all round, so a camera finds the code.
    assert not any(drawn[0]) and not any(drawn[1]) and not any(r[0] for r in drawn[: size + 4])


def test_another_link_draws_another_code() -> None:
    assert qr_text(LINK) != qr_text(LINK.replace("Ab0", "Ab1"))
