"""Screening notices: match a notice's subject against what the node knows, evaluate the Article 3 red flags, and
recommend an action. The answer is a vetting sheet; nothing of it is stored (screening is fast and is run again on
demand), and the audit log records each screening with its counts only.

What is matched, and who sees what:

- **the protected-persons registry** (services/registry.py): every entry, opened into memory. The sheet names an
  entry by pseudonym, category, origin state and focal point, with the match's explanation (which features agreed
  or contradicted, the score), never its names: the liaison learns "protected, contact focal point X".
- **incident targets**: persons linked to coded incidents whose origin includes the requesting state. Their
  identities are in the vault and the liaison has no `person:identity` permission: the screening runs as a node
  process, compares the identities in memory and reports only "a target (or relative) of incident X matches", the
  score and the explanation. The incident is named by id when the liaison may read it (services/policy.py
  `read_scope`), otherwise only as "an incident of jurisdiction J", so that its focal point can be asked.
- **earlier refusals**: subjects of other notices on this node decided `do_not_act`.
- **the requesting state's record**: its notices on this node, how many were decided and how many `do_not_act`, and
  the incidents with that origin.

The red-flag rules are data (taxonomy/v1/red_flags.yaml, taxonomy/red_flags.py). `screen_all` builds the matchers
once for the whole batch.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from tnrwatch.domain import names
from tnrwatch.domain.notice import NoticeOut, NoticeSubject, OtherName, PartialDate, ProtectedIdentity
from tnrwatch.domain.person import PersonIdentity
from tnrwatch.errors import NotFoundError
from tnrwatch.services import notices as notice_service
from tnrwatch.services.changes import record_access
from tnrwatch.services.node import Node
from tnrwatch.services.persons import open_identity
from tnrwatch.services.policy import Principal, read_scope, require
from tnrwatch.services.registry import open_registry
from tnrwatch.store.models import Incident, IncidentOrigin, IncidentPerson, Notice, Person
from tnrwatch.store.models import PersonIdentity as PersonIdentityRow
from tnrwatch.store.types import utcnow
from tnrwatch.taxonomy.red_flags import (
    Action,
    Charge,
    Facts,
    IncidentMatch,
    ProtectedMatch,
    RedFlagRules,
    StateRecord,
    default_red_flags,
    evaluate,
    recommend,
)

MAX_MATCHES = 20  # per source on one sheet: more would be noise, and the best come first


# -- the vetting sheet -----------------------------------------------------------------------------------------------


class FeatureOut(BaseModel):
    """One line of a match's explanation: a feature, whether it agreed or contradicted, its weight in log-odds."""

    model_config = ConfigDict(frozen=True)

    name: str
    outcome: str
    weight: float
    detail: str


class RegistryMatchOut(BaseModel):
    """A registry entry the subject may be: by pseudonym, never by name."""

    model_config = ConfigDict(frozen=True)

    pseudonym: str
    category: str
    origin_state: str | None
    focal_point: str | None
    from_requesting_state: bool
    score: float
    explanation: list[FeatureOut]


class IncidentMatchOut(BaseModel):
    """A person linked to an incident of the requesting state whom the subject may be: no identity, no pseudonym.
    `incident_id` only when the reader may read the incident; `owner` is its jurisdiction (None: the node's own)."""

    model_config = ConfigDict(frozen=True)

    incident_id: uuid.UUID | None
    owner: str | None
    role: str
    incident_date: dt.date
    score: float
    explanation: list[FeatureOut]


class StateRecordOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    requesting_state: str
    notices: int
    decided: int
    do_not_act: int
    abusive_share: float | None
    incidents: int


class SourceOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    note: str


class RedFlagOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    severity: str
    weight: float
    explanation: str
    evidence: list[str]
    sources: list[SourceOut]


