"""/api/v1/indicators: was this domain, address, URL, file hash or e-mail address seen in an incident here?"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Depends, Query
from pydantic import BaseModel

from tnrwatch.domain.indicators import INDICATOR_KINDS, MAX_VALUE_LENGTH
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import indicators
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits

router = api_router("indicators")


class SearchedResponse(BaseModel):
    kind: str
    value: str  # canonical: as stored, and as a STIX pattern carries it


class IndicatorMatchResponse(BaseModel):
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


class IndicatorLookupResponse(BaseModel):
    searched: list[SearchedResponse]
    items: list[IndicatorMatchResponse]


@router.get(
    "/indicators",
    response_model=IndicatorLookupResponse,
    summary="Look up a technical indicator in the incidents you may read",
    dependencies=[permits("incident:read")],
)
def lookup_indicator(
    value: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_VALUE_LENGTH,
            description="A domain name, IP address, web address, SHA-256 digest or e-mail address (defanged forms "
            "such as example[.]com are read too).",
        ),
    ],
    kind: Annotated[
        str | None, Query(description=f"Look for this kind only: {', '.join(INDICATOR_KINDS)}. Default: any.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=indicators.MAX_MATCHES, description="Incidents at most.")] = 100,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> IndicatorLookupResponse:
    try:
        found = indicators.find_indicator(node, principal, value, kind, limit)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, [FieldError(("query", *e.loc), e.msg) for e in exc.errors]) from None
    return IndicatorLookupResponse(
        searched=[SearchedResponse(kind=k, value=v) for k, v in found.searched],
        items=[IndicatorMatchResponse(**vars(match)) for match in found.matches],
    )
