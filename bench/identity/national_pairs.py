"""Labelled pairs for national name forms: `python -m bench.identity.national_pairs OUT.jsonl`.

Deterministic (seeded): the same file every run. Same person (PX*): a Ukrainian, Belarusian,
Kazakh or Kyrgyz national form against the Russian form, each side in Cyrillic or a Latin
romanisation (KMU 2010, Belarusian passport spelling, Kazakh passport and 2021 Latin, Russian
ICAO/BGN/LoC/English/GOST 7.0.34), same date of birth. Different people (NX*): near misses with
one national given name (another surname, same date), namesakes born on another day, and twins.
Output: the `lifeline identity eval --pairs` JSON lines format. Not committed: generate it.
"""

# ruff: noqa: RUF001 (Cyrillic letters are this file's data, not look-alikes)

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.identity.national_data import (
    BELARUSIAN_SURNAMES,
    FATHERS,
    FEMALE,
    MALE,
    TURKIC_FEMALE,
    TURKIC_MALE,
    UKRAINIAN_SURNAMES,
)
from tests.unit.identity.schemes import render

SEED = 2010
PER_CLASS = 120
RUSSIAN_SCHEMES = ("icao", "bgn", "english", "loc", "gost7034")
_IOTATED = {
    "є": ("ye", "ie"),
    "ї": ("yi", "i"),
    "й": ("y", "i"),
    "ю": ("yu", "iu"),
    "я": ("ya", "ia"),
}
_COMMON = dict(
    zip(
        "абвгґдезжиійклмнопрстуфхцчшщьыэўёʼ'",
        "a b v h g d e z zh y i i k l m n o p r s t u f kh ts ch sh shch - y e u io - -".split(),
        strict=True,
    )
)
_KAZAKH = {
    **_COMMON,
    "г": "g",
    "и": "i",
    "ә": "a",
    "ғ": "g",
    "қ": "k",
    "ң": "n",
    "ө": "o",
    "ұ": "u",
    "ү": "u",
    "һ": "h",
    "е": "e",
    "ю": "yu",
    "я": "ya",
    "й": "i",
}
_KAZAKH_2021 = {
    **_KAZAKH,
    "ә": "ä",
    "ғ": "ğ",
    "қ": "q",
    "ң": "ñ",
    "ө": "ö",
    "ұ": "ū",
    "ү": "ü",
    "ы": "ı",
    "ш": "ş",
    "ч": "ç",
    "ж": "j",
    "х": "h",
    "ю": "iu",
    "я": "ia",
}


def _word(word: str, language: str) -> str:
    """One Cyrillic word in the national Latin spelling of `language`."""
    out, lower = [], word.lower()
    for index, char in enumerate(lower):
        start = index == 0
        if language == "uk" and char in _IOTATED:
            out.append(_IOTATED[char][0 if start else 1])
        elif language == "uk" and char == "г" and index and lower[index - 1] == "з":
            out.append("gh")  # KMU 2010: зг is zgh, apart from зх (zkh)
        elif language == "be" and char in "яеёю" and (start or lower[index - 1] in "аеёіоуыэюяў"):
            out.append({"я": "ya", "е": "ye", "ё": "yo", "ю": "yu"}[char])
        elif language == "be" and char in "яёю":
            out.append({"я": "ia", "ё": "io", "ю": "iu"}[char])
        elif language == "be" and char == "й":
            out.append("" if lower.endswith("ый") and index == len(lower) - 1 else "i")
        elif language in ("kk", "kk2021"):
            out.append((_KAZAKH_2021 if language == "kk2021" else _KAZAKH).get(char, char))
        else:
            out.append(_COMMON.get(char, char).replace("-", ""))
    return "".join(out).capitalize()


def _latin(name: str, language: str) -> str:
    return " ".join(_word(word, language) for word in name.split())


def _spell(rng: random.Random, name: str, language: str) -> str:
    """The name in Cyrillic or a Latin spelling of its language, sometimes upper-case."""
    if rng.random() < 0.4:
        text = name
    elif language == "ru":
        text = render(name, rng.choice(RUSSIAN_SCHEMES))
    elif language == "kk":
        text = _latin(name, rng.choice(("kk", "kk2021")))
    else:
        text = _latin(name, language)
    return text.upper() if rng.random() < 0.15 else text


def _layout(rng: random.Random, given: str, surname: str) -> str:
    return f"{given} {surname}" if rng.random() < 0.6 else f"{surname} {given}"


