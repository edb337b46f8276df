"""Jurisdictions: who receives reports, and which of them can receive one now (have an active recipient key)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from tnrwatch.domain.countries import is_country_code
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Jurisdiction, RecipientKey

KINDS = ("member_state", "eu_body", "ngo")
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")


@dataclass(frozen=True)
class JurisdictionOut:
    code: str
    name: str
    kind: str
    country: str | None
    active_keys: int
    retention_days: int | None = None  # days after a case closes before its raw report is shredded; None: kept

    @property
    def can_receive(self) -> bool:
        return self.active_keys > 0


def list_jurisdictions(node: Node) -> list[JurisdictionOut]:
    with node.store.reading() as session:
        counts: dict[str, int] = dict(
            session.execute(
                select(RecipientKey.jurisdiction_code, func.count())
                .where(RecipientKey.status == "active")
                .group_by(RecipientKey.jurisdiction_code)
            ).all()
        )
        rows = session.scalars(select(Jurisdiction).order_by(Jurisdiction.kind, Jurisdiction.name)).all()
        return [
            JurisdictionOut(j.code, j.name, j.kind, j.country, counts.get(j.code, 0), j.retention_days) for j in rows
        ]


def get_jurisdiction(node: Node, code: str) -> JurisdictionOut:
    with node.store.reading() as session:
        found = session.get(Jurisdiction, code)
        if found is not None:
            active = session.scalar(
                select(func.count()).where(RecipientKey.jurisdiction_code == code, RecipientKey.status == "active")
            )
            return JurisdictionOut(found.code, found.name, found.kind, found.country, active or 0, found.retention_days)
    raise NotFoundError(f"no jurisdiction {code!r}; `tnrwatch jurisdictions list` shows them")


def suggest_for_host(jurisdictions: list[JurisdictionOut], host_country: str | None) -> JurisdictionOut | None:
    """The focal point of the country where the incident happened, when it can receive reports."""
    for jurisdiction in jurisdictions:
        if host_country and jurisdiction.country == host_country and jurisdiction.can_receive:
            return jurisdiction
    return None


def add_jurisdiction(
    node: Node, principal: Principal, code: str, name: str, kind: str, country: str | None = None
) -> JurisdictionOut:
    errors = []
    if not CODE_PATTERN.match(code):
        errors.append(FieldError(("code",), "use 2-16 upper-case letters, digits or '-', e.g. NGO-SAFEHAVEN"))
    if not name.strip() or len(name) > 120:
        errors.append(FieldError(("name",), "give a name of 1-120 characters"))
    if kind not in KINDS:
        errors.append(FieldError(("kind",), f"unknown kind {kind!r}; valid kinds: {', '.join(KINDS)}"))
    if country is not None and not is_country_code(country):
        errors.append(FieldError(("country",), f"{country!r} is not an ISO 3166 alpha-2 country code"))
    if errors:
        raise InvalidInputError("the jurisdiction is invalid", errors)
    with node.store.writing() as session:
        if session.get(Jurisdiction, code) is not None:
            raise ConflictError(f"a jurisdiction {code!r} already exists")
        session.add(Jurisdiction(code=code, name=name.strip(), kind=kind, country=country))
        record_change(session, principal, "create", "jurisdiction", fields=["code", "name", "kind"], note=code)
    return JurisdictionOut(code, name.strip(), kind, country, 0)