class VettingSheet(BaseModel):
    """Everything the liaison needs to decide on a notice: the notice, the matches with their explanations, the red
    flags with their sources, and the recommended action with its reasons."""

    model_config = ConfigDict(frozen=True)

    notice: NoticeOut
    registry_matches: list[RegistryMatchOut]
    incident_matches: list[IncidentMatchOut]
    prior_refusals: int
    state_record: StateRecordOut
    red_flags: list[RedFlagOut]
    recommended_action: Action
    flag_weight: float
    reasons: list[str]
    match_threshold: float
    rules_version: str
    screened_at: dt.datetime


# -- subjects --------------------------------------------------------------------------------------------------------


def _names(main: str, others: Iterable[OtherName]) -> tuple[str, ...]:
    return (main, *(other.name for other in others if other.name != main))


def _date(date: PartialDate | None) -> tuple[dt.date | None, names.Precision]:
    return (date.earliest(), date.precision) if date is not None else (None, "day")


def notice_subject(subject: NoticeSubject) -> names.Subject:
    main = " ".join(part for part in (subject.forename, subject.name) if part)
    date, precision = _date(subject.date_of_birth)
    return names.Subject(
        names=_names(main, subject.other_names),
        date_of_birth=date,
        dob_precision=precision,
        nationalities=frozenset(subject.nationalities),
        sex=None if subject.sex == "U" else subject.sex,
    )


def registry_subject(identity: ProtectedIdentity) -> names.Subject:
    date, precision = _date(identity.date_of_birth)
    return names.Subject(
        names=_names(identity.full_name, identity.other_names),
        date_of_birth=date,
        dob_precision=precision,
        nationalities=frozenset(identity.nationalities),
        sex=None if identity.sex == "U" else identity.sex,
    )


def person_subject(identity: PersonIdentity) -> names.Subject:
    return names.Subject(
        names=(identity.full_name, *(n for n in identity.other_names if n != identity.full_name)),
        date_of_birth=identity.date_of_birth,
        nationalities=frozenset(identity.nationalities),
    )


def _explanation(match: names.Match) -> list[FeatureOut]:
    return [
        FeatureOut(name=f.name, outcome=f.outcome, weight=round(f.weight, 3), detail=f.detail)
        for f in match.explanation
    ]


# -- the batch: matchers built once ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _RegistryMeta:
    pseudonym: str
    category: str
    origin_state: str | None
    focal_point: str | None


@dataclass(frozen=True)
class _Link:
    incident_id: uuid.UUID
    owner: str | None
    readable: bool
    role: str
    date: dt.date
    origins: frozenset[str]


