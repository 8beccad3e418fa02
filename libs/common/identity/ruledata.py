"""The canonicaliser's rule data: `rules.json`, read here and by the console's TypeScript port.

One file, so the Python canonicaliser and the browser's cannot drift apart (docs/identity.md,
"One set of rules, two implementations").
"""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any, Final

DATA: Final[dict[str, Any]] = json.loads(
    files("libs.common.identity").joinpath("rules.json").read_text(encoding="utf-8")
)
