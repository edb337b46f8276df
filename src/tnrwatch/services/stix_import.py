"""Import of STIX 2.1 objects from a partner node: a bundle file (signed) or objects a partner sent over TAXII.

Rules (docs/architecture.md, "STIX import"):
- Per object: each object lands or fails on its own (a savepoint each, one transaction for the lot), and the report
  names every object with its outcome: added, updated, unchanged, or failed with the reason. Objects are taken in
  an order that puts what others refer to first (actors, parents first; incidents; links; alerts; comments; sightings).
- Versions: every object taken is kept as received in the collection "received:<partner>" (StixObject, source = the
  partner), one row per version. The same id and `modified` again, or an older `modified`, changes nothing (no
  duplicate, no outbox event); a newer one updates.
- What becomes a record here: an `incident` with tnrwatch's extension becomes an incident owned by the node (uuid
  from its STIX id, TLP from its marking, provenance naming the partner), a `threat-actor` an actor, a
  `relationship` incident related-to threat-actor a link (removed when the relationship is revoked), an `indicator`
  related-to an incident one of the incident's indicators (its pattern read back into kind and value; removed when
  the relationship is revoked; the indicator object itself is only kept), a `report` or
  `grouping` with the alert extension an alert (published or withdrawn, addressed on this node to the EU level and,
  below RED, to every jurisdiction), a `note` or `opinion` on an alert held here a comment signed
  "partner:<name>", and a `sighting` of a threat-actor held here the sighted actor and country (from the
  `location` it names) of the corroboration whose note refers to it (a sighting no note refers to stays kept only,
  until its note comes). Everything else (markings, definitions, locations, pseudonymous identities, other types)
  is only kept in the received collection, for federation to pass on as its marking allows; persons are never
  created from pseudonyms.
- A partner changes only what came from it: an incident, actor or alert that this node holds as its own, or
  received from someone else, is left as it is (outcome unchanged, saying so).
- A file is taken only with a detached signature that verifies against the partner's pinned key.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tnrwatch.crypto import bundle_signature
from tnrwatch.domain.actor import ActorIn
from tnrwatch.domain.alert import ALERT_TRANSITIONS
from tnrwatch.domain.incident import IncidentIn, IncidentOut
from tnrwatch.domain.indicators import normalise_indicator
from tnrwatch.domain.validation import validate
from tnrwatch.errors import FieldError, ForbiddenError, InvalidInputError, NotFoundError, TnrwatchError
from tnrwatch.interop.stix import ALERT_EXTENSION_ID, TNR_EXTENSION_ID
from tnrwatch.interop.stix_read import (
    ParsedObject,
    StixReadError,
    actor_fields,
    alert_fields,
    comment_fields,
    incident_fields,
    indicator_fields,
    location_country,
    location_refs,
    parse_object,
    sighted_actor,
    sighting_refs,
    uuid_of,
)
from tnrwatch.services import actors as actor_service
from tnrwatch.services import incidents as incident_service
from tnrwatch.services import outbox, taxii
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal
from tnrwatch.store.incidents import load_incidents
from tnrwatch.store.models import (
    Actor,
    Alert,
    AlertActor,
    AlertAudience,
    AlertComment,
    AlertIncident,
    Incident,
    Jurisdiction,
    Partner,
    StixObject,
)
from tnrwatch.store.types import utcnow

Outcome = Literal["added", "updated", "unchanged", "failed"]
RECEIVED_PREFIX = "received:"
MAX_OBJECTS = 100_000
# The order objects are taken in: what others refer to first.
_ORDER = {
    "threat-actor": 1,
    "incident": 2,
    "relationship": 3,
    "report": 4,
    "grouping": 4,
    "note": 5,
    "opinion": 5,
    "sighting": 6,
}


def received_collection(partner: str) -> str:
    return f"{RECEIVED_PREFIX}{partner}"


@dataclass(frozen=True)
class ObjectOutcome:
    """What became of one object. `record` names what it is here ("incident", "actor", "link", "indicator", "alert",
    "comment") or is None when it is only kept in the received collection (or failed)."""

    id: str
    type: str
    modified: str | None
    outcome: Outcome
    record: str | None = None
    message: str = ""


@dataclass(frozen=True)
class ImportReport:
    partner: str
    outcomes: list[ObjectOutcome] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(outcome.outcome for outcome in self.outcomes)
        return {name: counted.get(name, 0) for name in ("added", "updated", "unchanged", "failed")}

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.outcomes if item.outcome == outcome)

    @property
    def failures(self) -> list[ObjectOutcome]:
        return [outcome for outcome in self.outcomes if outcome.outcome == "failed"]


class _NotChangedError(Exception):
    """The object changes no record here (it is not this partner's to change, or an older version): say why."""


@dataclass
class _Run:
    node: Node
    session: Session
    partner: str
    principal: Principal
    by_id: dict[str, list[ParsedObject]]
    now: dt.datetime

    @property
    def collection(self) -> str:
        return received_collection(self.partner)


def import_objects(node: Node, objects: Sequence[Mapping[str, Any]], *, source_partner: str) -> ImportReport:
    """Take `objects` from the registered partner `source_partner` (see the module docstring); one outcome per
    object, in the order given. NotFoundError when no such partner is registered, ForbiddenError when it is disabled."""
    if len(objects) > MAX_OBJECTS:
        raise InvalidInputError(
            "too many objects", [FieldError(("objects",), f"{len(objects)} objects; at most {MAX_OBJECTS} at once")]
        )
    outcomes: dict[int, ObjectOutcome] = {}
    parsed: list[tuple[int, ParsedObject]] = []
    for position, raw in enumerate(objects):
        try:
            parsed.append((position, parse_object(raw, node.taxonomy)))
        except StixReadError as exc:
            outcomes[position] = _failed(raw, position, str(exc))
    by_id: dict[str, list[ParsedObject]] = {}
    for _, obj in parsed:
        by_id.setdefault(obj.id, []).append(obj)
    with node.store.writing() as session:
        disabled = session.scalar(select(Partner.disabled).where(Partner.name == source_partner))
        if disabled is None:
            raise NotFoundError(f"no partner named {source_partner!r}: register it first (tnrwatch partners add)")
        if disabled:
            raise ForbiddenError(f"partner {source_partner!r} is disabled: nothing from it is taken")
        run = _Run(node, session, source_partner, _principal(source_partner), by_id, utcnow())
        for position, obj in _in_order(parsed):
            outcomes[position] = _take(run, obj)
    return ImportReport(source_partner, [outcomes[position] for position in range(len(objects))])


def import_bundle_file(node: Node, path: Path, *, partner: str, signature_path: Path | None = None) -> ImportReport:
    """Import a bundle file from `partner`, after checking its detached signature (default: FILE.sig) against the
    partner's pinned sharing key. SignatureError (naming what is wrong) for an unsigned, changed or foreign file;
    InvalidInputError for a file that is not a STIX bundle; NotFoundError for an unknown partner."""
    sig_path = signature_path or path.with_name(path.name + ".sig")
    payload = _read(path, "FILE")
    with node.store.reading() as session:
        row = session.scalar(select(Partner).where(Partner.name == partner))
        if row is None:
            raise NotFoundError(f"no partner named {partner!r}: register it first (tnrwatch partners add)")
        pinned = row.public_key
    trusted = _pinned_key(pinned)
    if trusted is None:
        raise bundle_signature.SignatureError(
            f"no sharing key is pinned for partner {partner!r}: files are only taken signed",
            [FieldError(("partner", "public_key"), "pin the partner's key first (tnrwatch partners add --public-key)")],
        )
    if not sig_path.exists():
        raise bundle_signature.SignatureError(
            "the file is not signed", [FieldError(("--signature",), f"no signature file {sig_path.name}")]
        )
    try:
        signature = json.loads(_read(sig_path, "--signature").decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise bundle_signature.SignatureError(
            f"{sig_path.name} is not a signature file", [FieldError(("--signature",), f"not JSON: {exc}")]
        ) from None
    bundle_signature.verify_bundle(payload, signature, trusted)
    return import_objects(node, bundle_objects(payload), source_partner=partner)


def bundle_objects(payload: bytes) -> list[Mapping[str, Any]]:
    """The objects of a STIX bundle file; InvalidInputError when it is not one."""
    try:
        bundle = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError("the file is not JSON", [FieldError(("FILE",), str(exc))]) from None
    if not isinstance(bundle, dict) or bundle.get("type") != "bundle":
        raise InvalidInputError("the file is not a STIX bundle", [FieldError(("type",), "expected 'bundle'")])
    objects = bundle.get("objects", [])
    if not isinstance(objects, list):
        raise InvalidInputError("the file is not a STIX bundle", [FieldError(("objects",), "expected a list")])
    return objects


def _read(path: Path, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path.name}", [FieldError((option,), exc.strerror or str(exc))]) from None


def _pinned_key(text: str | None) -> bytes | None:
    """A pinned key as the partner registry keeps it (hex) or as `tnrwatch stix public-key` prints it (base64)."""
    if not text:
        return None
    text = text.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text)
        except ValueError:
            return None
    return bundle_signature.decode_public_key(text)


def _principal(partner: str) -> Principal:
    """Who the audit log says changed what an import changes: the node itself, for the partner."""
    return Principal(account_id=None, username=f"partner:{partner}"[:64], role=OPERATOR_ROLE)


def _failed(raw: Any, position: int, message: str) -> ObjectOutcome:
    known = raw if isinstance(raw, Mapping) else {}
    stix_id = known.get("id") if isinstance(known.get("id"), str) else f"(object {position + 1})"
    return ObjectOutcome(
        id=str(stix_id),
        type=str(known.get("type", "")),
        modified=str(known["modified"]) if isinstance(known.get("modified"), str) else None,
        outcome="failed",
        message=message,
    )


def _in_order(parsed: list[tuple[int, ParsedObject]]) -> list[tuple[int, ParsedObject]]:
    """Definitions and other kept-only objects first, then actors (a parent before its parts), incidents, links,
    alerts, comments, sightings; versions of one object oldest first."""
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    ordered = sorted(parsed, key=lambda item: (_ORDER.get(item[1].type, 0), item[1].modified or oldest))
    parent_of = {obj.id: _parent_ref(obj) for _, obj in ordered if obj.type == "threat-actor"}

    def depth(obj: ParsedObject) -> int:
        seen: set[str] = set()
        parent, level = parent_of.get(obj.id), 0
        while parent is not None and parent in parent_of and parent not in seen:
            seen.add(parent)
            level += 1
            parent = parent_of[parent]
        return level

    # A stable sort: the depth only reorders actors among themselves.
    return sorted(
        ordered, key=lambda item: (_ORDER.get(item[1].type, 0), depth(item[1]) if item[1].type == "threat-actor" else 0)
    )


def _parent_ref(obj: ParsedObject) -> str | None:
    try:
        parent = actor_fields(obj)[1]
    except StixReadError:
        return None
    return f"threat-actor--{parent}" if parent is not None else None


def _take(run: _Run, obj: ParsedObject) -> ObjectOutcome:
    held = run.session.scalar(
        select(func.max(StixObject.modified)).where(
            StixObject.collection == run.collection, StixObject.stix_id == obj.id
        )
    )
    modified = obj.modified.isoformat().replace("+00:00", "Z") if obj.modified else None
    if held is not None and (obj.modified is None or obj.modified <= held):
        message = "this version is held already" if obj.modified == held else "a newer version is held"
        return ObjectOutcome(obj.id, obj.type, modified, "unchanged", message=message)
    try:
        with run.session.begin_nested():
            record = _apply(run, obj)
            _keep(run, obj)
    except _NotChangedError as kept:
        return ObjectOutcome(obj.id, obj.type, modified, "unchanged", message=str(kept))
    except (TnrwatchError, StixReadError) as exc:
        return ObjectOutcome(obj.id, obj.type, modified, "failed", message=_describe(exc))
    except IntegrityError:
        message = "conflicts with a record stored here (a unique key refused it)"
        return ObjectOutcome(obj.id, obj.type, modified, "failed", message=message)
    return ObjectOutcome(obj.id, obj.type, modified, "added" if held is None else "updated", record=record)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TnrwatchError) and exc.errors:
        details = "; ".join(f"{error.where()}: {error.msg}" for error in exc.errors)
        return f"{exc.message}: {details}"
    return exc.message if isinstance(exc, TnrwatchError) else str(exc)


