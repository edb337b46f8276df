"""Country names in many languages -> ISO 3166-1 alpha-2 codes, for imports of foreign datasets.

Foreign tables name countries as they please: "Russia", "Russian Federation", "RUS", "Russie", "Россия". The index
below is built once from pycountry's codes, its English names and its translations (the gettext catalogues of
iso3166-1) in the languages of `LANGUAGES`, plus common aliases that no catalogue holds ("UK", "South Korea",
"Kosovo"). Keys are normalised (case, accents, punctuation, a leading "the"), so "Côte d'Ivoire", "COTE D IVOIRE" and
"Cote d Ivoire" meet.

A name that two countries could claim (e.g. "Korea", "Congo" where the languages disagree) resolves to nothing: an
import should ask its author to say which, not guess.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import pycountry

from tnrwatch.domain.countries import EXTRA_COUNTRIES, is_country_code

LANGUAGES: tuple[str, ...] = (
    "en", "fr", "de", "es", "it", "nl", "pt", "pl", "sv", "ru", "ar", "tr", "zh_CN", "zh_TW", "zh_HK", "fa", "uk",
    # the other official languages of the EU, whose focal points file in them
    "bg", "cs", "da", "el", "et", "fi", "ga", "hr", "hu", "lt", "lv", "mt", "ro", "sk", "sl",
)  # fmt: skip

MAX_NAME_LENGTH = 200

# Names no catalogue holds, or that people use more than the ISO name. Tier 0: they win over any derived name.
ALIASES: dict[str, tuple[str, ...]] = {
    "AE": ("UAE", "Emirates", "U.A.E."),
    "BA": ("Bosnia",),
    "BN": ("Brunei",),
    "BO": ("Bolivia",),
    "BY": ("Byelorussia", "Belorussia", "Белоруссия"),
    "CD": ("DRC", "DR Congo", "Congo-Kinshasa", "Democratic Republic of Congo", "Congo Kinshasa"),
    "CG": ("Congo-Brazzaville", "Republic of Congo", "Congo Brazzaville"),
    "CI": ("Ivory Coast",),
    "CN": ("PRC", "People's Republic of China", "Mainland China", "中国大陆"),
    "CV": ("Cape Verde",),
    "CZ": ("Czech Republic", "Czech Rep."),
    "FM": ("Micronesia",),
    "GB": (
        "UK", "U.K.", "Great Britain", "Britain", "England", "Scotland", "Wales", "Northern Ireland",
        "Royaume-Uni", "Vereinigtes Königreich", "Reino Unido", "Regno Unito", "Großbritannien", "Grande-Bretagne",
    ),
    "HK": ("Hong Kong SAR", "Hong Kong SAR China", "Hong Kong, China", "HKSAR", "香港特別行政區", "香港特别行政区"),
    "IR": ("Iran", "Persia", "ایران"),
    "KP": ("North Korea", "DPRK", "Nordkorea", "Corée du Nord", "Corea del Norte", "Северная Корея", "朝鲜"),
    "KR": ("South Korea", "Republic of Korea", "Südkorea", "Corée du Sud", "Corea del Sur", "Южная Корея", "韩国"),
    "LA": ("Laos",),
    "MD": ("Moldova",),
    "MK": ("Macedonia", "FYROM"),
    "MM": ("Burma",),
    "MO": ("Macau", "Macao SAR"),
    "NL": ("Holland",),
    "PS": ("Palestine", "Occupied Palestinian Territory", "West Bank", "Gaza"),
    "RU": ("Russia", "Россия", "Russland", "Russie", "Rusia", "Rússia", "Rosja", "Ryssland", "Rusya", "Росія", "روسيا"),
    "SY": ("Syria",),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "TR": ("Turkey", "Turkiye", "Türkei", "Turquie", "Turquía", "Turchia", "Turkije", "Turcja", "Турция"),
    "TW": ("Taiwan", "Republic of China", "ROC", "台灣", "台湾"),
    "TZ": ("Tanzania",),
    "US": ("USA", "U.S.", "U.S.A.", "United States of America", "America", "Amerika", "États-Unis", "EEUU",
           "EE. UU.", "Stati Uniti", "Verenigde Staten", "Stany Zjednoczone", "США"),
    "VA": ("Vatican", "Vatican City", "Holy See"),
    "VE": ("Venezuela",),
    "VN": ("Vietnam",),
    "XK": ("Kosovo", "Kosova", "Kosovë", "Republic of Kosovo", "Kosowo", "Kósovo", "Kosovo*", "Косово", "Косова",
           "科索沃", "كوسوفو", "کوزوو"),
}  # fmt: skip

_DROPPED = {"'", "’", "ʼ", ".", "`", "´"}  # marks inside a word: "Côte d'Ivoire" -> "Cote d Ivoire", "U.K." -> "uk"
_SPACES = re.compile(r"\s+")
_PARENTHESES = re.compile(r"\(([^()]*)\)")
_LEADING_ARTICLE = ("the ",)
_SAINT = re.compile(r"\bsaint\b")


def normalize_name(text: str) -> str:
    """A comparison key: case-folded, without accents, marks, punctuation, spaces or a leading "the"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and ").casefold())
    kept: list[str] = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M") or char in _DROPPED:
            continue
        kept.append(" " if category[0] in "PSZC" else char)
    key = _SPACES.sub(" ", "".join(kept)).strip()
    for article in _LEADING_ARTICLE:
        key = key.removeprefix(article)
    # Without spaces, "Cote d'Ivoire", "Cote d Ivoire" and "Cote dIvoire" meet.
    return _SAINT.sub("st", key).replace(" ", "")


