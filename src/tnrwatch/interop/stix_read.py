"""Reading STIX 2.1 objects from partners: checking each one, and turning tnrwatch's own objects back into the fields
of incidents (and their indicators), actors, alerts and comments (the reverse of interop/stix.py). No I/O:
services/stix_import.py stores.

Every object is parsed by the `stix2` library (custom properties allowed, since tnrwatch's extensions are custom to
it), must be STIX 2.1, and, unless it is a definition (marking, extension, an organisation's identity, a language
content), must carry a TLP marking: TLP 2.0 or, from older tools, TLP 1.0 (WHITE is read as CLEAR). When several are
given the strictest holds. Problems are raised as `StixReadError` with a message that names the property at fault.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stix2
from stix2.exceptions import STIXError

from tnrwatch.domain.countries import check_country_code
from tnrwatch.domain.sharing import stricter
from tnrwatch.interop.stix import (
    ALERT_EXTENSION_ID,
    INDICATOR_PATTERNS,
    TNR_EXTENSION_ID,
    WITHHELD_NOTE,
    indicator_description,
)
from tnrwatch.taxonomy import Taxonomy

# TLP 1.0 marking-definitions (stix2's TLP_WHITE ... TLP_RED), as older tools still mark with them.
TLP1_IDS: Mapping[str, str] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
# Objects that describe other objects rather than say anything themselves: they need no marking.
UNMARKED_TYPES = frozenset({"marking-definition", "extension-definition", "language-content"})
# From tnrwatch's opinions back: STIX's five grades on tnrwatch's three.
OPINIONS_BACK: Mapping[str, str] = {
    "strongly-agree": "agree",
    "agree": "agree",
    "neutral": "unsure",
    "disagree": "disagree",
    "strongly-disagree": "disagree",
}
# Threat-actor types of objects without tnrwatch's extension, on tnrwatch's actor types (first match wins).
ACTOR_TYPES_BACK: tuple[tuple[str, str], ...] = (
    ("nation-state", "state"),
    ("spy", "intelligence_service"),
    ("crime-syndicate", "criminal_group"),
    ("criminal", "hired_individual"),
)
WITHHELD_SUMMARY = "The partner did not share the summary at this marking."
# One comparison of one observable property with a string, as interop/stix.py writes an indicator's pattern.
_ONE_COMPARISON = re.compile(r"^\[\s*(?P<path>[a-z0-9-]+:[A-Za-z0-9_.'-]+)\s*=\s*'(?P<literal>(?:[^'\\]|\\.)*)'\s*\]$")
_KIND_OF_PATH = {path: kind for kind, path in INDICATOR_PATTERNS.items()}
WITHHELD_EXPLANATION = "The partner did not share the explanation at this marking."


class StixReadError(ValueError):
    """An object this node cannot take; the message says which property is wrong and why."""


@dataclass(frozen=True)
class ParsedObject:
    """A checked object: its id, type, version (`modified`, else `created`; None for an unversioned observable),
    TLP code (None for an unmarked definition) and the object itself as received."""

    id: str
    type: str
    modified: dt.datetime | None
    tlp: str | None
    body: Mapping[str, Any]

    @property
    def uuid(self) -> uuid.UUID:
        return uuid_of(self.id)

    def extension(self, extension_id: str) -> Mapping[str, Any] | None:
        found = self.body.get("extensions", {}).get(extension_id)
        return found if isinstance(found, Mapping) else None


def uuid_of(stix_id: str) -> uuid.UUID:
    """The uuid part of a STIX id; StixReadError when there is none."""
    try:
        return uuid.UUID(stix_id.split("--", 1)[1])
    except (IndexError, ValueError):
        raise StixReadError(f"id: {stix_id!r} is not a STIX id (type--uuid)") from None


def parse_object(raw: Any, taxonomy: Taxonomy) -> ParsedObject:
    """Check one STIX 2.1 object; StixReadError saying what is wrong."""
    if not isinstance(raw, Mapping):
        raise StixReadError("not a JSON object")
    if raw.get("spec_version", "2.1") != "2.1":
        raise StixReadError(f"spec_version: {raw.get('spec_version')!r} is not 2.1")
    try:
        parsed = stix2.parse(dict(raw), allow_custom=True, version="2.1")
    except (STIXError, ValueError, TypeError, KeyError) as exc:
        raise StixReadError(_short(str(exc))) from None
    stix_type = str(parsed["type"])
    if stix_type == "bundle":
        raise StixReadError("a bundle inside a bundle is not taken")
    stamp = parsed.get("modified") or parsed.get("created")
    tlp = tlp_of(raw, taxonomy)
    if tlp is None and not _unmarked(raw):
        raise StixReadError("object_marking_refs: no TLP marking (every shared object must carry one)")
    return ParsedObject(
        id=str(parsed["id"]),
        type=stix_type,
        modified=_plain_utc(stamp) if stamp is not None else None,
        tlp=tlp,
        body=raw,
    )


def tlp_of(raw: Mapping[str, Any], taxonomy: Taxonomy) -> str | None:
    """The strictest TLP code among the object's markings; None when it has none."""
    by_id = {term.stix_id: term.code for term in taxonomy.tlp if term.stix_id}
    found: str | None = None
    for ref in raw.get("object_marking_refs", []) or []:
        code = by_id.get(ref) or TLP1_IDS.get(ref)
        if code is not None:
            found = code if found is None else stricter(found, code)
    return found


