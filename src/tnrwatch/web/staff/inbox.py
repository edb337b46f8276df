"""/app/inbox, /app/subscriptions, /app/deliveries: what an account's saved searches found, the saved searches
themselves, and the delivery log of their e-mails and webhooks. Everything is the signed-in account's own
(services/subscriptions.py decides; another account's subscription is "not found").

The inbox names an incident or alert by its title only while the reader may still read it; the delivery log says
what happened to each message (status, attempts, next attempt, the error's class or HTTP status), never what it said.
A webhook's signing secret is shown once, on the page that answers the form that made the subscription.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from tnrwatch.domain.countries import country_names
from tnrwatch.domain.sharing import TOPICS, SubscriptionFilter
from tnrwatch.domain.subscription import DELIVERY_STATUSES, InboxItemOut, SubscriptionOut
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import alerts, subscriptions
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, allowed
from tnrwatch.taxonomy import Taxonomy
from tnrwatch.web.staff.alerts import LEVEL_LABELS
from tnrwatch.web.staff.coding import FormValues, form_fields
from tnrwatch.web.staff.session import csrf_form, render_staff, staff_permits, staff_principal

router = APIRouter(include_in_schema=False)
MANAGE = "subscription:manage"
INBOX_PAGE = 100
LOG_PAGE = 200
EVENT_LABELS = {
    ("alert", "published"): "Alert published",
    ("alert", "withdrawn"): "Alert withdrawn",
    ("incident", "created"): "New incident",
    ("incident", "updated"): "Incident changed",
    ("incident", "verified"): "Incident verified",
}
TOPIC_LABELS = {"incident": "Incidents", "alert": "Alerts"}
STATUS_LABELS = {"pending": "Waiting", "sent": "Sent", "dead": "Given up"}
CHANNEL_LABELS = {"inbox": "Inbox", "email": "E-mail", "webhook": "Webhook"}
FIELD_LABELS = {
    "name": "Name",
    "topics": "What to hear of",
    "origins": "Origin states",
    "hosts": "Host countries",
    "tactics": "Tactics",
    "target_categories": "Target categories",
    "levels": "Alert levels",
    "channels": "Channels",
    "email": "E-mail address",
    "webhook_url": "Webhook address",
    "form": "The form",
}
_FILTER_LISTS = ("topics", "origins", "hosts", "tactics", "target_categories", "levels")


def _node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


def event_label(topic: str, event: str) -> str:
    return EVENT_LABELS.get((topic, event), f"{topic.capitalize()} {event}")


# -- the inbox ---------------------------------------------------------------------------------------------------------


@router.get("/app/inbox", response_class=HTMLResponse, dependencies=[staff_permits(MANAGE)])
def inbox_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    unread: bool = False,
    before: int | None = Query(None, ge=1),
) -> HTMLResponse:
    node = _node(request)
    items = subscriptions.list_inbox(node, principal, unread_only=unread, limit=INBOX_PAGE, before=before)
    return render_staff(
        request,
        "staff/inbox.html",
        {
            "principal": principal,
            "items": items,
            "titles": subject_titles(node, principal, items),
            "event_label": event_label,
            "unread_only": unread,
            "older": items[-1].id if len(items) == INBOX_PAGE else None,
            "before": before,
        },
    )


def subject_titles(node: Node, principal: Principal, items: Sequence[InboxItemOut]) -> dict[uuid.UUID, str]:
    """The titles of the items' incidents and alerts that the reader may still read (a share withdrawn since, or
    an incident re-marked, hides it)."""
    titles = alerts.alert_titles(node, principal, [item.subject_id for item in items if item.topic == "alert"])
    if allowed(principal, "incident:read"):
        wanted = [item.subject_id for item in items if item.topic == "incident"]
        titles.update((found.id, found.title) for found in alerts.linked_incidents(node, principal, wanted))
    return titles


@router.post("/app/inbox/read", dependencies=[staff_permits(MANAGE), Depends(csrf_form)])
def mark_all_read(request: Request, principal: Principal = Depends(staff_principal)) -> Response:
    subscriptions.mark_all_read(_node(request), principal)
    return RedirectResponse("/app/inbox", status_code=303)


@router.post("/app/inbox/{item_id}/read", dependencies=[staff_permits(MANAGE), Depends(csrf_form)])
def mark_read(request: Request, item_id: int, principal: Principal = Depends(staff_principal)) -> Response:
    subscriptions.mark_read(_node(request), principal, item_id)
    return RedirectResponse(f"/app/inbox#item-{item_id}", status_code=303)


# -- subscriptions -----------------------------------------------------------------------------------------------------


@router.get("/app/subscriptions", response_class=HTMLResponse, dependencies=[staff_permits(MANAGE)])
def subscriptions_page(request: Request, principal: Principal = Depends(staff_principal)) -> HTMLResponse:
    defaults = FormValues({"topics": list(_topics(principal)), "inbox": ["on"]})
    return _subscriptions_page(request, principal, defaults)


def _topics(principal: Principal) -> tuple[str, ...]:
    """What the account may hear of: alerts only if it reads them (liaisons do not)."""
    return tuple(topic for topic in TOPICS if allowed(principal, f"{topic}:read"))


def _subscriptions_page(
    request: Request,
    principal: Principal,
    values: FormValues,
    *,
    errors: Mapping[str, list[str]] | None = None,
    created: SubscriptionOut | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    node = _node(request)
    countries = sorted(country_names().items(), key=lambda item: item[1])
    return render_staff(
        request,
        "staff/subscriptions.html",
        {
            "principal": principal,
            "subscriptions": subscriptions.list_subscriptions(node, principal),
            "values": values,
            "errors": errors or {},
            "field_labels": FIELD_LABELS,
            "created": created,
            "topics": _topics(principal),
            "topic_labels": TOPIC_LABELS,
            "level_labels": LEVEL_LABELS,
            "countries": countries,
            "taxonomy": node.taxonomy,
            "describe": lambda found: describe_filter(found, node.taxonomy),
            "email_enabled": node.settings.smtp_host is not None,
        },
        status_code=status_code,
    )


@router.post("/app/subscriptions", dependencies=[staff_permits(MANAGE), Depends(csrf_form)])
def create_subscription(
    request: Request, form: FormData = Depends(form_fields), principal: Principal = Depends(staff_principal)
) -> Response:
    """Subscribe; with a webhook, the answer is the one page that shows its signing secret."""
    values = FormValues.of(form)
    try:
        made = subscriptions.create_subscription(_node(request), principal, parse_subscription_form(values))
    except InvalidInputError as exc:
        errors = errors_by_field(exc.errors or [FieldError(("form",), exc.message)])
        return _subscriptions_page(request, principal, values, errors=errors, status_code=422)
    if made.webhook_secret is None:
        return RedirectResponse(f"/app/subscriptions#subscription-{made.id}", status_code=303)
    fresh = FormValues({"topics": list(_topics(principal)), "inbox": ["on"]})
    return _subscriptions_page(request, principal, fresh, created=made, status_code=201)


def parse_subscription_form(values: FormValues) -> dict[str, Any]:
    """The form as the subscription service takes it: the saved search under "filter", the channels beside it."""
    return {
        "name": values.one("name"),
        "filter": {name: values.many(name) for name in _FILTER_LISTS},
        "inbox": values.checked("inbox"),
        "email": values.one("email") or None,
        "webhook_url": values.one("webhook_url") or None,
    }


def errors_by_field(errors: Sequence[FieldError]) -> dict[str, list[str]]:
    """Each error under its form field: ("filter", "origins", 2) -> "origins"; the rule that wants one channel at
    least (no field of its own) -> "channels"."""
    found: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.loc if isinstance(part, str)]
        if loc[:1] == ["filter"]:
            loc = loc[1:] or ["topics"]
        name = loc[0] if loc else "channels"
        found.setdefault(name if name in FIELD_LABELS else "form", []).append(error.msg)
    return found


def describe_filter(found: SubscriptionFilter, taxonomy: Taxonomy) -> list[tuple[str, str]]:
    """A saved search in words, one (label, values) per narrowing list."""
    names = country_names()
    parts = [("What", ", ".join(TOPIC_LABELS[topic] for topic in found.topics))]
    for label, codes, name in (
        ("Origin states", found.origins, names.get),
        ("Host countries", found.hosts, names.get),
        ("Tactics", found.tactics, taxonomy.tactics.label),
        ("Target categories", found.target_categories, taxonomy.target_categories.label),
        ("Alert levels", found.levels, LEVEL_LABELS.get),
    ):
        if codes:
            parts.append((label, ", ".join(name(code) or code for code in codes)))
    return parts


@router.post("/app/subscriptions/{subscription_id}/remove", dependencies=[staff_permits(MANAGE), Depends(csrf_form)])
def remove_subscription(
    request: Request, subscription_id: uuid.UUID, principal: Principal = Depends(staff_principal)
) -> Response:
    subscriptions.remove_subscription(_node(request), principal, subscription_id)
    return RedirectResponse("/app/subscriptions", status_code=303)


# -- the delivery log --------------------------------------------------------------------------------------------------


@router.get("/app/deliveries", response_class=HTMLResponse, dependencies=[staff_permits(MANAGE)])
def deliveries_page(
    request: Request,
    principal: Principal = Depends(staff_principal),
    subscription: str = Query("", max_length=40),
    status: Literal["", "pending", "sent", "dead"] = "",
) -> HTMLResponse:
    node = _node(request)
    chosen: uuid.UUID | None = None
    if subscription:
        try:
            chosen = uuid.UUID(subscription)
        except ValueError:
            raise InvalidInputError(
                "the subscription is invalid",
                [FieldError(("query", "subscription"), f"{subscription[:40]!r} is not a subscription id")],
            ) from None
    log = subscriptions.list_deliveries(node, principal, subscription=chosen, status=status or None, limit=LOG_PAGE)
    return render_staff(
        request,
        "staff/deliveries.html",
        {
            "principal": principal,
            "deliveries": log,
            "limit": LOG_PAGE,
            "subscriptions": subscriptions.list_subscriptions(node, principal, include_removed=True),
            "filters": {"subscription": subscription, "status": status, "any": bool(subscription or status)},
            "statuses": DELIVERY_STATUSES,
            "status_labels": STATUS_LABELS,
            "channel_labels": CHANNEL_LABELS,
            "event_label": event_label,
        },
    )
