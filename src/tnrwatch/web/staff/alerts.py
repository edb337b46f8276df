"""/app/alerts: the alerts an account reads (its own, drafts included, and those sent to it), writing one by hand
(from an incident or a case, or blank), a draft proposed from an escalation signal (/app/monitoring), publishing with
a confirmation step (a person approves before anything goes out), withdrawing, and recipients' corroboration notes
and opinions. The rules are services/alerts.py's; this module turns forms into its calls and its errors into words
beside the fields.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tnrwatch.domain.alert import ALERT_LEVELS, ALERT_STATUSES, OPINIONS, AlertIn, CommentIn
from tnrwatch.domain.countries import country_name, country_names
from tnrwatch.domain.escalation import SeriesKey
from tnrwatch.domain.validation import try_validate
from tnrwatch.errors import ConflictError, FieldError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import actors, alerts, coding, monitoring
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed
from tnrwatch.web.staff.coding import FormValues, form_fields
from tnrwatch.web.staff.monitoring import parse_as_of, series_label
from tnrwatch.web.staff.session import csrf_form, render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)

LIST_LIMIT = 200
ACTOR_CHOICES = 1000
LEVEL_LABELS = {"information": "Information", "warning": "Warning", "urgent": "Urgent"}
STATUS_LABELS = {"draft": "Draft", "published": "Published", "withdrawn": "Withdrawn"}
FIELD_LABELS = {
    "title": "Title",
    "summary": "Summary",
    "level": "Level",
    "tlp": "TLP marking",
    "audience": "Audience",
    "incident_ids": "Incidents",
    "more_incidents": "More incidents",
    "actor_ids": "Actors",
    "expires_at": "Expiry",
    "kind": "Kind",
    "opinion": "Opinion",
    "text": "Text",
    "sighted_actor_id": "Actor seen",
    "sighted_country": "Country seen",
    "form": "The form",
}
_FORM_FIELDS = ("title", "summary", "level", "tlp", "audience", "incident_ids", "actor_ids", "expires_at")
_IDS = re.compile(r"[\s,;]+")


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def owner_label(jurisdiction: str | None) -> str:
    return jurisdiction or "the EU level"


def audience_label(kind: str, value: str) -> str:
    if kind == "eu":
        return "the EU level"
    return f"partner node {value}" if kind == "partner" else f"focal point {value}"


# -- the list ----------------------------------------------------------------------------------------------------------


@router.get("/app/alerts", response_class=HTMLResponse, dependencies=[staff_permits("alert:read")])
def alerts_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    status: Literal["", "draft", "published", "withdrawn"] = "",
    level: Literal["", "information", "warning", "urgent"] = "",
) -> HTMLResponse:
    found = alerts.list_alerts(_node(request), principal, status=status or None, level=level or None, limit=LIST_LIMIT)
    return render_staff(
        request,
        "staff/alerts.html",
        {
            "principal": principal,
            "alerts": found,
            "limit": LIST_LIMIT,
            "filters": {"status": status, "level": level, "any": bool(status or level)},
            "statuses": ALERT_STATUSES,
            "levels": ALERT_LEVELS,
            "status_labels": STATUS_LABELS,
            "level_labels": LEVEL_LABELS,
            "owner_label": owner_label,
            "may_write": allowed(principal, "alert:write"),
        },
    )


# -- writing one -------------------------------------------------------------------------------------------------------


def _prefill(node: Node, principal: Principal, incident: str, case: str) -> tuple[list[alerts.LinkedIncident], str]:
    """The incidents a new alert starts from (?incident=<id>, or ?case=<id>: the incidents coded from or linked to
    the case's report), and the page to go back to."""
    if incident:
        incident_uuid = _query_uuid("incident", incident)
        found = list(alerts.linked_incidents(node, principal, [incident_uuid]))
        if not found:
            raise NotFoundError(f"no incident with id {incident_uuid}")
        return found, f"/app/incidents/{incident_uuid}"
    if case:
        report_id = _query_uuid("case", case)
        coded = coding.report_incidents(node, principal, report_id)
        linked = alerts.linked_incidents(node, principal, [item.id for item in coded])
        return list(linked), f"/app/reports/{report_id}"
    return [], "/app/alerts"


def _query_uuid(name: str, text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise InvalidInputError(
            f"the {name} is invalid", [FieldError(("query", name), f"{text[:40]!r} is not an id")]
        ) from None


@router.get("/app/alerts/new", response_class=HTMLResponse, dependencies=[staff_permits("alert:write")])
def new_alert_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    incident: str = Query("", max_length=100),
    case: str = Query("", max_length=100),
    from_alert: str = Query("", max_length=100),
) -> HTMLResponse:
    """The form, blank or started from an incident, a case's incidents, or another alert (a proposed draft to
    change, a published alert to write again: alerts are never edited)."""
    node = _node(request)
    if from_alert:
        return _copy_page(request, principal, _query_uuid("from_alert", from_alert))
    offered, back = _prefill(node, principal, incident, case)
    markings = alerts.usable_markings(offered)
    defaults: dict[str, list[str]] = {
        "level": ["warning"],
        "tlp": ["amber" if "amber" in markings else markings[0]],
        "incident_ids": [str(item.id) for item in offered],
        "back": [back],
    }
    if len(offered) == 1:
        defaults["title"] = [offered[0].title]
    if principal.jurisdiction is not None:
        defaults["audience"] = ["eu"]  # a focal point's alert goes to the EU level unless the writer says otherwise
    return _form_page(request, principal, FormValues(defaults), offered)


def _copy_page(request: Request, principal: Principal, alert_id: uuid.UUID) -> HTMLResponse:
    node = _node(request)
    source = alerts.get_alert(node, principal, alert_id)
    offered = list(alerts.linked_incidents(node, principal, source.incident_ids))
    values: dict[str, list[str]] = {
        "title": [source.title],
        "summary": [source.summary],
        "level": [source.level],
        "tlp": [source.tlp],
        "audience": [item.kind + (f":{item.value}" if item.value else "") for item in source.audience],
        "incident_ids": [str(item.id) for item in offered],
        "actor_ids": [str(actor) for actor in source.actor_ids],
        "back": [f"/app/alerts/{alert_id}"],
    }
    if source.expires_at is not None and source.expires_at > dt.datetime.now(dt.UTC):
        values["expires_at"] = [source.expires_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")]
    return _form_page(request, principal, FormValues(values), offered)


@router.post("/app/alerts", dependencies=[staff_permits("alert:write"), Depends(csrf_form)])
def create_alert(
    request: Request, form: FormData = Depends(form_fields), principal: Principal = Depends(staff_principal)
) -> Response:
    """Save a draft: nothing goes out until a person publishes it from its page."""
    node = _node(request)
    values = FormValues.of(form)
    raw, errors = parse_alert_form(values)
    if not errors:
        try:
            alert = alerts.create_alert(node, principal, raw)
        except InvalidInputError as exc:
            errors = list(exc.errors) or [FieldError(("form",), exc.message)]
        else:
            return RedirectResponse(f"/app/alerts/{alert.id}", status_code=303)
    else:
        # Say everything at once: what the form itself could not read, and what the alert's model refuses.
        checked = try_validate(AlertIn, raw, node.taxonomy)
        if isinstance(checked, list):
            errors += [error for error in checked if _field(error.loc) not in {_field(e.loc) for e in errors}]
    offered = _offered(node, principal, values)
    return _form_page(request, principal, values, offered, errors=errors_by_field(errors), status_code=422)


def parse_alert_form(values: FormValues) -> tuple[dict[str, Any], list[FieldError]]:
    """The form as the alert service takes it, and the errors of what could not be read at all (ids, the expiry,
    recipients), each under the form field it came from."""
    raw: dict[str, Any] = {}
    errors: list[FieldError] = []
    for name in ("title", "summary", "level", "tlp"):
        raw[name] = values.one(name)
    audience = []
    for choice in values.many("audience"):
        kind, _, value = choice.partition(":")
        if kind not in ("eu", "jurisdiction", "partner"):
            errors.append(FieldError(("audience",), f"{choice[:40]!r} is not a recipient"))
            continue
        audience.append({"kind": kind, "value": value})
    raw["audience"] = audience
    incident_ids: list[str] = list(values.many("incident_ids"))
    for text in _IDS.split(values.one("more_incidents")):
        if not text:
            continue
        try:
            incident_ids.append(str(uuid.UUID(text)))
        except ValueError:
            errors.append(FieldError(("more_incidents",), f"{text[:40]!r} is not an incident id"))
    raw["incident_ids"] = list(dict.fromkeys(incident_ids))
    raw["actor_ids"] = list(dict.fromkeys(values.many("actor_ids")))
    expiry = values.one("expires_at")
    if expiry:
        try:
            raw["expires_at"] = dt.datetime.fromisoformat(expiry).replace(tzinfo=dt.UTC)
        except ValueError:
            errors.append(FieldError(("expires_at",), f"{expiry[:30]!r} is not a date and time like 2026-12-31 23:59"))
    return raw, errors


def _field(loc: Sequence[str | int]) -> str:
    """The form field an error is about: ("audience", 0) -> "audience", ("incident_ids", 2) -> "incident_ids"."""
    head = str(loc[0]) if loc else "form"
    return head if head in FIELD_LABELS else "form"


def errors_by_field(errors: Sequence[FieldError]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in errors:
        found.setdefault(_field(error.loc), []).append(error.msg)
    return found


def _offered(node: Node, principal: Principal, values: FormValues) -> list[alerts.LinkedIncident]:
    """The incidents the form listed (and kept as choices after a refusal), readable ones only."""
    ids: list[uuid.UUID] = []
    for text in values.many("offered"):
        try:
            ids.append(uuid.UUID(text))
        except ValueError:
            continue
    return list(alerts.linked_incidents(node, principal, ids))


def _form_page(
    request: Request,
    principal: Principal,
    values: FormValues,
    offered: Sequence[alerts.LinkedIncident],
    *,
    errors: Mapping[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    node = _node(request)
    chosen = set(values.many("incident_ids"))
    markings = alerts.usable_markings([item for item in offered if str(item.id) in chosen])
    back = values.one("back", "/app/alerts")
    return render_staff(
        request,
        "staff/alert_new.html",
        {
            "principal": principal,
            "values": values,
            "errors": errors or {},
            "field_labels": FIELD_LABELS,
            "offered": offered,
            "markings": markings,
            "all_markings": node.taxonomy.tlp,
            "levels": ALERT_LEVELS,
            "level_labels": LEVEL_LABELS,
            "choices": alerts.audience_choices(node, principal),
            "actors": actors.list_actors(node, principal, limit=ACTOR_CHOICES)
            if allowed(principal, "actor:read")
            else [],
            "back": back if back.startswith("/app/") else "/app/alerts",
        },
        status_code=status_code,
    )


# -- one alert ---------------------------------------------------------------------------------------------------------


@router.get("/app/alerts/{alert_id}", response_class=HTMLResponse, dependencies=[staff_permits("alert:read")])
def alert_page(request: Request, alert_id: uuid.UUID, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    return _alert_page(request, principal, alert_id)


def _alert_page(
    request: Request,
    principal: Principal,
    alert_id: uuid.UUID,
    *,
    action_error: str | None = None,
    comment_values: FormValues | None = None,
    comment_errors: Mapping[str, list[str]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = alerts.alert_view(_node(request), principal, alert_id)
    return render_staff(
        request,
        "staff/alert.html",
        {
            "principal": principal,
            "view": view,
            "alert": view.alert,
            "level_labels": LEVEL_LABELS,
            "status_labels": STATUS_LABELS,
            "owner_label": owner_label,
            "audience_label": audience_label,
            "action_error": action_error,
            "comment_values": comment_values or FormValues({"kind": ["corroboration"]}),
            "comment_errors": comment_errors or {},
            "field_labels": FIELD_LABELS,
            "opinions": OPINIONS,
            "actor_names": dict(view.actors),
            "countries": sorted(country_names().items(), key=lambda item: item[1]),
            "country_name": country_name,
            "now": dt.datetime.now(dt.UTC),
        },
        status_code=status_code,
    )


@router.get("/app/alerts/{alert_id}/publish", response_class=HTMLResponse, dependencies=[staff_permits("alert:write")])
def confirm_publish_page(
    request: Request, alert_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> HTMLResponse:
    """The confirmation step: the draft as its recipients will read it, and whom it goes to, before a person
    publishes it."""
    view = alerts.alert_view(_node(request), principal, alert_id)
    if not view.owned:
        raise ForbiddenError(
            f"this alert belongs to {owner_label(view.alert.jurisdiction)}: only its own staff publish it"
        )
    if view.alert.status != "draft":
        return _alert_page(
            request,
            principal,
            alert_id,
            action_error=f"a {view.alert.status} alert cannot be published",
            status_code=409,
        )
    return render_staff(
        request,
        "staff/alert_publish.html",
        {
            "principal": principal,
            "view": view,
            "alert": view.alert,
            "level_labels": LEVEL_LABELS,
            "audience_label": audience_label,
        },
    )


@router.post("/app/alerts/{alert_id}/publish", dependencies=[staff_permits("alert:write"), Depends(csrf_form)])
def publish_alert(request: Request, alert_id: uuid.UUID, principal: Principal = Depends(staff_principal)) -> Response:
    return _action(request, principal, alert_id, lambda: alerts.publish_alert(_node(request), principal, alert_id))


@router.post("/app/alerts/{alert_id}/withdraw", dependencies=[staff_permits("alert:write"), Depends(csrf_form)])
def withdraw_alert(request: Request, alert_id: uuid.UUID, principal: Principal = Depends(staff_principal)) -> Response:
    return _action(request, principal, alert_id, lambda: alerts.withdraw_alert(_node(request), principal, alert_id))


def _action(request: Request, principal: Principal, alert_id: uuid.UUID, action: Callable[[], object]) -> Response:
    """Publish or withdraw, then show the alert: after a redirect, or at once with the refusal in words (a reader
    who is not of the owner's staff gets 403; one who may not read the alert, 404)."""
    try:
        action()
    except ConflictError as exc:
        return _alert_page(request, principal, alert_id, action_error=exc.message, status_code=exc.status)
    return RedirectResponse(f"/app/alerts/{alert_id}", status_code=303)


@router.post("/app/alerts/{alert_id}/comments", dependencies=[staff_permits("alert:read"), Depends(csrf_form)])
def add_comment(
    request: Request,
    alert_id: uuid.UUID,
    principal: Principal = Depends(staff_principal),
    kind: str = Form("", max_length=20),
    opinion: str = Form("", max_length=20),
    text: str = Form("", max_length=25_000),
    sighted_actor_id: str = Form("", max_length=100),
    sighted_country: str = Form("", max_length=10),
) -> Response:
    """A recipient's corroboration note (perhaps a sighting: one of the alert's actors seen, and where) or opinion."""
    node = _node(request)
    alerts.get_alert(node, principal, alert_id)  # an alert the reader may not read is not there, whatever the form
    raw = {"kind": kind, "text": text.strip(), **({"opinion": opinion} if kind == "opinion" and opinion else {})}
    sighting = {"sighted_actor_id": sighted_actor_id.strip(), "sighted_country": sighted_country.strip()}
    raw |= {name: value for name, value in sighting.items() if value}
    values = FormValues.of({"kind": kind, "opinion": opinion, "text": text, **sighting})
    checked = try_validate(CommentIn, raw, node.taxonomy)
    errors = checked if isinstance(checked, list) else []
    if errors and kind == "opinion" and not opinion and all(error.loc for error in errors):
        # The model checks the opinion only once every field is valid; say it now, with the rest.
        errors.append(FieldError(("opinion",), "an opinion says agree, disagree or unsure"))
    if not errors:
        try:
            alerts.add_comment(node, principal, alert_id, raw)
        except ConflictError as exc:
            errors = [FieldError(("form",), exc.message)]
        except InvalidInputError as exc:  # a sighted actor the alert does not name
            errors = list(exc.errors) or [FieldError(("form",), exc.message)]
        else:
            return RedirectResponse(f"/app/alerts/{alert_id}#comments-title", status_code=303)
    by_field: dict[str, list[str]] = {}
    for error in errors:
        name = str(error.loc[0]) if error.loc else ("opinion" if kind == "opinion" else "kind")
        by_field.setdefault(name if name in FIELD_LABELS else "form", []).append(error.msg)
    return _alert_page(request, principal, alert_id, comment_values=values, comment_errors=by_field, status_code=422)


# -- a draft from an escalation signal ---------------------------------------------------------------------------------


@router.post("/app/alerts/proposals", dependencies=[staff_permits("alert:write"), Depends(csrf_form)])
def propose_alert(
    request: Request,
    principal: Principal = Depends(staff_principal),
    kind: str = Form("", max_length=20),
    value: str = Form("", max_length=100),
    as_of: str = Form("", max_length=20),
) -> Response:
    """A draft from one of the monitoring page's signals, found again for the month and the reader: the draft
    holds the evidence the signal rests on; its owner checks it and publishes it, or drops it."""
    node = _node(request)
    month = parse_as_of(as_of)
    if month is None or kind not in ("origin", "host", "pair", "tactic_family") or not value:
        raise InvalidInputError(
            "the signal is not named",
            [FieldError(("form",), "give the signal's series (kind and value) and month, as the monitoring page does")],
        )
    key = SeriesKey(kind, value)  # type: ignore[arg-type]  # kind checked against SeriesKind's values just above
    found = next((s for s in monitoring.signals(node, principal, as_of=month) if s.key == key), None)
    if found is None:
        raise NotFoundError(f"no signal for {value} in {month:%B %Y} among the incidents you may read")
    draft = alerts.propose_from_signal(node, principal, found, series_label(key.kind, key.value, node.taxonomy))
    return RedirectResponse(f"/app/alerts/{draft.id}", status_code=303)