def _unmarked(raw: Mapping[str, Any]) -> bool:
    if raw.get("type") in UNMARKED_TYPES:
        return True
    return raw.get("type") == "identity" and raw.get("identity_class") != "individual"


def incident_fields(obj: ParsedObject) -> dict[str, Any]:
    """An `incident` with tnrwatch's extension as the raw fields of an `IncidentIn` (links and provenance are the
    importer's); StixReadError when the extension is missing."""
    coded = obj.extension(TNR_EXTENSION_ID)
    if coded is None:
        raise StixReadError(f"extensions: no {TNR_EXTENSION_ID} (not coded by tnrwatch)")
    fields: dict[str, Any] = {
        "id": obj.uuid,
        "title": obj.body.get("name"),
        "summary": obj.body.get("description", ""),
        "tlp": obj.tlp,
        "locations": [_location_in(location) for location in coded.get("locations", [])],
    }
    for name in (
        "taxonomy_version",
        "tactics",
        "origin_countries",
        "target_categories",
        "date_start",
        "date_end",
        "date_precision",
        "verification",
        "host_state_role",
        "mass_event",
        "target_count",
    ):
        if name in coded:
            fields[name] = coded[name]
    return fields


def _location_in(shared: Any) -> Any:
    if not isinstance(shared, Mapping):
        return shared  # IncidentIn names the problem
    location = {key: value for key, value in shared.items() if key not in ("latitude", "longitude")}
    if "latitude" in shared:
        location["lat"] = shared["latitude"]
    if "longitude" in shared:
        location["lon"] = shared["longitude"]
    return location


def indicator_fields(body: Mapping[str, Any]) -> tuple[dict[str, Any], int | None]:
    """An `indicator` as the raw fields of an incident's `Indicator` (its kind and value from its pattern, its note
    from its description, the days it was seen from tnrwatch's extension) and the position it had in its incident
    there (None when it does not say). StixReadError for a pattern that is not one comparison of a kind tnrwatch
    keeps."""
    pattern = str(body.get("pattern", ""))
    found = _ONE_COMPARISON.match(pattern.strip()) if body.get("pattern_type") == "stix" else None
    kind = _KIND_OF_PATH.get(found.group("path")) if found else None
    if found is None or kind is None:
        raise StixReadError(
            "pattern: only one comparison of one of "
            + ", ".join(INDICATOR_PATTERNS.values())
            + " with a string is taken as an incident's indicator"
        )
    fields: dict[str, Any] = {"kind": kind, "value": re.sub(r"\\(.)", r"\1", found.group("literal"))}
    description = body.get("description")
    if description and description != indicator_description(kind):
        fields["note"] = description
    extensions = body.get("extensions")
    coded = extensions.get(TNR_EXTENSION_ID) if isinstance(extensions, Mapping) else None
    coded = coded if isinstance(coded, Mapping) else {}
    for name in ("first_seen", "last_seen"):
        if coded.get(name):
            fields[name] = coded[name]
    position = coded.get("position")
    return fields, position if isinstance(position, int) and not isinstance(position, bool) else None


def actor_fields(obj: ParsedObject) -> tuple[dict[str, Any], uuid.UUID | None]:
    """A `threat-actor` as the raw fields of an `ActorIn` (without its parent) and the uuid of the parent it names.
    Without tnrwatch's extension, the actor's type comes from its threat_actor_types."""
    coded = obj.extension(TNR_EXTENSION_ID) or {}
    fields: dict[str, Any] = {
        "id": obj.uuid,
        "name": obj.body.get("name"),
        "actor_type": coded.get("actor_type") or _actor_type(obj.body.get("threat_actor_types", [])),
        "aliases": list(obj.body.get("aliases", [])),
        "description": obj.body.get("description", ""),
    }
    if coded.get("country"):
        fields["country"] = coded["country"]
    parent_ref = coded.get("parent_ref")
    return fields, uuid_of(parent_ref) if isinstance(parent_ref, str) else None


