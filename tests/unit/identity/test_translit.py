"""Spelling folding: real-world spellings of one name fold alike, different names do not."""

# ruff: noqa: RUF001 (Cyrillic letters are this file's data, not look-alikes)

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.identity.translit import RULES, fold_word, fold_word_alternative
from tests.unit.identity.schemes import SCHEMES, render


def _readings(word: str) -> set[str]:
    return {fold_word(word)} | ({alt} if (alt := fold_word_alternative(word)) else set())


# Each row: spellings of one name word seen in passports, press, registries and chats.
SAME_WORD = [
    # Russian, across ICAO, BGN/PCGN, GOST, ISO 9, scientific, German and French press
    ["Скорякин", "Skoryakin", "Skoriakin", "Skorjakin", "Skoriakine", "SKORIAKIN"],
    ["Юлия", "Yuliya", "Iuliia", "Julija", "Ioulia", "Yulia", "Julia", "Ûliâ"],
    ["Лев", "Lev", "Lew", "LEV"],
    ["Хрущёв", "Khrushchev", "Khrushchyov", "Chruschtschow", "Khrouchtchev", "Hruŝëv"],
    ["Жуков", "Zhukov", "Žukov", "Joukov", "Schukow", "Jukov", "Zhoukov"],
    ["Щербаков", "Shcherbakov", "Ščerbakov", "Schtscherbakow", "Chtcherbakov", "Shherbakov"],
    ["Чайковский", "Chaykovsky", "Tchaïkovski", "Tschaikowski", "Čajkovskij", "Chaikovskii"],
    ["Фёдор", "Fyodor", "Fedor", "Fjodor", "Fëdor", "Fiodor"],
    ["Наталья", "Natalya", "Natalia", "Nataliya", "Natal'ja", "Natalʹja", "Natalja", "Natal’ya"],
    ["Ксения", "Kseniya", "Ksenia", "Xenia", "Ksenija"],
    ["Михаил", "Mikhail", "Michail", "Mixail", "Mihail", "Mikhaïl"],
    ["Евгений", "Yevgeny", "Evgueni", "Jewgeni", "Evgenij", "Evgenii", "Yevgeniy"],
    ["Сергей", "Sergey", "Sergueï", "Sergej", "Sergei", "SERGEY"],
    ["Путин", "Putin", "Poutine"],
    ["Навальный", "Navalny", "Nawalny", "Navalnyj", "Navalnyi", "Navalnyy", "Naval'nyj"],
    ["Зиновьев", "Zinovyev", "Sinowjew", "Zinoviev", "Zinov'ev", "Zinovʹev"],
    ["Ельцин", "Yeltsin", "Jelzin", "Eltsine", "Elcin", "El'tsin", "Eltcin"],
    ["Горбачёв", "Gorbachev", "Gorbatschow", "Gorbatchev", "Gorbačëv", "Gorbachyov"],
    ["Цветаева", "Tsvetaeva", "Zwetajewa", "Tsvetaïeva", "Cvetaeva", "Tcvetaeva"],
    # Central Asia (constructed for this table)
    ["Назарбаев", "Nazarbayev", "Nazarbaev", "Nasarbajew", "Nazarbaïev"],
    ["Мирзиёев", "Mirziyoyev", "Mirzijojev", "Mirziyoev"],
    ["Джамшид", "Dzhamshid", "Jamshid", "Djamchid", "Dschamschid", "Džamšid"],
    ["Токаев", "Tokayev", "Toqaev", "Tokaev", "Tokajew"],
    ["Жапаров", "Zhaparov", "Japarov", "Žaparov", "Schaparow"],
    ["Рахмон", "Rahmon", "Rakhmon", "Rachmon", "Raxmon"],
    ["Ўткир", "O'tkir", "Utkir"],
    ["Қасым", "Qasym", "Kasym", "Kassym"],
    ["Жанболат", "Zhanbolat", "Janbolat", "Žanbolat", "Dzhanbolat"],
    # Caucasus (constructed)
    ["Гоциридзе", "Gotsiridze", "Gociridze", "Gotciridze", "Goziridse", "გოცირიძე"],
    ["Саакашвили", "Saakashvili", "Saakaschwili", "სააკაშვილი", "ᲡᲐᲐᲙᲐᲨᲕᲘᲚᲘ"],
    ["Тер-Петросян", "Ter-Petrosyan", "Ter-Petrosian", "Ter-Petrossjan", "Տեր-Պետրոսյան"],
    ["Пашинян", "Pashinyan", "Pashinian", "Paschinjan", "Փաշինյան", "ՓԱՇԻՆՅԱՆ"],
    ["Гусейн", "Huseyn", "Guseyn", "Gusejn", "Hüseyn", "Husseïn"],
    ["Алиев", "Aliyev", "Aliev", "Əliyev", "Alijew"],
    ["Гейдар", "Heydar", "Geydar", "Gejdar", "Heidar"],
    ["Хангошвили", "Khangoshvili", "Changoschwili", "Xangoshvili", "Hangošvili"],
    # Belarus (Belarusian forms, constructed)
    ["Ціханоўская", "Tsikhanouskaya", "Cichanoŭskaja", "Tsikhanouskaia", "Tsichanouskaja"],
    ["Лукашэнка", "Lukashenka", "Lukašenka", "Lukaschenka"],
    ["Аляксандр", "Aliaksandr", "Aljaksandr", "Alyaksandr", "Aliaxandr"],
    ["Зміцер", "Zmitser", "Źmicier", "Zmicier"],
]