def _keep(run: _Run, obj: ParsedObject) -> None:
    """The version as received, in the partner's received collection; and passed on to this node's own partners as
    its marking allows, with the partner as its source (services/taxii.py `share`, domain/sharing.py `may_share`):
    CLEAR and GREEN to the community, AMBER to this node's clients, AMBER+STRICT and RED to no one."""
    tlp = obj.tlp or "clear"  # only definitions come unmarked (parse_object)
    taxii.add_objects(run.session, run.collection, [obj.body], tlp, run.partner)
    taxii.share(run.session, run.node, [obj.body], tlp, run.partner, frozenset())


def _apply(run: _Run, obj: ParsedObject) -> str | None:
    """Make or change the record `obj` stands for; the record's kind, or None when it stands for none here."""
    if obj.type == "incident" and obj.extension(TNR_EXTENSION_ID) is not None:
        return _incident(run, obj)
    if obj.type == "threat-actor":
        return _actor(run, obj)
    if obj.type == "relationship":
        return _link(run, obj)
    if obj.type in ("report", "grouping"):
        return _alert(run, obj)
    if obj.type in ("note", "opinion"):
        return _comment(run, obj)
    if obj.type == "sighting":
        return _sighting(run, obj)
    return None


def _from_partner(run: _Run, stix_id: str) -> bool:
    """Whether the record behind `stix_id` came from this partner (a version of it is in its received collection)."""
    return (
        run.session.scalar(
            select(StixObject.id).where(StixObject.collection == run.collection, StixObject.stix_id == stix_id).limit(1)
        )
        is not None
    )


