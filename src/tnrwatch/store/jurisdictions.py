"""The jurisdictions every node starts with: the focal points of the 27 Member States and three EU bodies.

The list is frozen into migration 0002 when it runs; later changes go through `tnrwatch jurisdictions add`.
"""

from __future__ import annotations

MEMBER_STATES: tuple[tuple[str, str], ...] = (
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("HR", "Croatia"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("GR", "Greece"),
    ("HU", "Hungary"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("LV", "Latvia"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("MT", "Malta"),
    ("NL", "Netherlands"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("SK", "Slovakia"),
    ("SI", "Slovenia"),
    ("ES", "Spain"),
    ("SE", "Sweden"),
)
EU_BODIES: tuple[tuple[str, str], ...] = (
    ("EU-EEAS", "European External Action Service"),
    ("EU-COM", "European Commission"),
    ("EU-EUROPOL", "Europol"),
)


def initial_jurisdictions() -> list[dict[str, str | None]]:
    rows: list[dict[str, str | None]] = [
        {"code": code, "name": f"{name} focal point", "kind": "member_state", "country": code}
        for code, name in MEMBER_STATES
    ]
    rows += [{"code": code, "name": name, "kind": "eu_body", "country": None} for code, name in EU_BODIES]
    return rows
