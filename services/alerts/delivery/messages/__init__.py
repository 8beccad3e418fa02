"""Message catalogues: every sentence a lawyer reads in an email or on the ack-link page.

One JSON file per language (`en.json`, `ru.json`), each mapping the same keys to a text with
the same `{placeholders}`; adding a language is adding a file (and its name to `LANGUAGES`).
"""

from __future__ import annotations

import json
import string
from functools import cache
from pathlib import Path
from typing import Any, Final

DEFAULT: Final = "en"
LANGUAGES: Final = ("en", "ru")
_DIR = Path(__file__).parent


@cache
def catalogue(language: str) -> dict[str, str]:
    """The texts of one language, by key (read once)."""
    data = json.loads((_DIR / f"{language}.json").read_text(encoding="utf-8"))
    return {str(k): str(v) for k, v in data.items()}


def language_of(value: str | None) -> str:
    """`value` if it is a language with a catalogue, else the default."""
    return value if value in LANGUAGES else DEFAULT


def text(language: str, key: str, /, **values: Any) -> str:
    """The text of `key` in `language` (the default language's where unknown), filled in."""
    return catalogue(language_of(language))[key].format(**values)


def placeholders(template: str) -> frozenset[str]:
    """The `{names}` a text expects."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def negotiate(accept_language: str | None) -> str:
    """The best language of ours for an `Accept-Language` header (RFC 9110 q-values)."""
    ranked: list[tuple[float, int, str]] = []
    for n, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            # Stable on ties: the header's order decides between equal q-values.
            ranked.append((-quality, n, primary))
    return min(ranked)[2] if ranked else DEFAULT