def _not_theirs(kind: str, record_id: uuid.UUID) -> _NotChangedError:
    return _NotChangedError(
        f"the {kind} {record_id} is held here already (this node's own or another partner's): not changed"
    )


# -- records ------------------------------------------------------------------------------------------------------


def _incident(run: _Run, obj: ParsedObject) -> str:
    fields = incident_fields(obj)
    fields["provenance"] = f"STIX from partner {run.partner}"[:300]
    wanted = _actor_links(run, obj)
    indicators = _related_indicators(run, obj)
    row = run.session.scalar(select(Incident).where(Incident.uuid == obj.uuid))
    if row is None:
        fields["actors"] = [{"id": str(actor), "role": role} for actor, role in wanted.items()]
        fields["indicators"] = list(indicators.values())
        incident = validate(IncidentIn, fields, run.node.taxonomy, what="incident")
        incident_service.add_incident(run.session, run.node, run.principal, incident)
        return "incident"
    if not _from_partner(run, obj.id):
        raise _not_theirs("incident", obj.uuid)
    [current] = load_incidents(run.session, [row.id], run.node.taxonomy)
    # The partner's coding replaces the coded fields; what this node added (persons, sources) and links it holds
    # stay: STIX removes a link (or an indicator) only by revoking its relationship.
    links = {link.id: link.role for link in current.actors} | wanted
    fields["actors"] = [{"id": str(actor), "role": role} for actor, role in links.items()]
    fields["indicators"] = list((_held_indicators(current) | indicators).values())
    fields["persons"] = [link.model_dump(mode="json") for link in current.persons]
    fields["sources"] = [source.model_dump(mode="json") for source in current.sources]
    incident = validate(IncidentIn, fields, run.node.taxonomy, what="incident")
    incident_service.replace_stored_incident(run.session, run.node, run.principal, obj.uuid, incident)
    return "incident"


