"""Looking up technical indicators: was this domain (address, URL, file, e-mail address) seen in an incident here?

A lab that finds a spyware domain on a target's phone asks the node before it publishes. The value is read as the
incident coder's input is (domain/indicators.py: defanged forms, IDNA, canonical addresses), so `Example[.]COM`
finds `example.com`; without a kind it is looked up as every kind it can be read as. The answer lists the incidents
the asker may read (services/policy.py), newest first, each with what was recorded about the indicator there; an
incident the asker may not read is not hinted at. One query on the (kind, value) index, whatever the table's size.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from tnrwatch.domain.indicators import INDICATOR_KINDS, indicator_kinds_of, normalise_indicator
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services.incidents import visible_incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Incident, IncidentIndicator

MAX_MATCHES = 500


@dataclass(frozen=True)
class IndicatorMatch:
    """One incident that carries the indicator, and what its coder recorded about it."""

    kind: str
    value: str
    note: str | None
    first_seen: dt.date | None
    last_seen: dt.date | None
    incident_id: uuid.UUID
    incident_title: str
    incident_date_start: dt.date
    incident_date_end: dt.date
    incident_tlp: str
    incident_verification: str


@dataclass(frozen=True)
class IndicatorLookup:
    """What was looked for (each kind the value reads as, in canonical form) and what was found."""

    searched: list[tuple[str, str]]
    matches: list[IndicatorMatch]


def find_indicator(
    node: Node, principal: Principal, value: str, kind: str | None = None, limit: int = 100
) -> IndicatorLookup:
    """The incidents `principal` may read that carry `value` (of `kind`, or of any kind it reads as), newest first,
    at most `limit` (up to `MAX_MATCHES`). InvalidInputError naming `value` or `kind` when it cannot be one."""
    require(principal, "incident:read")
    searched = _searched(value, kind)
    with node.store.reading() as session:
        wanted = or_(*(and_(IncidentIndicator.kind == k, IncidentIndicator.value == v) for k, v in searched))
        rows = session.execute(
            select(
                IncidentIndicator.kind,
                IncidentIndicator.value,
                IncidentIndicator.note,
                IncidentIndicator.first_seen,
                IncidentIndicator.last_seen,
                Incident.uuid,
                Incident.title,
                Incident.date_start,
                Incident.date_end,
                Incident.tlp,
                Incident.verification,
            )
            .join(Incident, Incident.id == IncidentIndicator.incident_id)
            .where(wanted, *visible_incidents(session, principal))
            .order_by(Incident.date_start.desc(), Incident.id.desc(), IncidentIndicator.position)
            .limit(max(1, min(limit, MAX_MATCHES)))
        ).all()
    return IndicatorLookup(searched, [IndicatorMatch(*row) for row in rows])


def _searched(value: str, kind: str | None) -> list[tuple[str, str]]:
    if kind is not None:
        if kind not in INDICATOR_KINDS:
            raise InvalidInputError(
                "unknown indicator kind", [FieldError(("kind",), f"use one of: {', '.join(INDICATOR_KINDS)}")]
            )
        try:
            return [(kind, normalise_indicator(kind, value))]
        except ValueError as exc:
            raise InvalidInputError(
                "the value cannot be an indicator of this kind", [FieldError(("value",), str(exc))]
            ) from None
    searched = indicator_kinds_of(value)
    if not searched:
        raise InvalidInputError(
            "the value is not an indicator",
            [
                FieldError(
                    ("value",),
                    "must be a domain name, an IPv4 or IPv6 address, a web address, a SHA-256 digest or an e-mail "
                    "address",
                )
            ],
        )
    return searched
