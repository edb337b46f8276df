"""/app: coding incidents from a report (the form, the duplicate step, linking an existing incident) and the staff
page of one incident.

The form is plain HTML posted to the server; a refusal shows the form again with each problem beside its field (the
services' errors carry the field's path, e.g. ("sources", 0, "reliability"), mapped here to the form's names).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tnrwatch.domain.countries import country_names
from tnrwatch.domain.indicators import INDICATOR_KINDS
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from tnrwatch.services import coding, incidents
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed, may_write_record
from tnrwatch.services.reports import Intake
from tnrwatch.web.public.common import get_intake
from tnrwatch.web.staff.pages import _report_page
from tnrwatch.web.staff.session import csrf_form, render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)

SOURCE_ROWS = 3
PERSON_ROWS = 3
NEW_PERSON_ROWS = 2
ACTOR_ROWS = 3
INDICATOR_ROWS = 3
INDICATOR_LABELS = {
    "domain-name": "Domain name",
    "ipv4-addr": "IPv4 address",
    "ipv6-addr": "IPv6 address",
    "url": "Web address (URL)",
    "file-sha256": "File (SHA-256)",
    "email-addr": "E-mail address",
}
DEFAULTS = {
    "date_precision": "day",
    "geo_precision": "country",
    "host_state_role": "unknown",
    "verification": "reported",
    "tlp": "amber",
    **{f"sources-{i}-reliability": "F" for i in range(SOURCE_ROWS)},
    **{f"sources-{i}-credibility": "6" for i in range(SOURCE_ROWS)},
}
_IDENTITY_FIELDS = ("full_name", "other_names", "date_of_birth", "contact", "notes")
_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "date_start": "Date (start)",
    "date_end": "Date (end)",
    "date_precision": "Date precision",
    "origin_countries": "Origin state(s)",
    "host_country": "Host country",
    "geo_precision": "Geo precision",
    "admin1": "Region",
    "place": "Place",
    "lat": "Latitude",
    "lon": "Longitude",
    "location": "Location",
    "host_state_role": "Host-state role",
    "target_count": "Number of targets",
    "mass_event": "Mass event",
    "tactics": "Tactics",
    "target_categories": "Target categories",
    "vulnerability_flags": "Vulnerability flags",
    "verification": "Verification",
    "tlp": "TLP",
}
_ROW_NOUNS = {
    "sources": "Source",
    "persons": "Person",
    "new_persons": "New person",
    "actors": "Actor",
    "indicators": "Indicator",
}


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


async def form_fields(request: Request) -> FormData:
    """The posted form (read here, in the event loop, so that the handlers themselves stay synchronous)."""
    return await request.form(max_files=0, max_fields=400)


@dataclass
class FormValues:
    """The form's values by name, each a list (checkboxes and multiple selects repeat their name)."""

    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, form: FormData | Mapping[str, str]) -> FormValues:
        found: dict[str, list[str]] = {}
        items = form.multi_items() if isinstance(form, FormData) else list(form.items())
        for name, value in items:
            if isinstance(value, str):
                found.setdefault(name, []).append(value.strip())
        return cls(found)

    def one(self, name: str, default: str = "") -> str:
        return (self.values.get(name) or [default])[0]

    def many(self, name: str) -> list[str]:
        return [value for value in self.values.get(name, []) if value]

    def checked(self, name: str) -> bool:
        return self.one(name) in ("on", "yes", "true", "1")


@dataclass
class ParsedForm:
    """The coding form as the service takes it, and which form row each list entry came from."""

    incident: dict[str, Any]
    picks: list[coding.PersonPick]
    new_persons: list[coding.NewPerson]
    rows: dict[str, list[int]]
    confirm: bool