def _actor_links(run: _Run, obj: ParsedObject) -> dict[uuid.UUID, str]:
    """The actors this import's relationships link the incident to, by uuid, where the actor is held here."""
    links: dict[uuid.UUID, str] = {}
    for versions in run.by_id.values():
        rel = versions[-1]
        body = rel.body
        if rel.type != "relationship" or body.get("source_ref") != obj.id or body.get("revoked"):
            continue
        target = str(body.get("target_ref", ""))
        if body.get("relationship_type") != "related-to" or not target.startswith("threat-actor--"):
            continue
        actor = uuid_of(target)
        if run.session.scalar(select(Actor.id).where(Actor.uuid == actor)) is not None:
            links[actor] = _role(rel)
    return links


IndicatorKey = tuple[str, str]  # (kind, canonical value)


def _indicator_key(fields: Mapping[str, Any]) -> IndicatorKey:
    """Where an indicator stands among an incident's: its kind and canonical value (the raw value when it has none:
    validating the incident then names what is wrong with it)."""
    kind, value = str(fields.get("kind")), str(fields.get("value"))
    try:
        return kind, normalise_indicator(kind, value)
    except ValueError:
        return kind, value


def _held_indicators(incident: IncidentOut) -> dict[IndicatorKey, dict[str, Any]]:
    return {
        (indicator.kind, indicator.value): indicator.model_dump(mode="json", exclude_none=True)
        for indicator in incident.indicators
    }