@dataclass
class _Screener:
    node: Node
    principal: Principal
    rules: RedFlagRules
    registry: names.Matcher = field(default_factory=names.Matcher)
    registry_meta: dict[str, _RegistryMeta] = field(default_factory=dict)
    persons: names.Matcher = field(default_factory=names.Matcher)
    person_links: dict[str, list[_Link]] = field(default_factory=dict)
    refused: names.Matcher = field(default_factory=names.Matcher)
    states: dict[str, StateRecord] = field(default_factory=dict)

    @classmethod
    def build(cls, node: Node, principal: Principal, session: Session) -> _Screener:
        screener = cls(node, principal, default_red_flags())
        for entry in open_registry(node, session):
            key = str(entry.id)
            screener.registry.add(key, registry_subject(entry.identity))
            screener.registry_meta[key] = _RegistryMeta(
                entry.pseudonym, entry.category, entry.origin_state, entry.focal_point
            )
        screener._add_incident_persons(session)
        for row in session.scalars(select(Notice).where(Notice.decision == "do_not_act")):
            screener.refused.add(str(row.uuid), notice_subject(notice_service.open_subject(node, row)))
        screener.states = _state_records(session)
        # The registry and the persons' identities were opened in memory for this batch: one entry each, with counts.
        record_access(session, principal, "screen", "protected_person", note=f"{len(screener.registry)} compared")
        record_access(session, principal, "screen", "person", note=f"{len(screener.persons)} compared")
        return screener

    def _add_incident_persons(self, session: Session) -> None:
        scope = read_scope(self.principal)
        origins: defaultdict[int, set[str]] = defaultdict(set)
        for incident_id, country in session.execute(select(IncidentOrigin.incident_id, IncidentOrigin.country)):
            origins[incident_id].add(country)
        links = session.execute(
            select(Person.id, Person.uuid, IncidentPerson.role, Incident)
            .join(IncidentPerson, IncidentPerson.person_id == Person.id)
            .join(Incident, Incident.id == IncidentPerson.incident_id)
            .join(PersonIdentityRow, PersonIdentityRow.person_id == Person.id)
            .order_by(Person.id)
        ).all()
        identities = (
            {
                row.person_id: row
                for row in session.scalars(
                    select(PersonIdentityRow).where(PersonIdentityRow.person_id.in_({link[0] for link in links}))
                )
            }
            if links
            else {}
        )
        for person_id, person_uuid, role, incident in links:
            key = str(person_id)
            if key not in self.person_links:
                self.persons.add(key, person_subject(open_identity(self.node, person_uuid, identities[person_id])))
                self.person_links[key] = []
            self.person_links[key].append(
                _Link(
                    incident_id=incident.uuid,
                    owner=incident.jurisdiction_code,
                    readable=scope.admits(incident.jurisdiction_code, incident.tlp, incident.shared_with_eu),
                    role=role,
                    date=incident.date_start,
                    origins=frozenset(origins.get(incident.id, ())),
                )
            )

    def sheet(self, session: Session, row: Notice) -> VettingSheet:
        subject = notice_service.open_subject(self.node, row)
        query = notice_subject(subject)
        state = row.requesting_state
        registry_matches = [
            self._registry_match(candidate, state) for candidate in self.registry.screen(query)[:MAX_MATCHES]
        ]
        incident_matches = self._incident_matches(query, state)
        prior = sum(1 for c in self.refused.screen(query) if c.key != str(row.uuid))
        record = self.states.get(state, StateRecord(0, 0, 0, 0))
        facts = Facts(
            requesting_state=state,
            charges=[Charge(w.charge, w.charge_translation, w.legal_provision) for w in row.warrants],
            issued=row.issued,
            registry=[ProtectedMatch(m.pseudonym, m.category, m.from_requesting_state) for m in registry_matches],
            incidents=[
                IncidentMatch(
                    f"incident {m.incident_id}" if m.incident_id else f"an incident of {m.owner or 'this node'}",
                    m.role,
                    m.incident_date,
                )
                for m in incident_matches
            ],
            prior_refusals=prior,
            state=record,
        )
        flags = evaluate(self.rules, facts)
        advice = recommend(self.rules, flags, matched=bool(registry_matches or incident_matches))
        note = (
            f"registry {len(registry_matches)}, incidents {len(incident_matches)}, flags {len(flags)}, {advice.action}"
        )
        record_access(session, self.principal, "screen", "notice", row.uuid, note=note)
        return VettingSheet(
            notice=notice_service.notice_out(row, subject),
            registry_matches=registry_matches,
            incident_matches=incident_matches,
            prior_refusals=prior,
            state_record=StateRecordOut(
                requesting_state=state,
                notices=record.notices,
                decided=record.decided,
                do_not_act=record.do_not_act,
                abusive_share=record.abusive_share,
                incidents=record.incidents,
            ),
            red_flags=[
                RedFlagOut(
                    id=flag.rule.id,
                    title=flag.rule.title,
                    severity=flag.rule.severity,
                    weight=flag.rule.weight,
                    explanation=flag.rule.explanation,
                    evidence=list(flag.evidence),
                    sources=[
                        SourceOut(id=s, title=self.rules.sources[s].title, note=self.rules.sources[s].note)
                        for s in flag.rule.sources
                    ],
                )
                for flag in flags
            ],
            recommended_action=advice.action,
            flag_weight=advice.weight,
            reasons=list(advice.reasons),
            match_threshold=names.THRESHOLD,
            rules_version=self.rules.version,
            screened_at=utcnow(),
        )

    def _registry_match(self, candidate: names.Candidate, state: str) -> RegistryMatchOut:
        meta = self.registry_meta[candidate.key]
        return RegistryMatchOut(
            pseudonym=meta.pseudonym,
            category=meta.category,
            origin_state=meta.origin_state,
            focal_point=meta.focal_point,
            # An entry protected from no state named is taken as protected from whoever asks.
            from_requesting_state=meta.origin_state in (None, state),
            score=round(candidate.score, 4),
            explanation=_explanation(candidate.match),
        )

    def _incident_matches(self, query: names.Subject, state: str) -> list[IncidentMatchOut]:
        found: list[IncidentMatchOut] = []
        for candidate in self.persons.screen(query):
            for link in self.person_links[candidate.key]:
                if state not in link.origins:
                    continue
                found.append(
                    IncidentMatchOut(
                        incident_id=link.incident_id if link.readable else None,
                        owner=link.owner,
                        role=link.role,
                        incident_date=link.date,
                        score=round(candidate.score, 4),
                        explanation=_explanation(candidate.match),
                    )
                )
        return found[:MAX_MATCHES]


