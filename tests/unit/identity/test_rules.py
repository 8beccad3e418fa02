"""The rule data the Python and TypeScript canonicalisers share, and the browser's Unicode shim.

`python -m tests.unit.identity.test_rules` rewrites the console's `casefold.json` (after a Python
upgrade brings a new Unicode version).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from libs.common.identity import canonical, names, translit
from libs.common.identity.ruledata import DATA

ROOT = Path(__file__).resolve().parents[3]
CASEFOLD = ROOT / "services/console/web/src/identity/casefold.json"


def casefold_exceptions() -> dict[str, str]:
    """Code points whose `str.casefold()` differs from `str.lower()` (JavaScript's toLowerCase)."""
    out = {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if not 0xD800 <= code <= 0xDFFF and char.casefold() != char.lower():
            out[char] = char.casefold()
    return out


def test_the_browser_casefolds_as_python_does() -> None:
    assert json.loads(CASEFOLD.read_text(encoding="utf-8")) == casefold_exceptions()


def test_every_rule_pattern_compiles_and_says_why() -> None:
    for rule in DATA["translit"]["rules"]:
        re.compile(rule["pattern"])
        assert rule["why"]
    # Syntax only one of the two engines reads alike is kept out of the shared patterns.
    patterns = [rule["pattern"] for rule in DATA["translit"]["rules"]]
    patterns += [DATA["names"]["split"], DATA["names"]["hyphens"], DATA["translit"]["marks"]]
    for pattern in patterns:
        assert not re.search(r"\\[dDwWsSbBAZ]|\(\?P|\(\?[aiLmsux]|\\[0-9]", pattern), pattern


def test_the_split_whitespace_is_pythons() -> None:
    spaces = {chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()}
    split = re.compile(f"[{DATA['names']['whitespace']}]")
    assert {chr(c) for c in range(sys.maxunicode + 1) if split.match(chr(c))} == spaces


def test_the_modules_read_the_data() -> None:
    assert canonical.CANONICAL_VERSION == DATA["canonical"]["version"] == 2
    assert translit.RULES[0].pattern == DATA["translit"]["rules"][0]["pattern"]
    assert DATA["names"]["max_name_chars"] == names.MAX_NAME_CHARS


if __name__ == "__main__":
    CASEFOLD.write_text(
        json.dumps(casefold_exceptions(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