def _related_indicators(run: _Run, obj: ParsedObject) -> dict[IndicatorKey, dict[str, Any]]:
    """The indicators this import's relationships say are related to the incident, in the order they had there. An
    indicator that cannot be read is left out here; its relationship fails on its own, saying why."""
    found: list[tuple[int, str, dict[str, Any]]] = []
    for versions in run.by_id.values():
        rel = versions[-1]
        body = rel.body
        source = str(body.get("source_ref", ""))
        if not (
            rel.type == "relationship"
            and body.get("target_ref") == obj.id
            and body.get("relationship_type") == "related-to"
            and source.startswith("indicator--")
            and not body.get("revoked")
        ):
            continue
        indicator = _held(run, source)
        if indicator is None or indicator.get("revoked"):
            continue
        try:
            fields, position = indicator_fields(indicator)
        except StixReadError:
            continue
        found.append((position if position is not None else MAX_OBJECTS, source, fields))
    return {_indicator_key(fields): fields for _, _, fields in sorted(found, key=lambda item: item[:2])}


def _indicator_link(run: _Run, obj: ParsedObject) -> str:
    """An indicator related-to an incident that came from this partner: one of the incident's indicators, added or
    updated; removed when the relationship (or the indicator) is revoked."""
    body = obj.body
    source, target = str(body.get("source_ref", "")), str(body.get("target_ref", ""))
    row = run.session.scalar(select(Incident).where(Incident.uuid == uuid_of(target)))
    if row is None:
        raise InvalidInputError("the indicator's incident is not held here", [FieldError(("target_ref",), target)])
    if not _from_partner(run, target):
        raise _not_theirs("incident", row.uuid)
    indicator = _held(run, source)
    if indicator is None:
        raise InvalidInputError("the indicator is not held here", [FieldError(("source_ref",), source)])
    fields, _ = indicator_fields(indicator)
    [current] = load_incidents(run.session, [row.id], run.node.taxonomy)
    held = _held_indicators(current)
    wanted = dict(held)
    if body.get("revoked") or indicator.get("revoked"):
        wanted.pop(_indicator_key(fields), None)
    else:
        wanted[_indicator_key(fields)] = fields
    if list(wanted.items()) == list(held.items()):
        return "indicator"
    patched = current.model_dump(mode="json", include=set(IncidentIn.model_fields) - {"indicators"})
    patched["indicators"] = list(wanted.values())
    incident = validate(IncidentIn, patched, run.node.taxonomy, what="incident")
    incident_service.replace_stored_incident(run.session, run.node, run.principal, row.uuid, incident)
    return "indicator"


def _role(rel: ParsedObject) -> str:
    coded = rel.extension(TNR_EXTENSION_ID) or {}
    return str(coded.get("actor_role") or "perpetrator")


def _actor(run: _Run, obj: ParsedObject) -> str:
    fields, parent = actor_fields(obj)
    if parent is not None and run.session.scalar(select(Actor.id).where(Actor.uuid == parent)) is not None:
        fields["parent_id"] = parent
    actor = validate(ActorIn, fields, run.node.taxonomy, what="actor")
    if run.session.scalar(select(Actor.id).where(Actor.uuid == obj.uuid)) is None:
        actor_service.add_actor(run.session, run.node, run.principal, actor)
        return "actor"
    if not _from_partner(run, obj.id):
        raise _not_theirs("actor", obj.uuid)
    actor_service.replace_actor(run.session, run.node, run.principal, actor)
    return "actor"