def _actor_type(types: Any) -> str:
    offered = set(types) if isinstance(types, list) else set()
    return next((ours for theirs, ours in ACTOR_TYPES_BACK if theirs in offered), "proxy")


def alert_fields(obj: ParsedObject) -> dict[str, Any]:
    """A `report` or `grouping` with tnrwatch's alert extension as an alert's fields: title, summary, level, status,
    expiry, published time and the STIX ids it refers to. StixReadError when the extension is missing or wrong."""
    coded = obj.extension(ALERT_EXTENSION_ID)
    if coded is None:
        raise StixReadError(f"extensions: no {ALERT_EXTENSION_ID} (not a tnrwatch alert)")
    level = coded.get("level")
    if level not in ("information", "warning", "urgent"):
        raise StixReadError(f"extensions.{ALERT_EXTENSION_ID}.level: {level!r} is not information, warning or urgent")
    status = "withdrawn" if obj.body.get("revoked") or coded.get("status") == "withdrawn" else "published"
    expires: dt.datetime | None = None
    if coded.get("expires") is not None:
        try:
            expires = _plain_utc(dt.datetime.fromisoformat(str(coded["expires"])))
        except ValueError:
            raise StixReadError(f"extensions.{ALERT_EXTENSION_ID}.expires: not a timestamp") from None
    published = obj.body.get("published") or obj.body.get("created")
    return {
        "title": str(obj.body.get("name") or "(untitled alert)")[:300],
        "summary": obj.body.get("description") or WITHHELD_SUMMARY,
        "level": level,
        "status": status,
        "expires_at": expires,
        "published_at": _plain_utc(dt.datetime.fromisoformat(str(published))),
        "object_refs": [str(ref) for ref in obj.body.get("object_refs", [])],
    }


def comment_fields(obj: ParsedObject) -> dict[str, Any]:
    """A `note` or `opinion` as a comment's kind, opinion and text (a placeholder where the text was withheld)."""
    if obj.type == "opinion":
        opinion = OPINIONS_BACK.get(str(obj.body.get("opinion")))
        if opinion is None:
            raise StixReadError(f"opinion: {obj.body.get('opinion')!r} is not a STIX opinion")
        text = obj.body.get("explanation") or WITHHELD_EXPLANATION
        return {"kind": "opinion", "opinion": opinion, "text": text}
    return {"kind": "corroboration", "opinion": None, "text": obj.body.get("content") or WITHHELD_NOTE}


def sighting_refs(note: Mapping[str, Any]) -> list[str]:
    """The sightings a note refers to (tnrwatch's corroboration notes name the sighting they come with)."""
    return [str(ref) for ref in note.get("object_refs", []) or [] if str(ref).startswith("sighting--")]


def sighted_actor(sighting: Mapping[str, Any]) -> uuid.UUID | None:
    """The uuid of the threat-actor a `sighting` is of; None when it is a sighting of anything else."""
    ref = sighting.get("sighting_of_ref")
    return uuid_of(ref) if isinstance(ref, str) and ref.startswith("threat-actor--") else None


def location_refs(sighting: Mapping[str, Any]) -> list[str]:
    """The `location` objects a sighting names as where it was seen (identities, also allowed there, are left)."""
    return [str(ref) for ref in sighting.get("where_sighted_refs", []) or [] if str(ref).startswith("location--")]


def location_country(location: Mapping[str, Any]) -> str | None:
    """The ISO 3166-1 alpha-2 country of a `location` (None when it gives none); StixReadError for a country that
    is not one, naming the location."""
    country = location.get("country")
    if country is None:
        return None
    try:
        return check_country_code(str(country))
    except ValueError as exc:
        raise StixReadError(f"where_sighted_refs: the country of {location.get('id')}: {exc}") from None


def _plain_utc(moment: dt.datetime) -> dt.datetime:
    """A plain `datetime` in UTC (stix2 hands out its own subclass, which databases need not know)."""
    utc = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return dt.datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=dt.UTC)


def _short(message: str, limit: int = 300) -> str:
    message = " ".join(message.split())
    return message if len(message) <= limit else message[: limit - 1] + "…"