def parse_form(values: FormValues) -> ParsedForm:
    incident: dict[str, Any] = {}

    def put(target: dict[str, Any], key: str, value: Any) -> None:
        if value is not None and value != "" and value != [] and value != {}:
            target[key] = value

    for name in ("title", "date_start", "date_end", "date_precision", "host_state_role", "verification", "tlp"):
        put(incident, name, values.one(name))
    put(incident, "summary", values.one("summary"))
    put(incident, "target_count", values.one("target_count"))
    for name in ("origin_countries", "tactics", "target_categories", "vulnerability_flags"):
        put(incident, name, values.many(name))
    location: dict[str, Any] = {"obfuscated": values.checked("obfuscated")}
    for form_name, key in (
        ("host_country", "country"),
        ("geo_precision", "geo_precision"),
        ("admin1", "admin1"),
        ("place", "place"),
        ("lat", "lat"),
        ("lon", "lon"),
    ):
        put(location, key, values.one(form_name))
    incident["locations"] = [location]
    rows: dict[str, list[int]] = {"sources": [], "persons": [], "new_persons": [], "actors": [], "indicators": []}
    sources = []
    for row in range(SOURCE_ROWS):
        source: dict[str, Any] = {}
        for key in ("title", "url", "publisher", "published_on"):
            put(source, key, values.one(f"sources-{row}-{key}"))
        if source:
            put(source, "reliability", values.one(f"sources-{row}-reliability"))
            put(source, "credibility", values.one(f"sources-{row}-credibility"))
            sources.append(source)
            rows["sources"].append(row)
    put(incident, "sources", sources)
    actors = []
    for row in range(ACTOR_ROWS):
        if values.one(f"actors-{row}-id"):
            actors.append(
                {"id": values.one(f"actors-{row}-id"), "role": values.one(f"actors-{row}-role", "perpetrator")}
            )
            rows["actors"].append(row)
    put(incident, "actors", actors)
    indicators = []
    for row in range(INDICATOR_ROWS):
        indicator: dict[str, Any] = {}
        for key in ("value", "note", "first_seen", "last_seen"):
            put(indicator, key, values.one(f"indicators-{row}-{key}"))
        if indicator:
            indicator["kind"] = values.one(f"indicators-{row}-kind")
            indicators.append(indicator)
            rows["indicators"].append(row)
    put(incident, "indicators", indicators)
    picks = []
    for row in range(PERSON_ROWS):
        if values.one(f"persons-{row}-pseudonym"):
            role = values.one(f"persons-{row}-role", "target")
            picks.append(coding.PersonPick(values.one(f"persons-{row}-pseudonym"), role))
            rows["persons"].append(row)
    new_persons = []
    for row in range(NEW_PERSON_ROWS):
        prefix = f"new_persons-{row}-"
        identity: dict[str, Any] = {}
        for key in _IDENTITY_FIELDS:
            put(identity, key, values.one(prefix + key))
        if "other_names" in identity:
            identity["other_names"] = [name.strip() for name in identity["other_names"].split(",") if name.strip()]
        person: dict[str, Any] = {"at_risk": values.checked(prefix + "at_risk")}
        put(person, "pseudonym", values.one(prefix + "pseudonym"))
        put(person, "identity", identity)
        if len(person) > 1 or person["at_risk"]:
            new_persons.append(coding.NewPerson(person, values.one(prefix + "role", "target")))
            rows["new_persons"].append(row)
    return ParsedForm(incident, picks, new_persons, rows, values.one("confirm") == "yes")


def field_name(loc: Sequence[str | int], rows: Mapping[str, list[int]]) -> str:
    """The form field an error is about: ("locations", 0, "country") -> "host_country", ("sources", 1, "url") ->
    "sources-<its row>-url"; errors about a whole location or row go to the group."""
    if not loc:
        return "form"
    head = str(loc[0])
    if head == "locations":
        if len(loc) >= 3:
            return {"country": "host_country"}.get(str(loc[2]), str(loc[2]))
        return "location"
    if head in rows and len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(rows[head]):
        row = rows[head][loc[1]]
        rest = [str(part) for part in loc[2:] if isinstance(part, str) and part != "identity"]
        name = rest[0] if rest else ""
        if head == "persons" and name in ("", "id"):
            name = "pseudonym"
        if head == "actors" and name == "":
            name = "id"
        return f"{head}-{row}-{name}" if name else f"{head}-{row}"
    return head


def field_label(name: str) -> str:
    head, _, rest = name.partition("-")
    if head in _ROW_NOUNS and rest:
        row, _, key = rest.partition("-")
        return f"{_ROW_NOUNS[head]} {int(row) + 1}" + (f", {key.replace('_', ' ')}" if key else "")
    return _LABELS.get(name, name.replace("_", " ").capitalize())


