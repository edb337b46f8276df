"""Subscriptions: a staff account's saved search (domain/sharing.py `SubscriptionFilter`) and the channels through
which it hears of a new or changed incident, or a published or withdrawn alert, that matches and that it may read:
its in-app inbox, e-mail, a signed webhook. What travels is minimal (what happened, to which id, an alert's level and
marking, a link); the content stays on the node, behind the reader's own sign-in.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, Self
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tnrwatch.domain.sharing import SubscriptionFilter
from tnrwatch.domain.text import ShortLine

CHANNELS: tuple[str, ...] = ("inbox", "email", "webhook")
DELIVERY_STATUSES: tuple[str, ...] = ("pending", "sent", "dead")
Channel = Literal["inbox", "email", "webhook"]
DeliveryStatus = Literal["pending", "sent", "dead"]

# One address, no display name, no line breaks (a header cannot be injected through it).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*$"
)


def check_webhook_url(value: str) -> str:
    """An http(s) address with a host, without credentials or a fragment; ValueError naming what is wrong."""
    if any(char.isspace() for char in value) or any(ord(char) < 32 for char in value):
        raise ValueError("a webhook address has no spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("a webhook address starts with https:// (or http://)")
    if not parts.hostname:
        raise ValueError("a webhook address names a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("a webhook address holds no user name or password: the signature authenticates the node")
    if parts.fragment:
        raise ValueError("a webhook address has no #fragment")
    try:
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError:
        raise ValueError("the webhook address's port is not a port number") from None
    return value


class SubscriptionIn(BaseModel):
    """A new subscription. At least one channel; e-mail and webhook are optional."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: ShortLine
    filter: SubscriptionFilter = Field(default_factory=SubscriptionFilter)
    inbox: bool = True
    email: str | None = Field(None, max_length=254, description="Address told by e-mail (the node must have SMTP).")
    webhook_url: str | None = Field(None, max_length=500, description="Address told by a signed POST.")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not _EMAIL.match(value):
            raise ValueError("give one e-mail address, e.g. desk@focal-point.example")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        return check_webhook_url(value) if value else None

    @model_validator(mode="after")
    def _some_channel(self) -> Self:
        if not (self.inbox or self.email or self.webhook_url):
            raise ValueError("choose at least one channel: the inbox, an e-mail address or a webhook")
        return self


class SubscriptionOut(BaseModel):
    id: UUID
    name: str
    filter: SubscriptionFilter
    inbox: bool
    email: str | None
    webhook_url: str | None
    active: bool
    created_at: dt.datetime
    webhook_secret: str | None = Field(
        None,
        description="The key the webhook receiver checks signatures with: shown once, in the answer that creates "
        "the subscription, and never again.",
    )


class InboxItemOut(BaseModel):
    id: int
    topic: Literal["incident", "alert"]
    event: str
    subject_id: UUID
    subscription_id: UUID | None
    subscription_name: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None


class DeliveryOut(BaseModel):
    """One line of the delivery log: never content, never the receiver's answer; an error is its class or status."""

    id: UUID
    subscription_id: UUID
    subscription_name: str
    channel: Channel
    topic: Literal["incident", "alert"]
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
