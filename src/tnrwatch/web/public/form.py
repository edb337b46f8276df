"""The questions of the report form, in plain words, driven by the taxonomy.

Each tactic family of the taxonomy gets a phrase a reporter recognises without knowing our terms; a test fails when
the taxonomy gains a family without one. Strings are marked with `N_` so that Babel extracts them; the templates
translate them with `_()` when they render.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from babel import Locale

from tnrwatch.domain.countries import country_names
from tnrwatch.services.jurisdictions import JurisdictionOut
from tnrwatch.taxonomy import Taxonomy


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "mark for extraction, translate later")
    return message


FAMILY_PHRASES: dict[str, str] = {
    "physical": N_("Someone was attacked, abducted, detained, disappeared or forced to go back"),
    "legal": N_("Police, courts or Interpol were used: an arrest warrant, red notice, extradition or deportation"),
    "proxy_coercion": N_("Family or friends in the home country were threatened, questioned, detained or punished"),
    "digital": N_("Phones or accounts were hacked or spied on, or there were online attacks or smears"),
    "intimidation": N_("Someone was followed, watched, photographed, threatened or pressured to spy on others"),
    "economic": N_("Money, property, documents or a passport were blocked, taken or refused"),
}
WHO_OPTIONS: tuple[tuple[str, str], ...] = (
    ("self", N_("Me")),
    ("relative", N_("A relative of mine")),
    ("other", N_("Someone else")),
)
WANT_OPTIONS: tuple[tuple[str, str], ...] = (
    ("advice", N_("Advice on what to do")),
    ("protection", N_("Protection for me or others")),
    ("record", N_("Only to have it recorded")),
)


@dataclass(frozen=True)
class AnswerChoices:
    families: tuple[tuple[str, str], ...]
    who: tuple[tuple[str, str], ...] = WHO_OPTIONS
    wants: tuple[tuple[str, str], ...] = WANT_OPTIONS


def answer_choices(taxonomy: Taxonomy) -> AnswerChoices:
    """The tactic families in the taxonomy's order, each with its plain phrase."""
    return AnswerChoices(families=tuple((term.code, FAMILY_PHRASES[term.code]) for term in taxonomy.tactic_families))


@cache
def country_choices(language: str) -> tuple[tuple[str, str], ...]:
    """(code, name in the reader's language) for every country, sorted by that name."""
    territories = Locale.parse(language).territories
    names = {code: territories.get(code, english) for code, english in country_names().items()}
    return tuple(sorted(names.items(), key=lambda item: item[1]))


def jurisdiction_label(jurisdiction: JurisdictionOut, language: str) -> str:
    """A Member State's focal point is named by its country, in the reader's language; other bodies by their name."""
    if jurisdiction.kind == "member_state" and jurisdiction.country:
        name: str = Locale.parse(language).territories.get(jurisdiction.country, jurisdiction.name)
        return name
    return jurisdiction.name