# Pairs that must stay apart: different names, however close.
DIFFERENT_WORDS = [
    ("Александр", "Александра"),
    ("Valentin", "Valentina"),
    ("Evgeniy", "Evgeniya"),
    ("Vasiliy", "Vasilisa"),
    ("Yaroslav", "Yaroslava"),
    ("Egor", "Igor"),
    ("Yana", "Anna"),
    ("Ivan", "Yan"),
    ("Mariya", "Marina"),
    ("Yuliya", "Yulian"),
    ("Golubev", "Golubeva"),
    ("Fomin", "Fomina"),
]


@pytest.mark.parametrize("spellings", SAME_WORD, ids=lambda row: row[1])
def test_spellings_of_one_name_fold_alike(spellings: list[str]) -> None:
    reference = fold_word(spellings[0])
    for spelling in spellings[1:]:
        assert reference in _readings(spelling), spelling


@pytest.mark.parametrize(("first", "second"), DIFFERENT_WORDS)
def test_different_names_stay_apart(first: str, second: str) -> None:
    assert _readings(first).isdisjoint(_readings(second))


CYRILLIC_NAMES = [
    "Лев Скорякин", "Юлия Навальная", "Михаил Ходорковский", "Фёдор Достоевский",
    "Пётр Щербаков", "Наталья Ильина", "Дарья Жукова", "Евгений Пригожин", "Ксения Собчак",
    "Илья Яшин", "Владимир Кара-Мурза", "Татьяна Воробьёва", "Майя Плисецкая", "Яков Цветков",
    "Эдуард Лимонов", "Юрий Дмитриев", "Андрей Сахаров", "Елена Зайцева", "Ульяна Мальцева",
    "Людмила Алексеева", "Григорий Явлинский", "Артём Кригер", "Ян Рачинский",
    "Георгий Гоциридзе", "Левон Тер-Петросян", "Ашот Манукян", "Гасан Гусейнов",
    "Ильхам Алиев", "Рамзан Кадыров", "Зелимхан Хангошвили", "Вахтанг Кикабидзе",
    "Нурсултан Назарбаев", "Айгерим Касымова", "Бахтияр Юлдашев", "Шавкат Мирзиёев",
    "Джамшид Рахимов", "Гульнара Каримова", "Садыр Жапаров", "Эмомали Рахмон",
    "Зарина Хусейнова", "Азамат Жумабеков", "Касым-Жомарт Токаев", "Святлана Ціханоўская",
    "Аляксандр Лукашэнка", "Зміцер Дашкевіч", "Алесь Бяляцкі", "Марыя Калеснікава",
    "Ігар Лосік", "Надежда Толоконникова", "Соловьёв Владимир", "Ильин Аркадий",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CYRILLIC_NAMES), st.sampled_from(sorted(SCHEMES)))
def test_every_romanisation_system_folds_to_the_cyrillic_form(name: str, scheme: str) -> None:
    rendered = render(name, scheme)
    for original, romanised in zip(name.split(), rendered.split(), strict=True):
        assert fold_word(original) in _readings(romanised), (scheme, rendered)


@given(st.text(max_size=40))
def test_folding_never_fails_and_uses_a_small_alphabet(text: str) -> None:
    folded = fold_word(text)
    assert set(folded) <= set("abdefiklmnoprtuvHS")


def test_every_rule_says_why() -> None:
    assert all(rule.why for rule in RULES)


PURE_MODULES = ["translit", "names", "dates", "fuzzy", "canonical", "match"]
ALLOWED_IMPORTS = {"__future__", "re", "unicodedata", "dataclasses", "functools", "typing"}
ALLOWED_IMPORTS |= {"enum", "collections", "collections.abc", "datetime"}


@pytest.mark.parametrize("module", PURE_MODULES)
def test_canonicaliser_and_matcher_import_no_framework_or_io(module: str) -> None:
    source = Path(__file__).parents[3] / "libs" / "common" / "identity" / f"{module}.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name in ALLOWED_IMPORTS or name.startswith(
                ("libs.common.identity.", "libs.common.errors")
            ), f"{module} imports {name}"
