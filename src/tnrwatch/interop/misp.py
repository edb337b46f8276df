"""MISP events of incidents and alerts, for partners who run MISP (built with PyMISP, loadable by `MISPEvent.load`).

What an event carries:
- an incident: an `incident` object (MISP's template after STIX 2.1: the title, the summary unless masked, the date
  range as first-seen/last-seen), a `geolocation` object per location (an obfuscated location as its country code
  only: no region, no place, no coordinates), a `threat-actor` attribute per linked actor (its type and role as
  tags), and the coded fields as machine tags in the `tnrwatch` namespace (`tnrwatch:tactic="abduction"`, origin and
  host countries, target categories, verification, host-state role, date precision, mass event, taxonomy version);
- an incident's technical indicators (domain/indicators.py): one attribute each (`domain`, `ip-dst`, `url`,
  `sha256`, `email-src`) with `to_ids` set, the coder's note as its comment (unless masked) and the days it was seen
  as its first and last seen, but only in an event marked TLP:AMBER or stricter (domain/sharing.py
  `carries_indicators`: an indicator can point at a victim as easily as at an attacker);
- an alert: its summary (a `text` attribute, unless masked) and expiry, its level and status as tags, its incidents as
  objects as above, its actors, and the recipients' comments as MISP analyst notes and opinions (agree 100,
  unsure 50, disagree 0), never with their authors' names;
- always: the TLP 2.0 tag (`tlp:clear` ... `tlp:red`) and a distribution that follows it (CLEAR: all communities,
  GREEN: this community, AMBER and stricter: the receiving organisation only).
Never a person: no identity and no pseudonym; an incident keeps its target categories. Masking drops the same free
text as STIX does. Uuids are deterministic (an event takes its incident's or alert's uuid, the rest a uuid5), so a
MISP instance that imports an export twice updates instead of duplicating.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymisp import MISPEvent, MISPObject

from tnrwatch.domain.actor import ActorOut
from tnrwatch.domain.alert import AlertOut
from tnrwatch.domain.incident import IncidentOut, Location
from tnrwatch.domain.sharing import carries_indicators
from tnrwatch.interop.stix import WITHHELD_NOTE, alert_is_confirmed

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://tnrwatch.invalid/misp")
TAG_NAMESPACE = "tnrwatch"
# MISP's threat levels: 1 high, 2 medium, 3 low, 4 undefined (incidents have no level).
THREAT_LEVELS: Mapping[str, int] = {"urgent": 1, "warning": 2, "information": 3}
UNDEFINED_THREAT_LEVEL = 4
# MISP's analysis states: 0 initial, 1 ongoing, 2 completed; from an incident's verification level.
ANALYSIS: Mapping[str, int] = {"reported": 0, "corroborated": 1, "disputed": 1, "verified": 2, "refuted": 2}
# MISP's distribution: 0 this organisation only, 1 this community, 3 all communities.
DISTRIBUTION: Mapping[str, int] = {"clear": 3, "green": 1, "amber": 0, "amber+strict": 0, "red": 0}
# MISP's attribute type and category for each indicator kind.
INDICATOR_ATTRIBUTES: Mapping[str, tuple[str, str]] = {
    "domain-name": ("domain", "Network activity"),
    "ipv4-addr": ("ip-dst", "Network activity"),
    "ipv6-addr": ("ip-dst", "Network activity"),
    "url": ("url", "Network activity"),
    "file-sha256": ("sha256", "Payload delivery"),
    "email-addr": ("email-src", "Payload delivery"),
}
OPINION_SCORES: Mapping[str, int] = {"agree": 100, "unsure": 50, "disagree": 0}
# What an opinion says instead of its explanation when free text is masked (MISP requires an opinion's comment).
WITHHELD_EXPLANATION = "A recipient gave this opinion; the explanation is not shared at this marking."


def tlp_tag(tlp: str) -> str:
    """The MISP taxonomy tag of a TLP 2.0 code: `tlp:amber+strict`."""
    return f"tlp:{tlp}"


def machine_tag(predicate: str, value: object) -> str:
    """A tag of tnrwatch's namespace, as MISP machine tags are written: `tnrwatch:tactic="abduction"`."""
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return f'{TAG_NAMESPACE}:{predicate}="{text}"'


