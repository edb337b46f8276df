"""Real receivers on loopback for the delivery tests: a webhook endpoint (http.server in a thread) that checks every
signature, and an SMTP server (aiosmtpd) that keeps every message it is handed."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from tnrwatch.crypto.webhook_signature import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BadSignatureError,
    verify,
)


@dataclass(frozen=True)
class Arrival:
    path: str
    delivery_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    signed: bool  # the signature verified under the secret registered for the path
    answered: int  # the status the receiver answered with
    at: float  # time.monotonic() on arrival


@dataclass
class Endpoint:
    """How one path answers: `fail` requests answered `status_on_fail` first, then 200; `hold` blocks the first
    request until it is set; `delay` seconds before answering."""

    secret: str = ""
    fail: int = 0
    status_on_fail: int = 500
    hold: threading.Event | None = None
    delay: float = 0.0
    seen: int = 0


@dataclass
class WebhookReceiver:
    url: str
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    arrivals: list[Arrival] = field(default_factory=list)
    first_held: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def endpoint(self, name: str, **how: Any) -> str:
        """Register a path; its address."""
        self.endpoints[f"/{name}"] = Endpoint(**how)
        return f"{self.url}/{name}"

    def ids(self, answered: int | None = 200) -> list[str]:
        with self.lock:
            return [a.delivery_id for a in self.arrivals if answered is None or a.answered == answered]

    def wait_for(self, count: int, timeout: float = 20.0) -> None:
        """Until `count` requests were answered 200."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while sum(1 for a in self.arrivals if a.answered == 200) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"only {len(self.arrivals)} webhook request(s) arrived, {count} expected")
                self.changed.wait(left)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # http.server's 5 drops connections a worker opens at once (the SYN is resent 1 s later)


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver: WebhookReceiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert receiver is not None
            arrived = time.monotonic()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            path = self.path.split("?", 1)[0]
            endpoint = receiver.endpoints.get(path, Endpoint())
            with receiver.lock:
                endpoint.seen += 1
                seen = endpoint.seen
            if endpoint.hold is not None and seen == 1:
                receiver.first_held.set()
                endpoint.hold.wait(30)
            if endpoint.delay:
                time.sleep(endpoint.delay)
            try:
                verify(
                    endpoint.secret,
                    self.headers.get(TIMESTAMP_HEADER, ""),
                    self.headers.get(SIGNATURE_HEADER, ""),
                    body,
                )
                signed = True
            except BadSignatureError:
                signed = False
            if endpoint.hold is not None and seen == 1:
                status = 503  # whoever sent it was killed meanwhile: never an answer it could read as success
            elif seen <= endpoint.fail:
                status = endpoint.status_on_fail
            else:
                status = 200 if signed else 401
            arrival = Arrival(
                path=path,
                delivery_id=self.headers.get(DELIVERY_HEADER, ""),
                body=json.loads(body),
                headers={key.lower(): value for key, value in self.headers.items()},
                signed=signed,
                answered=status,
                at=arrived,
            )
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the worker was killed while it waited
                arrival = Arrival(**{**arrival.__dict__, "answered": 0})
            with receiver.changed:
                receiver.arrivals.append(arrival)
                receiver.changed.notify_all()

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet

    server = _Server(("127.0.0.1", 0), Handler)
    receiver = WebhookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        for endpoint in receiver.endpoints.values():
            if endpoint.hold is not None:
                endpoint.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- SMTP -----------------------------------------------------------------------------------------------------------


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[tuple[list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.original_content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port that keeps every message."""
    mailbox = Mailbox("127.0.0.1", free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