def _variants(name: str) -> Iterable[str]:
    """Shorter forms of an official name: the part before a comma ("Iran, Islamic Republic of" -> "Iran"), and the
    name without or only within parentheses ("Holy See (Vatican City State)")."""
    if "," in name or "،" in name:
        yield re.split("[,،]", name, maxsplit=1)[0]
    if "(" in name:
        yield _PARENTHESES.sub(" ", name)
        yield from _PARENTHESES.findall(name)


class _Index:
    """Keys by tier: a key first set at a lower tier is never overridden; a key claimed by two countries within
    its tier is ambiguous and resolves to nothing."""

    def __init__(self) -> None:
        self.codes: dict[str, str | None] = {}
        self.tiers: dict[str, int] = {}

    def add(self, name: str, code: str, tier: int) -> None:
        key = normalize_name(name)
        if not key:
            return
        if key not in self.codes:
            self.codes[key], self.tiers[key] = code, tier
        elif self.tiers[key] == tier and self.codes[key] != code:
            self.codes[key] = None


def _translations(language: str) -> gettext.NullTranslations:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
    except OSError:  # a language pycountry no longer ships: its names are simply not indexed
        return gettext.NullTranslations()


@cache
def _index() -> dict[str, str]:
    index = _Index()
    countries = list(pycountry.countries)
    for country in countries:
        index.add(country.alpha_2, country.alpha_2, 0)
        index.add(country.alpha_3, country.alpha_2, 0)
    for code, aliases in ALIASES.items():
        for alias in aliases:
            index.add(alias, code, 0)
    for code, name in EXTRA_COUNTRIES.items():
        index.add(code, code, 0)
        index.add(name, code, 0)
    catalogues = [_translations(language) for language in LANGUAGES]
    names = [
        (
            country.alpha_2,
            [
                n
                for n in (country.name, getattr(country, "official_name", None), getattr(country, "common_name", None))
                if n
            ],
        )
        for country in countries
    ]
    for code, english in names:
        for catalogue in catalogues:
            for name in english:
                index.add(catalogue.gettext(name), code, 1)
    for code, english in names:
        for catalogue in catalogues:
            for name in english:
                for variant in _variants(catalogue.gettext(name)):
                    index.add(variant, code, 2)
    return {key: code for key, code in index.codes.items() if code is not None}


def resolve_country(text: str) -> str | None:
    """The alpha-2 code of the country `text` names (a code, or a name in one of `LANGUAGES`); `None` when unknown
    or ambiguous. Never raises on any string."""
    if not text or len(text) > MAX_NAME_LENGTH:
        return None
    index = _index()
    candidates = [text, *_variants(text)] if "(" in text else [text]
    for candidate in candidates:
        code = index.get(normalize_name(candidate))
        if code is not None and is_country_code(code):
            return code
    return None
