"""The channels a delivery leaves the node through: a signed webhook POST and an e-mail. The inbox needs no channel:
it is a row written by the worker (services/delivery.py).

What a message says is a `Notice`, and nothing more: what happened (topic, event), to which id, when, for an alert
its level and TLP marking, and a link to the staff page, where the reader signs in and reads what they may. Never a
summary, a name or a place. An e-mail names an alert's title only when the alert is marked TLP:CLEAR or TLP:GREEN
(what may travel beyond the recipient organisation anyway); an incident's title never (coding often names a place
there). A failed attempt raises `DeliveryFailedError` whose `reason` (an HTTP status or an error class) is all the
delivery log keeps.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import smtplib
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol
from urllib.parse import urlsplit

from tnrwatch.crypto.webhook_signature import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tnrwatch.settings import Settings

USER_AGENT = "tnrwatch-webhook/1"
TITLED_MARKINGS = frozenset({"clear", "green"})


class DeliveryFailedError(Exception):
    """An attempt failed; `reason` is short and holds no content: "HTTP 503", "TimeoutError", ..."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


@dataclass(frozen=True)
class Notice:
    """What one delivery tells its receiver."""

    delivery_id: uuid.UUID
    topic: str
    event: str
    subject_id: uuid.UUID
    occurred_at: dt.datetime
    link: str
    level: str | None = None  # alerts only
    tlp: str | None = None  # alerts only
    title: str | None = None  # an alert's, when marked CLEAR or GREEN; e-mail only

    def body(self) -> dict[str, object]:
        """The webhook's JSON body."""
        body: dict[str, object] = {
            "delivery_id": str(self.delivery_id),
            "topic": self.topic,
            "event": self.event,
            "subject_id": str(self.subject_id),
            "occurred_at": self.occurred_at.isoformat(),
            "link": self.link,
        }
        if self.topic == "alert":
            body["level"] = self.level
            body["tlp"] = self.tlp
        return body


class Sender(Protocol):
    """A channel: sends one notice to one address, or raises DeliveryFailedError."""

    def __call__(self, notice: Notice, address: str, secret: str | None) -> None: ...


def link(settings: Settings, topic: str, subject_id: uuid.UUID) -> str:
    """The staff page of the incident or alert: absolute when TNRWATCH_PUBLIC_URL is set, else a path."""
    return f"{settings.public_url or ''}/app/{topic}s/{subject_id}"


# -- webhooks ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookSender:
    timeout: float

    def __call__(self, notice: Notice, address: str, secret: str | None) -> None:
        """POST the notice, signed; a 2xx answer is success, anything else (a redirect too: not followed) fails."""
        if not secret:
            raise DeliveryFailedError("no webhook secret")
        body = json.dumps(notice.body(), separators=(",", ":"), sort_keys=True).encode("utf-8")
        timestamp = int(time.time())
        parts = urlsplit(address)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection: http.client.HTTPConnection
        if parts.scheme.lower() == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)
        try:
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    DELIVERY_HEADER: str(notice.delivery_id),
                    TIMESTAMP_HEADER: str(timestamp),
                    SIGNATURE_HEADER: sign(secret, timestamp, body),
                },
            )
            response = connection.getresponse()
            response.read(65536)  # the answer's body is never kept
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryFailedError(_error_class(exc)) from None
        finally:
            connection.close()
        if not 200 <= status < 300:
            raise DeliveryFailedError(f"HTTP {status}")


# -- e-mail ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailSender:
    host: str | None
    port: int
    sender: str
    starttls: bool
    timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSender:
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_from,
            settings.smtp_starttls,
            settings.delivery_timeout_seconds,
        )

    def __call__(self, notice: Notice, address: str, secret: str | None) -> None:
        if not self.host:
            raise DeliveryFailedError("SMTP not configured")
        message = email_message(notice, sender=self.sender, to=address)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailedError(f"SMTP {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailedError(_error_class(exc)) from None


def email_message(notice: Notice, *, sender: str, to: str) -> EmailMessage:
    """The e-mail for a notice: its Message-ID is the delivery's id (a re-send is recognisable as the same message)."""
    domain = sender.rpartition("@")[2] or "tnrwatch"
    what = f"{notice.topic.capitalize()} {notice.event}"
    marking = f"TLP:{notice.tlp.upper()}" if notice.tlp else None
    subject = f"[tnrwatch] {what}"
    if notice.topic == "alert":
        subject += f" ({notice.level}, {marking})"
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(notice.occurred_at)
    message["Message-ID"] = f"<{notice.delivery_id}@{domain}>"
    message[DELIVERY_HEADER] = str(notice.delivery_id)
    lines = [f"{what} on tnrwatch, matching one of your subscriptions.", ""]
    if notice.topic == "alert":
        if notice.title and notice.tlp in TITLED_MARKINGS:
            lines.append(f"Title: {notice.title}")
        lines += [f"Level: {notice.level}", f"Marking: {marking}"]
    lines += [
        f"When: {notice.occurred_at:%Y-%m-%d %H:%M} UTC",
        "",
        f"Read it on tnrwatch (sign in first): {notice.link}",
        "",
        "This message holds no content on purpose. To stop these messages, remove the subscription on tnrwatch.",
    ]
    message.set_content("\n".join(lines))
    return message


def _error_class(exc: BaseException) -> str:
    """A failure as its class name only: messages may quote addresses or the peer's words."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "TimeoutError"
    return type(exc).__name__
