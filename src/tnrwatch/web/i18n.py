"""Languages of the public pages: gettext catalogues (Babel), chosen on the page, remembered without identifying.

Catalogues live in `web/translations/<lang>/LC_MESSAGES/messages.po` and are compiled in memory when first used, so
the tree holds no binary `.mo` files. `scripts/i18n.sh` extracts the strings and updates the catalogues.
Machine-made translations carry the translator comment `machine translation: review` until a person checks them.

The reader picks a language with the switcher (`?lang=ar`); it is remembered in the cookie `tnr_lang`, whose value is
only the language code, the same for everyone who reads that language, so it identifies nobody. Without it, the
browser's Accept-Language decides.
"""

from __future__ import annotations

import contextvars
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from starlette.requests import Request

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGE_COOKIE = "tnr_lang"


@dataclass(frozen=True)
class Language:
    code: str
    name: str  # in the language itself
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en", "English"),
        Language("fr", "Français"),
        Language("de", "Deutsch"),
        Language("ru", "Русский"),
        Language("zh", "中文"),
        Language("ar", "العربية", rtl=True),
        Language("fa", "فارسی", rtl=True),
        Language("tr", "Türkçe"),
    )
}
DEFAULT = "en"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("tnrwatch_language", default=DEFAULT)


@cache
def translations(code: str) -> NullTranslations:
    path = TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po"
    if code == DEFAULT or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def choose(request: Request) -> tuple[Language, bool]:
    """The request's language, and whether the reader chose it just now (so the cookie should be set)."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return LANGUAGES[asked], True
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    if remembered in LANGUAGES:
        return LANGUAGES[remembered], False
    for code in _accepted(request.headers.get("accept-language", "")):
        if code in LANGUAGES:
            return LANGUAGES[code], False
    return LANGUAGES[DEFAULT], False


def _accepted(header: str) -> list[str]:
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [code for _, _, code in sorted(weighted)]


def activate(language: Language) -> None:
    _current.set(language.code)
