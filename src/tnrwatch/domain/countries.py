"""Countries as ISO 3166-1 alpha-2 codes (pycountry), plus Kosovo's user-assigned XK, which TNR data needs."""

from __future__ import annotations

from functools import cache

import pycountry

EXTRA_COUNTRIES = {"XK": "Kosovo"}


@cache
def country_names() -> dict[str, str]:
    """Alpha-2 code -> English common name, for every country tnrwatch accepts."""
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names.update(EXTRA_COUNTRIES)
    return names


def is_country_code(code: str) -> bool:
    return code in country_names()


def country_name(code: str) -> str:
    return country_names().get(code, code)


def check_country_code(value: str) -> str:
    """Return the upper-cased alpha-2 code, or raise ValueError with a message that says what is expected."""
    code = value.strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (two letters, e.g. DE, TR, CN)")
    if not is_country_code(code):
        raise ValueError(f"{value!r} is not an assigned ISO 3166-1 alpha-2 country code")
    return code


def numeric_codes() -> dict[str, str]:
    """ISO 3166-1 numeric code (three digits, as the Natural Earth shapes name countries) by alpha-2 code."""
    return {c.alpha_2: c.numeric for c in pycountry.countries}