def _link(run: _Run, obj: ParsedObject) -> str | None:
    """An incident related-to threat-actor relationship: the link, on an incident that came from this partner."""
    body = obj.body
    source, target = str(body.get("source_ref", "")), str(body.get("target_ref", ""))
    if body.get("relationship_type") == "related-to" and source.startswith("indicator--"):
        return _indicator_link(run, obj) if target.startswith("incident--") else None
    if not (
        body.get("relationship_type") == "related-to"
        and source.startswith("incident--")
        and target.startswith("threat-actor--")
    ):
        return None
    row = run.session.scalar(select(Incident).where(Incident.uuid == uuid_of(source)))
    if row is None:
        raise InvalidInputError("the link's incident is not held here", [FieldError(("source_ref",), source)])
    if not _from_partner(run, source):
        raise _not_theirs("incident", row.uuid)
    actor = uuid_of(target)
    if run.session.scalar(select(Actor.id).where(Actor.uuid == actor)) is None:
        raise InvalidInputError("the link's actor is not held here", [FieldError(("target_ref",), target)])
    [current] = load_incidents(run.session, [row.id], run.node.taxonomy)
    links = {link.id: link.role for link in current.actors}
    if body.get("revoked"):
        links.pop(actor, None)
    else:
        links[actor] = _role(obj)
    if links == {link.id: link.role for link in current.actors}:
        return "link"
    patched = current.model_dump(mode="json", include=set(IncidentIn.model_fields) - {"actors"})
    patched["actors"] = [{"id": str(actor_id), "role": role} for actor_id, role in links.items()]
    incident = validate(IncidentIn, patched, run.node.taxonomy, what="incident")
    incident_service.replace_stored_incident(run.session, run.node, run.principal, row.uuid, incident)
    return "link"


def _alert(run: _Run, obj: ParsedObject) -> str | None:
    """A partner's alert: published or withdrawn here as it is there, addressed to this node's EU level and, below
    RED, to every jurisdiction; linked to the incidents and actors it refers to that are held here."""
    if obj.extension(ALERT_EXTENSION_ID) is None:
        return None  # a report from another tool: kept in the received collection only
    fields = alert_fields(obj)
    if obj.modified is None or obj.tlp is None:  # parse_object lets no report through without both
        raise StixReadError("modified and object_marking_refs are required")
    row = run.session.scalar(select(Alert).where(Alert.uuid == obj.uuid))
    event: str | None = None
    if row is None:
        row = Alert(
            uuid=obj.uuid,
            status=fields["status"],
            created_at=run.now,
            published_at=fields["published_at"],
            withdrawn_at=run.now if fields["status"] == "withdrawn" else None,
            source_partner=run.partner,
            version=1,
        )
        run.session.add(row)
        event = "published" if fields["status"] == "published" else None  # never heard of: nothing to withdraw
        action = "create"
    else:
        if row.source_partner != run.partner:
            raise _not_theirs("alert", obj.uuid)
        if row.stix_modified is not None and obj.modified <= row.stix_modified:
            raise _NotChangedError(f"a version as new is held (as {row.stix_id})")
        if fields["status"] != row.status:
            if fields["status"] not in ALERT_TRANSITIONS[row.status]:
                raise InvalidInputError(
                    "the alert cannot go back", [FieldError(("revoked",), f"a {row.status} alert stays {row.status}")]
                )
            row.status, row.withdrawn_at, event = fields["status"], run.now, "withdrawn"
        row.version += 1
        action = "withdraw" if event == "withdrawn" else "update"
    row.title, row.summary, row.level, row.tlp = fields["title"], fields["summary"], fields["level"], obj.tlp
    row.expires_at, row.updated_at = fields["expires_at"], run.now
    row.stix_id, row.stix_modified = obj.id, obj.modified
    run.session.flush()
    _address(run, row, obj.tlp)
    _link_alert(run, row, fields["object_refs"])
    record_change(run.session, run.principal, action, "alert", row.uuid, ["status"] if event else [])
    if event is not None:
        outbox.enqueue(run.session, "alert", event, row.uuid)
    return "alert"


