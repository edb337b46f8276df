"""State profiles: one origin state's incidents seen whole. Tactics over time, host countries, target categories, how
host states responded, the actors linked to its incidents and its latest incidents, all over the incidents the
caller may read (services/policy.py): an incident another focal point keeps to itself never counts here.

The counts come from the map's aggregation (services/mapping.py, `map_view` with an origin filter), so that a profile
and the map filtered by the same origin always agree; only the linked actors need a query of their own.

Host-state cooperation: the taxonomy's host-state roles are protective, passive, cooperating, complicit and unknown.
The host state *cooperated* when its authorities acted for the origin state, through formal channels (cooperating)
or knowingly (complicit). Unknown is not a fourth kind of "did not cooperate": the share is taken over the incidents
whose role is known, and how many were left out is said beside it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import distinct, func, not_, select

from tnrwatch.domain.countries import country_name, is_country_code
from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.domain.incident import IncidentOut
from tnrwatch.errors import NotFoundError
from tnrwatch.services import mapping
from tnrwatch.services.incidents import FacetValue, IncidentQuery, hidden_incidents, search_incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Actor, Incident, IncidentActor, IncidentOrigin

COOPERATED_ROLES: tuple[str, ...] = ("cooperating", "complicit")
UNKNOWN_ROLE = "unknown"
RECENT_INCIDENTS = 8
PROFILE_FACETS = ("tactic_family", "target_category", "host_state_role")


@dataclass(frozen=True)
class HostCooperation:
    """How the host states responded to one origin's incidents. `roles`: every role of the taxonomy, in its order,
    with its count (zeros included); `cooperated`: incidents coded cooperating or complicit; `known`: incidents
    whose role is not unknown (the share's denominator); `unknown`: the rest."""

    roles: list[FacetValue]
    cooperated: int
    known: int
    unknown: int

    @property
    def share(self) -> float | None:
        """Cooperated over known; None when no incident has a known role."""
        return self.cooperated / self.known if self.known else None


@dataclass(frozen=True)
class LinkedActor:
    id: uuid.UUID
    name: str
    actor_type: str
    actor_type_label: str
    country: str | None
    incidents: int  # readable incidents of this origin that name the actor


@dataclass(frozen=True)
class StateProfile:
    code: str
    name: str
    total: int
    timeline: list[mapping.MonthCount]
    tactic_families: list[FacetValue]
    hosts: list[FacetValue]
    target_categories: list[FacetValue]
    cooperation: HostCooperation
    actors: list[LinkedActor]
    recent: list[IncidentOut]


def origin_states(node: Node, principal: Principal) -> list[FacetValue]:
    """Every origin state with at least one readable incident, most incidents first."""
    return mapping.map_view(node, principal, IncidentFilter()).origins


def state_profile(node: Node, principal: Principal, code: str) -> StateProfile:
    """The profile of the origin state `code` (ISO 3166-1 alpha-2, any case). NotFoundError for a code that names no
    country; a country without readable incidents has a profile with nothing in it."""
    require(principal, "incident:read")
    require(principal, "actor:read")
    code = code.strip().upper()
    if not is_country_code(code):
        raise NotFoundError(
            f"no state has the code {code!r}: a state profile needs an ISO 3166-1 alpha-2 code (UZ, CN)"
        )
    view = mapping.map_view(node, principal, IncidentFilter(origin=[code]), PROFILE_FACETS)
    recent = search_incidents(
        node, principal, IncidentQuery(filter=IncidentFilter(origin=[code]), sort="-date", limit=RECENT_INCIDENTS)
    ).items
    return StateProfile(
        code=code,
        name=country_name(code),
        total=view.total,
        timeline=view.timeline,
        tactic_families=view.facets["tactic_family"],
        hosts=view.hosts,
        target_categories=view.facets["target_category"],
        cooperation=host_cooperation(node, view.facets["host_state_role"]),
        actors=linked_actors(node, principal, code) if view.total else [],
        recent=recent,
    )


def host_cooperation(node: Node, counted: list[FacetValue]) -> HostCooperation:
    """The host-state role counts of a set of incidents, completed with the taxonomy's roles none of them has."""
    by_code = {value.value: value.count for value in counted}
    roles = [FacetValue(term.code, term.label, by_code.get(term.code, 0)) for term in node.taxonomy.host_state_roles]
    unknown = by_code.get(UNKNOWN_ROLE, 0)
    return HostCooperation(
        roles=roles,
        cooperated=sum(by_code.get(role, 0) for role in COOPERATED_ROLES),
        known=sum(by_code.values()) - unknown,
        unknown=unknown,
    )


def linked_actors(node: Node, principal: Principal, code: str) -> list[LinkedActor]:
    """The actors named by readable incidents of origin `code`, with how many such incidents name each, most first."""
    require(principal, "actor:read")
    hidden = hidden_incidents(principal)
    incidents = func.count(distinct(IncidentActor.incident_id))
    statement = (
        select(Actor.uuid, Actor.name, Actor.actor_type, Actor.country, incidents)
        .select_from(IncidentActor)
        .join(Actor, Actor.id == IncidentActor.actor_id)
        .join(IncidentOrigin, IncidentOrigin.incident_id == IncidentActor.incident_id)
        .join(Incident, Incident.id == IncidentActor.incident_id)
        .where(IncidentOrigin.country == code, *([] if hidden is None else [not_(hidden)]))
        .group_by(Actor.id, Actor.uuid, Actor.name, Actor.actor_type, Actor.country)
        .order_by(incidents.desc(), Actor.name)
    )
    types = node.taxonomy.actor_types
    with node.store.reading() as session:
        return [
            LinkedActor(actor_id, name, actor_type, types.label(actor_type), country, int(count))
            for actor_id, name, actor_type, country, count in session.execute(statement)
        ]