def _state_records(session: Session) -> dict[str, StateRecord]:
    """Per requesting state: its notices here, those decided, those decided do_not_act, and incidents it originated."""
    notices: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for state, decision, count in session.execute(
        select(Notice.requesting_state, Notice.decision, func.count()).group_by(
            Notice.requesting_state, Notice.decision
        )
    ):
        counts = notices[state]
        counts[0] += count
        if decision != "none":
            counts[1] += count
        if decision == "do_not_act":
            counts[2] += count
    incidents = {
        str(country): int(count)
        for country, count in session.execute(
            select(IncidentOrigin.country, func.count()).group_by(IncidentOrigin.country)
        )
    }
    return {
        state: StateRecord(
            notices=notices[state][0] if state in notices else 0,
            decided=notices[state][1] if state in notices else 0,
            do_not_act=notices[state][2] if state in notices else 0,
            incidents=int(incidents.get(state, 0)),
        )
        for state in set(notices) | set(incidents)
    }


# -- the use cases ---------------------------------------------------------------------------------------------------


def screen_notice(node: Node, principal: Principal, notice_id: uuid.UUID) -> VettingSheet:
    """Screen one notice and return its vetting sheet. Reading the subject and screening it are recorded in the
    audit log (counts only) before the sheet is handed out."""
    require(principal, "notice:read")
    with node.store.writing() as session:
        row = session.scalar(select(Notice).options(selectinload(Notice.warrants)).where(Notice.uuid == notice_id))
        if row is None:
            raise NotFoundError(f"no notice with id {notice_id}")
        return _Screener.build(node, principal, session).sheet(session, row)


def screen_all(
    node: Node,
    principal: Principal,
    *,
    decision: str | None = "none",
    progress: Callable[[int, int], None] | None = None,
) -> list[VettingSheet]:
    """Screen every notice (by default those not decided yet), oldest received first, with the matchers built once.
    `progress(done, total)` is called after each notice."""
    require(principal, "notice:read")
    with node.store.writing() as session:
        screener = _Screener.build(node, principal, session)
        query = select(Notice).options(selectinload(Notice.warrants)).order_by(Notice.received, Notice.id)
        if decision is not None:
            query = query.where(Notice.decision == decision)
        rows = list(session.scalars(query))
        sheets: list[VettingSheet] = []
        for done, row in enumerate(rows, start=1):
            sheets.append(screener.sheet(session, row))
            if progress is not None:
                progress(done, len(rows))
        return sheets
