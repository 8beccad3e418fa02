"""Test helper: a seeded stream of written names and dates of birth, hard cases on purpose.

Russian, Belarusian, Ukrainian, Central-Asian and Caucasian names (national forms too: Mykhailo,
Dzmitry, Nurlanuly) in Cyrillic, Georgian and
Armenian script and in every romanisation `tests/unit/identity/schemes.py` renders, in any
order, with patronymics (Slavic and Turkic, attached or as a particle), hyphens, diacritics,
odd case and spacing, Unicode corner cases, and dates in every accepted form and some refused.
"""

# ruff: noqa: RUF001 (Cyrillic, Georgian and Armenian letters are this file's data)

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator

from tests.unit.identity.schemes import SCHEMES, render

GIVEN_M = (
    "Александр Алексей Андрей Дмитрий Евгений Иван Ильич Лев Михаил Николай Пётр Сергей Фёдор "
    "Юрий Ярослав Василий Григорий Тарас Остап Богдан Алесь Янка Зміцер Ілья Нурлан Асқар Ерлан "
    "Жанболат Азамат Бакыт Жамшид Ўткир Фаррух Рахмон Ильгар Гусейн Вахтанг Гиорги Арам Ованес "
    "Тигран Заур Шамиль Хасан Магомед Руслан Кирилл Всеволод Святослав Эдуард Игорь Вячеслав "
    "Михайло Олександр Сергій Дмитро Володимир Євген Микола Аляксандр Дзмітрый Уладзімір Яўген "
    "Сяргей Мікалай Цімафей Станіслаў Якаў Генадзь Темір Үсөн Жүсіп Ысқақ"
).split()
GIVEN_F = (
    "Александра Анастасия Дарья Евгения Екатерина Елена Ирина Ксения Мария Наталья Ольга "
    "Светлана Татьяна Юлия Ярослава Оксана Ганна Святлана Алеся Айгерим Жанар Гульнара Динара "
    "Малика Зарина Нодира Лейла Нино Тамар Анаит Лусине Севиль Фатима Ульяна Виктория Майя "
    "Олена Тетяна Катерина Христина Алена Вольга Таццяна Кацярына Яўгенія Аксана Алёна"
).split()
SURNAMES = (
    "Иванов Петров Смирнов Кузнецов Соболев Голубев Скорякин Хрущёв Горбачёв Щербаков Жуков "
    "Чайковский Навальный Зиновьев Ельцин Цветаев Филиппов Васильев Шевченко Бондаренко Коваленко "
    "Тихановский Лукашенко Мельник Ткачук Олейник Назарбаев Токаев Жапаров Мирзиёев Рахмонов "
    "Алиев Мамедов Гасанов Гоциридзе Саакашвили Пашинян Тер-Петросян Петросян Абишев Касымов "
    "Юлдашев Каримов Бабич Рабинович Карпович Шевченко-Савельев Кассым-Жомарт Ким Цой Ли "
    "Іваноў Максімаў Нұрланұлы Тоқайұлы Жұмабекқызы Серікбайқызы Мұсаұлы Щербаков Кузнєцов"
).split()
FATHERS = "Иван Пётр Сергей Михаил Николай Алексей Ильгар Нурлан Аскар Зафар Карим Бакыт".split()
NATIVE = ("გოცირიძე", "სააკაშვილი", "ᲡᲐᲐᲙᲐᲨᲕᲘᲚᲘ", "ნინო", "Փաշինյան", "ՓԱՇԻՆՅԱՆ", "Տիգրան", "Երևան")
PARTICLES = (
    *("uly", "uulu", "ogly", "oglu", "o'g'li", "kyzy", "qizi", "gyzy", "улы", "оглы", "кызы"),
    *("ұлы", "қызы", "уулу", "qyzy", "ūly", "Kızı"),
)
# Letters whose case folding, normalisation or script is a trap; lone surrogates; joiners.
ODD = (
    *"ß ſ ﬁ ﬀ ŉ և ﬓ İ ı ǰ ẞ Σ ς Ⅻ ² ½ ٣ ꭰ Ꭰ ǅ Ａ ａ ẖ ﬅ 𝐀 😀 𐐀 ꞵ ɐ Ə ə Ł ł Ø æ œ ñ ç ş ğ ž".split(),
    *"š č ŝ â û ΣΑΣ ä ö ü ū ñ ŭ ĺ ґ ї є ў ә ғ қ ң ө ұ ү һ і".split(),
    "\ud800",
    "\udfff",
    "\u0000",
    "\u200d",
)
SPACES = (
    " ",
    "  ",
    "\t",
    "\u00a0",
    "\u2003",
    "\u3000",
    "\x1c",
    "\x85",
    "\ufeff",
    "\u200b",
    " , ",
    "/",
)
COMBINING = ("\u0301", "\u0308", "\u0306", "\u030c", "\u0327", "\u0300")