def errors_by_field(errors: Sequence[FieldError], rows: Mapping[str, list[int]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        found.setdefault(field_name(error.loc, rows), []).append(error.msg)
    return found


def _form_page(
    request: Request,
    principal: Principal,
    start: coding.CodingStart,
    values: FormValues,
    *,
    errors: Mapping[str, list[str]] | None = None,
    duplicates: Sequence[coding.Duplicate] = (),
    status_code: int = 200,
) -> HTMLResponse:
    taxonomy = _node(request).taxonomy
    countries = sorted(country_names().items(), key=lambda item: item[1])
    return render_staff(
        request,
        "staff/code_incident.html",
        {
            "principal": principal,
            "start": start,
            "report_id": start.report_id,
            "short_id": str(start.report_id)[:8],
            "values": values,
            "errors": errors or {},
            "field_label": field_label,
            "duplicates": duplicates,
            "taxonomy": taxonomy,
            "countries": countries,
            "country_name": dict(countries),
            "rows": {
                "sources": SOURCE_ROWS,
                "persons": PERSON_ROWS,
                "new_persons": NEW_PERSON_ROWS,
                "actors": ACTOR_ROWS,
                "indicators": INDICATOR_ROWS,
            },
            "indicator_kinds": [{"code": kind, "label": INDICATOR_LABELS[kind]} for kind in INDICATOR_KINDS],
        },
        status_code=status_code,
    )


@router.get(
    "/app/reports/{report_id}/incidents/new", response_class=HTMLResponse, dependencies=[staff_permits("case:work")]
)
def new_incident_page(
    request: Request, report_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> HTMLResponse:
    start = coding.start_coding(_node(request), principal, report_id)
    defaults = {**DEFAULTS, **({"host_country": start.host_country} if start.host_country else {})}
    return _form_page(request, principal, start, FormValues.of(defaults))


@router.post("/app/reports/{report_id}/incidents", dependencies=[staff_permits("case:work"), Depends(csrf_form)])
def code_incident(
    request: Request,
    report_id: uuid.UUID,
    form: FormData = Depends(form_fields),
    principal: Principal = Depends(staff_principal),
) -> Response:
    """Code an incident from the report. Possible duplicates stop it once: the page shows them, to link one instead
    or to confirm that the incident is new."""
    node = _node(request)
    start = coding.start_coding(node, principal, report_id)
    values = FormValues.of(form)
    parsed = parse_form(values)
    try:
        result = coding.code_incident(
            node,
            principal,
            report_id,
            parsed.incident,
            persons=parsed.picks,
            new_persons=parsed.new_persons,
            confirm=parsed.confirm,
        )
    except InvalidInputError as exc:
        errors = errors_by_field(exc.errors or [FieldError((), exc.message)], parsed.rows)
        return _form_page(request, principal, start, values, errors=errors, status_code=422)
    except ConflictError as exc:
        return _form_page(request, principal, start, values, errors={"form": [exc.message]}, status_code=409)
    if result.incident is None:
        return _form_page(request, principal, start, values, duplicates=result.duplicates)
    return RedirectResponse(f"/app/reports/{report_id}#coding-title", status_code=303)


@router.post("/app/reports/{report_id}/incidents/link", dependencies=[staff_permits("case:work"), Depends(csrf_form)])
def link_incident(
    request: Request,
    report_id: uuid.UUID,
    incident_id: str = Form("", max_length=100),
    principal: Principal = Depends(staff_principal),
    intake: Intake = Depends(get_intake),
) -> Response:
    node = _node(request)
    coding.start_coding(node, principal, report_id, limit=0)  # the report's NotFound and Forbidden come first
    try:
        incident = uuid.UUID(incident_id.strip())
    except ValueError:
        message = "give the incident's id, e.g. 3f2b8c1e-5d4a-4e8f-9a7b-2c1d0e9f8a7b"
        return _report_page(request, principal, intake, report_id, coding_error=message, status_code=422)
    try:
        coding.link_incident(node, principal, report_id, incident)
    except (NotFoundError, ConflictError) as exc:
        return _report_page(request, principal, intake, report_id, coding_error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/app/reports/{report_id}#coding-title", status_code=303)


@router.get("/app/incidents/{incident_id}", response_class=HTMLResponse, dependencies=[staff_permits("incident:read")])
def incident_page(
    request: Request, incident_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> HTMLResponse:
    return _incident_page(request, principal, incident_id)


def _incident_page(
    request: Request, principal: Principal, incident_id: uuid.UUID, *, notice: str | None = None
) -> HTMLResponse:
    view = coding.incident_view(_node(request), principal, incident_id)
    owner = incidents.ownership(_node(request), principal, incident_id)
    return render_staff(
        request,
        "staff/incident.html",
        {
            "principal": principal,
            "view": view,
            "incident": view.incident,
            "owner": owner,
            "may_share": owner.jurisdiction is not None
            and allowed(principal, "incident:write")
            and may_write_record(principal, owner.jurisdiction),
            "notice": notice,
            "indicator_labels": INDICATOR_LABELS,
            "taxonomy": _node(request).taxonomy,
            "country_name": country_names(),
        },
    )


@router.post("/app/incidents/{incident_id}/sharing", dependencies=[staff_permits("incident:write"), Depends(csrf_form)])
def share_incident(
    request: Request,
    incident_id: uuid.UUID,
    principal: Principal = Depends(staff_principal),
    shared_with_eu: str = Form("", max_length=8),
) -> Response:
    """Share the jurisdiction's incident with the EU level, or stop sharing it."""
    if shared_with_eu not in ("yes", "no"):
        raise InvalidInputError("the form is invalid", [FieldError(("shared_with_eu",), "answer yes or no")])
    incidents.share_with_eu(_node(request), principal, incident_id, shared_with_eu == "yes")
    return RedirectResponse(f"/app/incidents/{incident_id}#sharing-title", status_code=303)
