"""/api/v1/notices: notices under vetting (services/notices.py), for the law-enforcement liaison. A notice is posted
in our field names or Interpol's; lists never carry the subject; reading one notice opens its subject from the vault
and is recorded."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Depends, Query

from tnrwatch.domain.codes import CountryCode
from tnrwatch.domain.notice import DecisionIn, NoticeIn, NoticeOut, NoticeSummary, NoticeType
from tnrwatch.services import notices, screening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.api.deps import api_router, get_node, get_principal, permits

router = api_router("notices")


@router.get(
    "/notices",
    response_model=list[NoticeSummary],
    summary="List notices, newest received first (never their subjects)",
    dependencies=[permits("notice:read")],
)
def list_notices(
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
    decision: Annotated[Literal["none", "proceed", "consult_focal_point", "do_not_act"] | None, Query()] = None,
    requesting_state: Annotated[CountryCode | None, Query()] = None,
    notice_type: Annotated[NoticeType | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[NoticeSummary]:
    return notices.list_notices(
        node,
        principal,
        decision=decision,
        requesting_state=requesting_state,
        notice_type=notice_type,
        limit=limit,
        offset=offset,
    )


@router.post(
    "/notices",
    status_code=201,
    response_model=NoticeOut,
    summary="Enter a notice (Interpol's field names are accepted); its subject is sealed in the vault",
    dependencies=[permits("notice:write")],
)
def create_notice(
    notice: NoticeIn, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> NoticeOut:
    return notices.create_notice(node, principal, notice)


@router.get(
    "/notices/{notice_id}",
    response_model=NoticeOut,
    summary="Read a notice with its subject (the read is recorded in the audit log)",
    dependencies=[permits("notice:read")],
)
def get_notice(
    notice_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> NoticeOut:
    return notices.get_notice(node, principal, notice_id)


@router.post(
    "/notices/{notice_id}/decision",
    response_model=NoticeOut,
    summary="Record the decision on a notice and its reasons (audited)",
    dependencies=[permits("notice:write")],
)
def decide(
    notice_id: uuid.UUID,
    decision: DecisionIn,
    node: Node = Depends(get_node),
    principal: Principal = Depends(get_principal),
) -> NoticeOut:
    return notices.decide(node, principal, notice_id, decision)


@router.get(
    "/notices/{notice_id}/screening",
    response_model=screening.VettingSheet,
    summary="Screen a notice: registry and incident-target matches with explanations, Article 3 red flags, the "
    "recommended action (the vetting sheet; audited, counts only)",
    dependencies=[permits("notice:read")],
)
def screen_notice(
    notice_id: uuid.UUID, node: Node = Depends(get_node), principal: Principal = Depends(get_principal)
) -> screening.VettingSheet:
    return screening.screen_notice(node, principal, notice_id)