def _dob(rng: random.Random) -> date:
    return date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))


def _surname(kind: str, family: tuple[Any, ...], female: bool) -> tuple[str, str]:
    """(Russian, national) surname of one family for a man or a woman."""
    if kind != "kk":
        return (family[2], family[3]) if female else (family[0], family[1])
    (russian, father), style = family
    russian += "а" if female else ""
    if style == "kyrgyz":  # Kyrgyz: the father's name and a particle, no other surname
        return russian, f"{father} {'кызы' if female else 'уулу'}"
    if style == "kazakh":
        return russian, father + ("қызы" if female else "ұлы")
    return russian, russian  # the Russian surname kept in the national spelling of the name


def _family(rng: random.Random, kind: str) -> tuple[Any, ...]:
    if kind == "uk":
        return rng.choice(UKRAINIAN_SURNAMES)
    if kind == "be":
        return rng.choice(BELARUSIAN_SURNAMES)
    return rng.choice(FATHERS), rng.choices(("kazakh", "kyrgyz", "russian"), (5, 3, 2))[0]


def _given(rng: random.Random, kind: str, female: bool) -> tuple[str, str]:
    if kind == "kk":
        return rng.choice(TURKIC_FEMALE if female else TURKIC_MALE)
    row = rng.choice(FEMALE if female else MALE)
    return row[0], row[1] if kind == "uk" else row[2]


def _person(rng: random.Random, kind: str, family: tuple[Any, ...] | None = None) -> dict[str, Any]:
    """Someone of `kind` (uk, be, kk), in `family` or a random one."""
    female = rng.random() < 0.5
    family = family if family is not None else _family(rng, kind)
    return {
        "female": female,
        "given": _given(rng, kind, female),
        "family": family,
        "surname": _surname(kind, family, female),
        "language": kind,
    }


def _render(rng: random.Random, person: dict[str, Any], side: int) -> str:
    """Side 0: the Russian form; side 1: the national form."""
    language = "ru" if side == 0 else person["language"]
    given = _spell(rng, person["given"][side], language)
    surname = _spell(rng, person["surname"][side], language)
    return _layout(rng, given, surname)


def _pair(
    pid: str, label: str, same: bool, a: tuple[str, date], b: tuple[str, date]
) -> dict[str, Any]:
    return {
        "id": pid,
        "class": label,
        "same_person": same,
        "a": {"name": a[0], "dob": a[1].isoformat()},
        "b": {"name": b[0], "dob": b[1].isoformat()},
    }


def pairs(seed: int = SEED, per_class: int = PER_CLASS) -> Iterator[dict[str, Any]]:
    """The labelled pairs, the same ones for the same seed."""
    rng = random.Random(seed)
    labels = {"uk": "PX1_ukrainian", "be": "PX2_belarusian", "kk": "PX3_kazakh_kyrgyz"}
    count = 0
    for kind, label in labels.items():
        for _ in range(per_class):
            person, born = _person(rng, kind), _dob(rng)
            count += 1
            a, b = _render(rng, person, 0), _render(rng, person, 1)
            yield _pair(f"nat-{count:05d}", label, True, (a, born), (b, born))
    for _ in range(per_class * 3):
        kind = rng.choice(tuple(labels))
        first, born = _person(rng, kind), _dob(rng)
        roll = rng.random()
        if roll < 0.4:
            # Same given name, another family, same date of birth.
            label, other = "NX1_same_given_other_surname", born
            second = dict(first)
            while (
                second["family"] == first["family"] or second["surname"][0] == first["surname"][0]
            ):
                family = _family(rng, kind)
                second = {**first, "family": family}
                second["surname"] = _surname(kind, family, first["female"])
        elif roll < 0.7:
            # Namesakes: same name, another full date of birth.
            label, second = "NX2_namesake_other_dob", first
            other = born + timedelta(days=rng.choice((1, 2, 30, 31, 365, 366, 400, 3000)))
        else:
            # Twins: same family, same date, another given name (brother and sister too).
            label, other, second = "NX3_twins", born, first
            while second["given"] == first["given"]:
                second = _person(rng, kind, first["family"])
        count += 1
        yield _pair(
            f"nat-{count:05d}",
            label,
            False,
            (_render(rng, first, 0), born),
            (_render(rng, second, rng.choice((0, 1))), other),
        )


def main() -> None:
    """Write the pairs as JSON lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--per-class", type=int, default=PER_CLASS)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as handle:
        for row in pairs(args.seed, args.per_class):
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