def _address(run: _Run, row: Alert, tlp: str) -> None:
    run.session.execute(delete(AlertAudience).where(AlertAudience.alert_id == row.id))
    audience = [AlertAudience(alert_id=row.id, kind="eu", value="")]
    if tlp != "red":  # RED: named recipients only, and this node's EU level is the one named (it imported it)
        codes = run.session.scalars(select(Jurisdiction.code).order_by(Jurisdiction.code))
        audience += [AlertAudience(alert_id=row.id, kind="jurisdiction", value=code) for code in codes]
    run.session.add_all(audience)


def _link_alert(run: _Run, row: Alert, refs: list[str]) -> None:
    incident_uuids = [uuid_of(ref) for ref in refs if ref.startswith("incident--")]
    actor_uuids = [uuid_of(ref) for ref in refs if ref.startswith("threat-actor--")]
    incidents = dict(
        run.session.execute(select(Incident.uuid, Incident.id).where(Incident.uuid.in_(incident_uuids))).all()
    )
    actors = dict(run.session.execute(select(Actor.uuid, Actor.id).where(Actor.uuid.in_(actor_uuids))).all())
    run.session.execute(delete(AlertIncident).where(AlertIncident.alert_id == row.id))
    run.session.execute(delete(AlertActor).where(AlertActor.alert_id == row.id))
    held_incidents = [incidents[ref] for ref in dict.fromkeys(incident_uuids) if ref in incidents]
    held_actors = [actors[ref] for ref in dict.fromkeys(actor_uuids) if ref in actors]
    run.session.add_all(
        AlertIncident(alert_id=row.id, incident_id=incident_id, position=n)
        for n, incident_id in enumerate(held_incidents)
    )
    run.session.add_all(
        AlertActor(alert_id=row.id, actor_id=actor_id, position=n) for n, actor_id in enumerate(held_actors)
    )


def _comment(run: _Run, obj: ParsedObject) -> str | None:
    """A note or opinion on an alert held here that the partner reads (one addressed to it or shared with the
    community, or one it sent): a comment signed "partner:<name>". A corroboration note that names a sighting
    held here (in this import or an earlier one) takes its actor and country; one that names none has none."""
    alerts = _alerts_of(run, obj.body)
    if not alerts:
        return None  # about nothing the partner reads here: kept in the received collection only
    fields = comment_fields(obj)
    author = f"partner:{run.partner}"[:64]
    created_at = _timestamp(str(obj.body.get("created")))
    named = sighting_refs(obj.body) if fields["kind"] == "corroboration" else []
    sighting = next((found for found in (_held(run, ref) for ref in named) if found is not None), None)
    try:
        seen = _seen(run, sighting) if sighting is not None else None
    except StixReadError:
        seen = None  # the sighting fails on its own, saying why; the note lands without it
    for alert in alerts:
        comment = run.session.scalar(
            select(AlertComment).where(
                AlertComment.alert_id == alert.id, AlertComment.author == author, AlertComment.created_at == created_at
            )
        )
        if comment is None:
            comment = AlertComment(alert_id=alert.id, author=author, author_id=None, created_at=created_at)
            run.session.add(comment)
        comment.kind, comment.opinion, comment.text = fields["kind"], fields["opinion"], fields["text"]
        changed = [fields["kind"]]
        if seen is not None or not named:  # a sighting named but not held yet: it sets them when it comes
            comment.sighted_actor_id, comment.sighted_country = seen or (None, None)
            changed += ["sighted_actor_id", "sighted_country"] if seen is not None else []
        record_change(run.session, run.principal, "comment", "alert", alert.uuid, changed)
    run.session.flush()
    return "comment"


def _alerts_of(run: _Run, body: Mapping[str, Any]) -> list[Alert]:
    """The alerts held here, and read by the partner, that a note or opinion is about."""
    refs = [str(ref) for ref in body.get("object_refs", []) if str(ref).startswith(("report--", "grouping--"))]
    return [alert for alert in (_alert_read_by(run, uuid_of(ref)) for ref in refs) if alert is not None]