def _patronymic(rng: random.Random, female: bool) -> str:
    father = rng.choice(FATHERS)
    if rng.random() < 0.3:
        return f"{father} {rng.choice(PARTICLES)}"
    stem = father.rstrip("йь")
    if father.endswith(("й", "ь")):
        return stem + ("евна" if female else "евич")
    return stem + ("овна" if female else "ович")


def _feminine(surname: str) -> str:
    for masculine, feminine in (("ский", "ская"), ("ов", "ова"), ("ев", "ева"), ("ёв", "ёва")):
        if surname.endswith(masculine):
            return surname[: -len(masculine)] + feminine
    return surname + ("а" if surname.endswith("ин") else "")


def _spell(rng: random.Random, text: str) -> str:
    roll = rng.random()
    if roll < 0.25:
        return text
    try:
        return render(text, rng.choice(sorted(SCHEMES)))
    except (KeyError, IndexError):
        return text


def _noise(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.15:
        name = name.upper()
    elif roll < 0.25:
        name = name.lower()
    elif roll < 0.3:
        name = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)
    if rng.random() < 0.2:
        at = rng.randrange(len(name) + 1)
        name = name[:at] + rng.choice(COMBINING + ODD) + name[at:]
    if rng.random() < 0.1:
        name = unicodedata.normalize(rng.choice(("NFD", "NFKC", "NFKD")), name)
    if rng.random() < 0.2:
        name = name.replace(" ", rng.choice(SPACES))
    if rng.random() < 0.1:
        name = rng.choice(SPACES) + name + rng.choice(SPACES)
    if rng.random() < 0.05:
        name = name.replace("-", rng.choice(("\u2010", "\u2013", "\u2014", "--", " - ")))
    return name


def name(rng: random.Random) -> str:
    """One written name."""
    female = rng.random() < 0.5
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    surname = rng.choice(SURNAMES)
    surname = _feminine(surname) if female else surname
    if rng.random() < 0.08:
        surname = f"{surname}-{rng.choice(SURNAMES)}"
    patronymic = _patronymic(rng, female) if rng.random() < 0.45 else ""
    given, surname = _spell(rng, given), _spell(rng, surname)
    patronymic = _spell(rng, patronymic) if patronymic else ""
    if rng.random() < 0.05:
        surname = rng.choice(NATIVE)
    layout = rng.random()
    if layout < 0.4:
        words = [given, patronymic, surname]
    elif layout < 0.7:
        words = [surname, given, patronymic]
    elif layout < 0.9:
        words = [surname + ",", given, patronymic]
    else:
        words = [given[:1] + ".", surname] if rng.random() < 0.5 else [given, surname, given]
    return _noise(rng, " ".join(w for w in words if w))


def bad_name(rng: random.Random) -> str:
    """A name the canonicaliser refuses (or nearly refuses)."""
    return rng.choice(
        (
            "",
            "   ",
            "123 456",
            "V. K.",
            "—",
            "😀 😀",
            "A" * 201,
            "Иван " * 9,
            "Ivan " * 8,
            "٣٤ ٥",
            "Ⅻ",
            "x" * 200,
            "I, V",
            ", , ,",
            "Petrovich",
            "Нурлан уулу",
        )
    )


def dob(rng: random.Random) -> str | None:
    """A date of birth in any accepted form, or one refused."""
    year, month, day = rng.randint(1920, 2025), rng.randint(1, 12), rng.randint(1, 31)
    if rng.random() < 0.1:  # the edges and just past them
        year, month, day = (
            rng.choice((1889, 1890, 2100, 2101)),
            rng.randint(0, 13),
            rng.randint(0, 32),
        )
    forms = (
        f"{year:04d}-{month:02d}-{day:02d}",
        f"{day:02d}.{month:02d}.{year:04d}",
        f"{day}.{month}.{year}",
        f"{year}",
        f"{year:04d}-{month:02d}",
        None,
        "",
        f" {year} ",
        f"\u3000{day:02d}.{month:02d}.{year}\x85",
        f"{day}/{month}/{year}",
        f"{year}-{month}-{day}",
        "unknown",
        "１９９９-０３-１４",
        "١٤.٠٣.١٩٩٩",
        "2000-02-29",
        "1900-02-29",
        f"{year}-{month:02d}-{day:02d}T00:00",
    )
    weights = (30, 20, 8, 10, 5, 8, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 2)
    return rng.choices(forms, weights)[0]


def identities(count: int, seed: int = 9497) -> Iterator[tuple[str, str | None]]:
    """`count` (name, dob) pairs, the same ones for the same seed."""
    rng = random.Random(seed)
    for _ in range(count):
        written = bad_name(rng) if rng.random() < 0.03 else name(rng)
        yield written, dob(rng)