def incident_tags(incident: IncidentOut) -> list[str]:
    """The coded fields of an incident as machine tags, in a fixed order."""
    tags = [machine_tag("tactic", code) for code in incident.tactics]
    tags += [machine_tag("tactic-family", code) for code in incident.tactic_families]
    tags += [machine_tag("origin-country", code) for code in incident.origin_countries]
    tags += [machine_tag("host-country", code) for code in sorted({loc.country for loc in incident.locations})]
    tags += [machine_tag("target-category", code) for code in incident.target_categories]
    tags += [
        machine_tag("verification", incident.verification),
        machine_tag("host-state-role", incident.host_state_role),
        machine_tag("date-precision", incident.date_precision),
        machine_tag("mass-event", incident.mass_event),
        machine_tag("taxonomy-version", incident.taxonomy_version),
    ]
    if incident.target_count is not None:
        tags.append(machine_tag("target-count", incident.target_count))
    return tags


def incident_event(incident: IncidentOut, actors: Iterable[ActorOut] = (), *, mask_free_text: bool) -> MISPEvent:
    """One incident as a MISP event; `actors` are those of its linked actors that may go with it."""
    event = _event(incident.id, incident.title, incident.tlp, incident.updated_at)
    event.date = incident.date_start
    event.threat_level_id = UNDEFINED_THREAT_LEVEL
    event.analysis = ANALYSIS.get(incident.verification, 0)
    for tag in incident_tags(incident):
        event.add_tag(tag)
    for misp_object in incident_objects(incident, mask_free_text=mask_free_text):
        event.add_object(misp_object)
    if carries_indicators(incident.tlp):
        _add_indicators(event, incident, mask_free_text=mask_free_text)
    roles = {link.id: link.role for link in incident.actors}
    _add_actors(event, [actor for actor in actors if actor.id in roles], roles)
    return event


def alert_event(
    alert: AlertOut,
    incidents: Sequence[IncidentOut],
    actors: Iterable[ActorOut] = (),
    *,
    mask_free_text: bool,
) -> MISPEvent:
    """A published or withdrawn alert as a MISP event holding its incidents; ValueError for a draft (drafts are never
    shared). MISP's `published` flag follows the alert: set while published, cleared once withdrawn."""
    if alert.status == "draft" or alert.published_at is None:
        raise ValueError(f"alert {alert.id} is a draft: drafts are never shared")
    event = _event(alert.id, alert.title, alert.tlp, alert.updated_at)
    event.date = _utc(alert.published_at).date()
    event.threat_level_id = THREAT_LEVELS[alert.level]
    event.analysis = 2 if alert_is_confirmed(incidents) else 1
    event.published = alert.status == "published"
    event.publish_timestamp = _utc(alert.published_at)
    tags = [machine_tag("alert-level", alert.level), machine_tag("alert-status", alert.status)]
    tags += [tag for incident in incidents for tag in incident_tags(incident)]
    for tag in dict.fromkeys(tags):
        event.add_tag(tag)
    if not mask_free_text:
        _add(event, "text", alert.summary, category="Other", comment="summary", key="summary")
    if alert.expires_at is not None:
        _add(event, "datetime", _utc(alert.expires_at).isoformat(), category="Other", comment="expires", key="expires")
    for incident in incidents:
        for misp_object in incident_objects(incident, mask_free_text=mask_free_text):
            event.add_object(misp_object)
        if carries_indicators(alert.tlp):
            _add_indicators(event, incident, mask_free_text=mask_free_text)
    roles = dict.fromkeys(alert.actor_ids, "")
    roles |= {link.id: link.role for incident in incidents for link in incident.actors}
    _add_actors(event, [actor for actor in actors if actor.id in roles], roles)
    for position, comment in enumerate(alert.comments):
        key = _uuid(alert.id, "comment", str(position))
        if comment.kind == "opinion" and comment.opinion is not None:
            explanation = WITHHELD_EXPLANATION if mask_free_text else comment.text
            event.add_opinion(opinion=OPINION_SCORES[comment.opinion], comment=explanation, uuid=key)
        else:
            event.add_note(note=WITHHELD_NOTE if mask_free_text else comment.text, uuid=key)
    return event