def _sighting(run: _Run, obj: ParsedObject) -> str | None:
    """A sighting of a threat-actor: the sighted actor and country of the partner's corroborations whose notes
    refer to it. A sighting no note held here refers to is kept in the received collection only (a sighting names
    no alert); its note, when it comes, takes it from there. Sightings of anything else are kept only."""
    if sighted_actor(obj.body) is None:
        return None
    author = f"partner:{run.partner}"[:64]
    comments: list[tuple[Alert, AlertComment]] = []
    for note in _notes_naming(run, obj.id):
        created_at = _timestamp(str(note.get("created")))
        for alert in _alerts_of(run, note):
            comment = run.session.scalar(
                select(AlertComment).where(
                    AlertComment.alert_id == alert.id,
                    AlertComment.author == author,
                    AlertComment.created_at == created_at,
                    AlertComment.kind == "corroboration",
                )
            )
            if comment is not None:
                comments.append((alert, comment))
    if not comments:
        return None
    seen = _seen(run, obj.body)
    if seen is None:
        ref = str(obj.body.get("sighting_of_ref"))
        raise InvalidInputError("the sighted actor is not held here", [FieldError(("sighting_of_ref",), ref)])
    for alert, comment in comments:
        comment.sighted_actor_id, comment.sighted_country = seen
        record_change(
            run.session, run.principal, "comment", "alert", alert.uuid, ["sighted_actor_id", "sighted_country"]
        )
    run.session.flush()
    return "comment"


def _seen(run: _Run, sighting: Mapping[str, Any]) -> tuple[int, str | None] | None:
    """The row id of the sighted actor and the country of the first location named that is held here; None when
    the actor is not held here. StixReadError for a location whose country is not a country."""
    actor = sighted_actor(sighting)
    actor_id = run.session.scalar(select(Actor.id).where(Actor.uuid == actor)) if actor is not None else None
    if actor_id is None:
        return None
    for ref in location_refs(sighting):
        location = _held(run, ref)
        country = location_country(location) if location is not None else None
        if country is not None:
            return actor_id, country
    return actor_id, None


def _held(run: _Run, stix_id: str) -> Mapping[str, Any] | None:
    """The newest version of `stix_id` in this import, else in the partner's received collection."""
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    versions = run.by_id.get(stix_id)
    if versions:
        return max(versions, key=lambda version: version.modified or oldest).body
    body = run.session.scalar(
        select(StixObject.body)
        .where(StixObject.collection == run.collection, StixObject.stix_id == stix_id)
        .order_by(StixObject.modified.desc())
        .limit(1)
    )
    return _json_object(body) if body is not None else None


def _notes_naming(run: _Run, sighting_id: str) -> list[Mapping[str, Any]]:
    """The newest version of each note from the partner, held here, that refers to the sighting."""
    rows = run.session.execute(
        select(StixObject.stix_id, StixObject.body)
        .where(
            StixObject.collection == run.collection,
            StixObject.stix_type == "note",
            StixObject.body.contains(sighting_id, autoescape=True),
        )
        .order_by(StixObject.modified)
    ).all()
    newest = {stix_id: _json_object(body) for stix_id, body in rows}  # later versions overwrite earlier ones
    return [note for note in newest.values() if sighting_id in sighting_refs(note)]


def _json_object(body: str) -> Mapping[str, Any]:
    loaded = json.loads(body)
    return loaded if isinstance(loaded, dict) else {}


def _alert_read_by(run: _Run, alert_uuid: uuid.UUID) -> Alert | None:
    """The published alert `alert_uuid`, if the partner reads it: it sent it, or this node addressed it to the
    partner or marked it for the whole community."""
    row = run.session.scalar(select(Alert).where(Alert.uuid == alert_uuid, Alert.published_at.is_not(None)))
    if row is None or row.source_partner == run.partner:
        return row
    if row.source_partner is not None:
        return None
    named = run.session.scalar(
        select(AlertAudience.alert_id).where(
            AlertAudience.alert_id == row.id, AlertAudience.kind == "partner", AlertAudience.value == run.partner
        )
    )
    return row if named is not None or row.tlp in ("clear", "green") else None


def _timestamp(stamp: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(stamp)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
