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

The red-flag rules are data (taxonomy/v1/red_flags.yaml, taxonomy/red_flags.py). The matchers (the registry, the
persons' identities, the refusals, each opened from the vault and indexed) are kept in the process between
screenings and rebuilt when what they index changes (services/screening_cache.py); everything else on a sheet (the
incident links, the requesting state's record) is read from the database for each screening.
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
from tnrwatch.services.policy import Principal, ReadScope, read_scope, require
from tnrwatch.services.registry import open_registry
from tnrwatch.services.screening_cache import RegistryEntryMeta, RegistryIndex, read_stamps
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


# -- the matchers: kept between screenings (services/screening_cache.py) ---------------------------------------------


@dataclass(frozen=True)
class _Matchers:
    registry: RegistryIndex
    persons: names.Matcher  # keyed by the person's row id
    refused: names.Matcher  # keyed by the notice's uuid


def _matchers(node: Node) -> _Matchers:
    """The registry's, the persons' and the refusals' matchers: the kept ones when nothing they index has changed
    since they were built, otherwise built now (each build opens its rows from the vault in a read transaction that
    begins after the stamps were read)."""
    cache = node.screening_cache
    with node.store.reading() as session:
        stamps = read_stamps(session)
    return _Matchers(
        registry=cache.registry.get(stamps.registry, lambda: _build_registry(node)),
        persons=cache.persons.get(stamps.persons, lambda: _build_persons(node)),
        refused=cache.refusals.get(stamps.refusals, lambda: _build_refusals(node)),
    )


def _build_registry(node: Node) -> RegistryIndex:
    matcher = names.Matcher()
    entries: dict[str, RegistryEntryMeta] = {}
    with node.store.reading() as session:
        for entry in open_registry(node, session):
            key = str(entry.id)
            matcher.add(key, registry_subject(entry.identity))
            entries[key] = RegistryEntryMeta(entry.pseudonym, entry.category, entry.origin_state, entry.focal_point)
    return RegistryIndex(matcher, entries)


def _build_persons(node: Node) -> names.Matcher:
    """Every person with an identity in the vault. Which incidents they are linked to is read for each sheet, so
    that coding an incident (a link, a marking, an origin) never makes the identities be opened again."""
    matcher = names.Matcher()
    with node.store.reading() as session:
        rows = session.execute(
            select(Person.id, Person.uuid, PersonIdentityRow)
            .join(PersonIdentityRow, PersonIdentityRow.person_id == Person.id)
            .order_by(Person.id)
            .execution_options(yield_per=1000)
        )
        for person_id, person_uuid, identity in rows:
            matcher.add(str(person_id), person_subject(open_identity(node, person_uuid, identity)))
    return matcher


def _build_refusals(node: Node) -> names.Matcher:
    matcher = names.Matcher()
    with node.store.reading() as session:
        for row in session.scalars(select(Notice).where(Notice.decision == "do_not_act")):
            matcher.add(str(row.uuid), notice_subject(notice_service.open_subject(node, row)))
    return matcher


@dataclass(frozen=True)
class _Link:
    """A person's link to an incident of the requesting state."""

    incident_id: uuid.UUID
    owner: str | None
    tlp: str
    shared_with_eu: bool
    role: str
    date: dt.date


def _incident_links(session: Session, person_ids: list[int], state: str) -> dict[int, list[_Link]]:
    """The persons' links to incidents whose origin includes `state`, as the database holds them now."""
    links: defaultdict[int, list[_Link]] = defaultdict(list)
    for start in range(0, len(person_ids), 500):
        rows = session.execute(
            select(
                IncidentPerson.person_id,
                IncidentPerson.role,
                Incident.uuid,
                Incident.jurisdiction_code,
                Incident.tlp,
                Incident.shared_with_eu,
                Incident.date_start,
            )
            .join(Incident, Incident.id == IncidentPerson.incident_id)
            .join(IncidentOrigin, IncidentOrigin.incident_id == Incident.id)
            .where(IncidentPerson.person_id.in_(person_ids[start : start + 500]), IncidentOrigin.country == state)
            .order_by(IncidentPerson.person_id, Incident.id)
        )
        for person_id, role, incident_uuid, owner, tlp, shared, date in rows:
            links[person_id].append(_Link(incident_uuid, owner, tlp, shared, role, date))
    return links


# -- one screening or a batch ----------------------------------------------------------------------------------------


@dataclass
class _Screener:
    node: Node
    principal: Principal
    rules: RedFlagRules
    matchers: _Matchers
    states: dict[str, StateRecord]
    scope: ReadScope = field(init=False)

    def __post_init__(self) -> None:
        self.scope = read_scope(self.principal)

    @classmethod
    def start(
        cls, node: Node, principal: Principal, session: Session, matchers: _Matchers, states: dict[str, StateRecord]
    ) -> _Screener:
        screener = cls(node, principal, default_red_flags(), matchers, states)
        # The registry and the persons' identities are compared in memory for this screening (or batch): one entry
        # each, with counts, whether their matchers were built now or kept from an earlier screening.
        entries, identities = len(matchers.registry.matcher), len(matchers.persons)
        record_access(session, principal, "screen", "protected_person", note=f"{entries} compared")
        record_access(session, principal, "screen", "person", note=f"{identities} compared")
        return screener

    def sheet(self, session: Session, row: Notice) -> VettingSheet:
        subject = notice_service.open_subject(self.node, row)
        query = notice_subject(subject)
        state = row.requesting_state
        registry_matches = [
            self._registry_match(candidate, state)
            for candidate in self.matchers.registry.matcher.screen(query)[:MAX_MATCHES]
        ]
        incident_matches = self._incident_matches(session, query, state)
        prior = sum(1 for c in self.matchers.refused.screen(query) if c.key != str(row.uuid))
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
        meta = self.matchers.registry.entries[candidate.key]
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

    def _incident_matches(self, session: Session, query: names.Subject, state: str) -> list[IncidentMatchOut]:
        candidates = self.matchers.persons.screen(query)
        if not candidates:
            return []
        links = _incident_links(session, [int(candidate.key) for candidate in candidates], state)
        found: list[IncidentMatchOut] = []
        for candidate in candidates:
            for link in links.get(int(candidate.key), ()):
                found.append(
                    IncidentMatchOut(
                        incident_id=(
                            link.incident_id if self.scope.admits(link.owner, link.tlp, link.shared_with_eu) else None
                        ),
                        owner=link.owner,
                        role=link.role,
                        incident_date=link.date,
                        score=round(candidate.score, 4),
                        explanation=_explanation(candidate.match),
                    )
                )
        return found[:MAX_MATCHES]


def _state_records(session: Session, state: str | None = None) -> dict[str, StateRecord]:
    """Per requesting state (or for `state` only): its notices here, those decided, those decided do_not_act, and
    the incidents it originated."""
    notice_counts = select(Notice.requesting_state, Notice.decision, func.count()).group_by(
        Notice.requesting_state, Notice.decision
    )
    incident_counts = select(IncidentOrigin.country, func.count()).group_by(IncidentOrigin.country)
    if state is not None:
        notice_counts = notice_counts.where(Notice.requesting_state == state)
        incident_counts = incident_counts.where(IncidentOrigin.country == state)
    notices: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for requesting, decision, count in session.execute(notice_counts):
        counts = notices[requesting]
        counts[0] += count
        if decision != "none":
            counts[1] += count
        if decision == "do_not_act":
            counts[2] += count
    incidents = {str(country): int(count) for country, count in session.execute(incident_counts)}
    return {
        requesting: StateRecord(
            notices=notices[requesting][0] if requesting in notices else 0,
            decided=notices[requesting][1] if requesting in notices else 0,
            do_not_act=notices[requesting][2] if requesting in notices else 0,
            incidents=int(incidents.get(requesting, 0)),
        )
        for requesting in set(notices) | set(incidents)
    }


# -- the use cases ---------------------------------------------------------------------------------------------------


def _notice_row(session: Session, notice_id: uuid.UUID) -> Notice:
    row = session.scalar(select(Notice).options(selectinload(Notice.warrants)).where(Notice.uuid == notice_id))
    if row is None:
        raise NotFoundError(f"no notice with id {notice_id}")
    return row


def screen_notice(node: Node, principal: Principal, notice_id: uuid.UUID) -> VettingSheet:
    """Screen one notice and return its vetting sheet. Reading the subject and screening it are recorded in the
    audit log (counts only) before the sheet is handed out."""
    require(principal, "notice:read")
    with node.store.reading() as session:
        _notice_row(session, notice_id)  # an unknown id is answered before any matcher is built
    # Outside the write transaction: a (re)build opens the registry for seconds, and SQLite has one writer.
    matchers = _matchers(node)
    with node.store.writing() as session:
        row = _notice_row(session, notice_id)
        states = _state_records(session, row.requesting_state)
        return _Screener.start(node, principal, session, matchers, states).sheet(session, row)


def screen_all(
    node: Node,
    principal: Principal,
    *,
    decision: str | None = "none",
    progress: Callable[[int, int], None] | None = None,
) -> list[VettingSheet]:
    """Screen every notice (by default those not decided yet), oldest received first, with one set of matchers.
    `progress(done, total)` is called after each notice."""
    require(principal, "notice:read")
    matchers = _matchers(node)
    with node.store.writing() as session:
        screener = _Screener.start(node, principal, session, matchers, _state_records(session))
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