def incident_objects(incident: IncidentOut, *, mask_free_text: bool) -> list[MISPObject]:
    """The incident as MISP's `incident` object, referring to one `geolocation` object per location."""
    main = MISPObject("incident")
    main.uuid = _uuid(incident.id, "incident")
    main.add_attribute("name", value=incident.title, uuid=_uuid(incident.id, "incident", "name"))
    if incident.summary and not mask_free_text:
        main.add_attribute("description", value=incident.summary, uuid=_uuid(incident.id, "incident", "description"))
    main.first_seen = dt.datetime.combine(incident.date_start, dt.time(), dt.UTC)
    end = incident.date_end or incident.date_start
    main.last_seen = dt.datetime.combine(end, dt.time(23, 59, 59), dt.UTC)
    places = [_geolocation(incident.id, position, location) for position, location in enumerate(incident.locations)]
    for position, place in enumerate(places):
        reference = main.add_reference(place.uuid, "located-at")
        reference.uuid = _uuid(incident.id, "located-at", str(position))
    return [main, *places]


def _geolocation(incident_id: uuid.UUID, position: int, location: Location) -> MISPObject:
    """A location as shared: its country code alone when obfuscated (as in STIX, interop/stix.py `location_out`)."""
    place = MISPObject("geolocation")
    place.uuid = _uuid(incident_id, "geolocation", str(position))
    values: dict[str, Any] = {"countrycode": location.country}
    if not location.obfuscated:
        values |= {
            "region": location.admin1,
            "city": location.place,
            "latitude": location.lat,
            "longitude": location.lon,
        }
    for relation, value in values.items():
        if value is not None:
            place.add_attribute(relation, value=value, uuid=_uuid(incident_id, "geolocation", str(position), relation))
    return place


def events_document(events: Iterable[MISPEvent]) -> dict[str, Any]:
    """Events as one JSON document, shaped like a MISP search response: `{"response": [{"Event": ...}, ...]}`."""
    return {"response": [json.loads(event.to_json()) for event in events]}


def _event(record_id: uuid.UUID, info: str, tlp: str, updated_at: dt.datetime) -> MISPEvent:
    event = MISPEvent()
    event.uuid = str(record_id)
    event.info = info
    event.distribution = DISTRIBUTION[tlp]
    event.timestamp = _utc(updated_at)
    event.add_tag(tlp_tag(tlp))
    return event


def _add_indicators(event: MISPEvent, incident: IncidentOut, *, mask_free_text: bool) -> None:
    """The incident's indicators as attributes for intrusion detection, with uuids of this event's own."""
    for position, indicator in enumerate(incident.indicators):
        misp_type, category = INDICATOR_ATTRIBUTES[indicator.kind]
        seen: dict[str, dt.datetime] = {}
        if indicator.first_seen is not None:
            seen["first_seen"] = dt.datetime.combine(indicator.first_seen, dt.time(), dt.UTC)
        if indicator.last_seen is not None:
            seen["last_seen"] = dt.datetime.combine(indicator.last_seen, dt.time(23, 59, 59), dt.UTC)
        event.add_attribute(
            misp_type,
            indicator.value,
            category=category,
            to_ids=True,
            comment="" if mask_free_text or not indicator.note else indicator.note,
            uuid=_uuid(uuid.UUID(event.uuid), "indicator", str(incident.id), str(position)),
            **seen,
        )


def _add_actors(event: MISPEvent, actors: Sequence[ActorOut], roles: Mapping[uuid.UUID, str]) -> None:
    for actor in sorted(actors, key=lambda actor: str(actor.id)):
        attribute = _add(event, "threat-actor", actor.name, category="Attribution", comment="", key=str(actor.id))
        attribute.add_tag(machine_tag("actor-type", actor.actor_type))
        if roles.get(actor.id):
            attribute.add_tag(machine_tag("actor-role", roles[actor.id]))
        if actor.country:
            attribute.add_tag(machine_tag("actor-country", actor.country))


def _add(event: MISPEvent, misp_type: str, value: str, *, category: str, comment: str, key: str) -> Any:
    return event.add_attribute(
        misp_type, value, category=category, comment=comment, uuid=_uuid(uuid.UUID(event.uuid), "attribute", key)
    )


def _uuid(record_id: uuid.UUID, *parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join((str(record_id), *parts))))


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
