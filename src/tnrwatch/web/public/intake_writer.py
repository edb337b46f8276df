"""The report writer: a child process that parses and stores the reports `POST /report/api/reports` receives.

The server's event loop reads each request's body and hands it on; the writer checks it (`ReportIn`, then
`Intake.submit_many`, one transaction per group) and answers. A report is acknowledged (201) only once the
transaction holding it has committed. In its own process the writer's work runs beside the event loop instead of
taking turns with it for the interpreter lock: in a thread of the server, every database call it made waited for
the lock the busy event loop held, and the intake ran at 40-53% of the bare endpoint's rate (docs/benchmarks.md,
"Report intake").

Protocol, on a private socket pair: frames of a 4-byte big-endian length and a pickle (both ends are this module).
The server sends a group of request bodies (`list[bytes]`); the writer answers with one `Reply` per body, in order.
Groups are answered in the order they were sent, and up to DEPTH of them may be in flight, so that the writer
stores one group while the server reads the next.

The writer is `python -m tnrwatch.web.public.intake_writer FD` (about a second to start: `tnrwatch serve` starts
it with the application, others for the first report), in a session of its own, with the socket as its only
inherited descriptor and the settings as the first frame. It leaves when the server closes its end of the socket,
after answering what it was sent, and ignores SIGINT and SIGTERM, so that a stop of the server does not cut a group
short. If the writer dies, the requests waiting for it are answered 503 (not acknowledged: the browser asks again,
and a report that was in fact stored is then found by its receipt) and the next report starts a new writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from tnrwatch.errors import TnrwatchError
from tnrwatch.services.node import Node
from tnrwatch.services.reports import MAX_DOCUMENT_BYTES, MAX_GROUP, Acknowledgement, Intake, Submission
from tnrwatch.settings import Settings
from tnrwatch.web.public.answers import error_body, refusal
from tnrwatch.web.public.schemas import ReportIn

log = logging.getLogger("tnrwatch.web.public.intake")

DEPTH = 2  # groups in flight: one being stored, one on its way
MAX_BODY_BYTES = 2 * MAX_DOCUMENT_BYTES  # a report's JSON: 1 MiB of answers in base64, its sealed keys, the rest
MAX_GROUP_BYTES = 16 * 1024 * 1024  # a group is sent when it holds MAX_GROUP reports or this many bytes
_FRAME = struct.Struct("!I")
_STOP_SECONDS = 10.0

# A request's reply: status, JSON body, and the precise reason of a refusal ("" for 201) for the server's debug log.
Reply = tuple[int, dict[str, Any], str]
UNAVAILABLE: Reply = (503, error_body(503), "the report writer is unavailable")


# -- the child ----------------------------------------------------------------------------------------------------


def store_reports(intake: Intake, bodies: list[bytes]) -> list[Reply]:
    """The answers to a group of request bodies, in order: each parsed, then the readable ones stored together."""
    answers: list[Reply | None] = []
    submissions: list[Submission] = []
    for body in bodies:
        try:
            submissions.append(ReportIn.model_validate_json(body).submission())
        except ValidationError as exc:
            answers.append((422, error_body(422), f"{exc.error_count()} problems in the request"))
        else:
            answers.append(None)
    try:
        outcomes = intake.submit_many(submissions) if submissions else []
    except Exception as exc:  # the transaction failed: none of the group is stored
        # The type only: a database error's text can hold the statement's parameters.
        log.error("the report writer could not store %d reports: %s", len(submissions), type(exc).__name__)
        outcomes = [TnrwatchError("the database failed")] * len(submissions)
    stored = iter(outcomes)
    return [answer if answer is not None else _answer(next(stored)) for answer in answers]


def _answer(outcome: Acknowledgement | TnrwatchError) -> Reply:
    if isinstance(outcome, Acknowledgement):
        acknowledgement = {
            "ok": True,
            "received_at": outcome.received_at.isoformat(),
            "acknowledge_by": outcome.acknowledge_by.date().isoformat(),
        }
        return 201, acknowledgement, ""
    if outcome.status >= 500:
        return 503, error_body(503), outcome.message
    return (*refusal(outcome), outcome.message)


def main(fd: int) -> None:
    """The writer process: the settings come first on the socket, then groups until the server closes it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with socket.socket(fileno=fd) as channel, channel.makefile("rwb") as stream:
        settings = _read_frame(stream)
        if not isinstance(settings, Settings):
            raise SystemExit("the report writer expects its settings first")
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("tnrwatch").setLevel(settings.log_level.upper())
        node = Node.open(settings)
        node.store.checkpoint_in_background()
        try:
            intake = Intake(node)
            _write_frame(stream, ("ready", os.getpid()))
            while (bodies := _read_frame(stream)) is not None:
                _write_frame(stream, store_reports(intake, bodies))
        except (BrokenPipeError, ConnectionResetError):  # the server is gone; what was committed stays
            pass
        finally:
            node.close()


def _write_frame(stream: io.BufferedIOBase, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_FRAME.pack(len(data)) + data)
    stream.flush()


def _read_frame(stream: io.BufferedIOBase) -> Any:
    """The next frame's value; None once the other end has closed the socket."""
    header = stream.read(_FRAME.size)
    if not header:
        return None
    if len(header) != _FRAME.size:
        raise EOFError("the socket closed inside a frame")
    (size,) = _FRAME.unpack(header)
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the socket closed inside a frame")
    return pickle.loads(data)  # noqa: S301  written by the other end of a private socket pair: this module


# -- the server's side --------------------------------------------------------------------------------------------


@dataclass
class _Link:
    """One running writer: its process, its end of the socket, and the groups it has not answered yet."""

    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    in_flight: deque[list[asyncio.Future[Reply]]] = field(default_factory=deque)
    slot: asyncio.Event = field(default_factory=asyncio.Event)  # set when a group was answered
    broken: bool = False
    reading: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, settings: Settings) -> _Link:
        ours, theirs = socket.socketpair()
        try:
            # -P: the server's working directory is not put on the writer's import path.
            process = subprocess.Popen(  # noqa: S603  this interpreter and this module; no outside input
                [sys.executable, "-P", "-m", __name__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            theirs.close()
        reader, writer = await asyncio.open_connection(sock=ours)
        link = cls(process, reader, writer)
        try:
            await link.send_frame(settings)
            ready = await _read_frame_async(reader)
        except (OSError, EOFError, asyncio.IncompleteReadError):
            ready = None
        if ready is None:
            await link.stop()
            raise RuntimeError(f"the report writer did not start (exit code {process.returncode})")
        link.reading = asyncio.create_task(link._read_answers())
        return link

    async def send_frame(self, value: Any) -> None:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(_FRAME.pack(len(data)) + data)
        await self.writer.drain()

    async def send(self, bodies: list[bytes], futures: list[asyncio.Future[Reply]]) -> None:
        self.in_flight.append(futures)
        await self.send_frame(bodies)

    async def _read_answers(self) -> None:
        try:
            while (answers := await _read_frame_async(self.reader)) is not None:
                for future, answer in zip(self.in_flight.popleft(), answers, strict=True):
                    if not future.done():  # else the request was cancelled; its report may still be stored
                        future.set_result(answer)
                self.slot.set()
        except (OSError, EOFError, asyncio.IncompleteReadError) as exc:
            log.error("the report writer's socket failed: %s", type(exc).__name__)
        finally:
            self.broken = True
            while self.in_flight:
                for future in self.in_flight.popleft():
                    if not future.done():
                        future.set_result(UNAVAILABLE)
            self.slot.set()
            if self.process.poll() not in (None, 0):
                log.error("the report writer stopped (exit code %s)", self.process.returncode)

    async def stop(self) -> None:
        """Close the socket (the writer answers what it holds and leaves), then wait for it to leave."""
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()
        if self.reading is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.reading
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.process.wait, _STOP_SECONDS)
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


async def _read_frame_async(reader: asyncio.StreamReader) -> Any:
    try:
        header = await reader.readexactly(_FRAME.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    (size,) = _FRAME.unpack(header)
    return pickle.loads(await reader.readexactly(size))  # noqa: S301  see _read_frame


class ReportWriter:
    """The server's side, one per event loop: gathers the bodies that arrive, sends them in groups to the writer
    process (starting it when needed) and resolves each request with its answer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._waiting: list[tuple[bytes, asyncio.Future[Reply]]] = []
        self._link: _Link | None = None
        self._sending: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def submit(self, body: bytes) -> Reply:
        """The answer to one report's request body, once the writer stored or refused it."""
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting.append((body, future))
        if self._sending is None or self._sending.done():
            self._sending = asyncio.create_task(self._send_groups())
        return await future

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The writer process in use, if one is running."""
        link = self._link
        return link.process if link is not None and not link.broken else None

    @property
    def process_id(self) -> int | None:
        process = self.process
        return process.pid if process is not None else None

    async def start(self) -> None:
        """Start the writer process now rather than for the first report."""
        await self._connected()

    async def _connected(self) -> _Link:
        async with self._starting:
            if self._link is None or self._link.broken:
                if self._link is not None:
                    await self._link.stop()
                self._link = await _Link.start(self.settings)
            return self._link

    async def _send_groups(self) -> None:
        try:
            while self._waiting:
                link = await self._connected()
                while len(link.in_flight) >= DEPTH and not link.broken:
                    link.slot.clear()
                    await link.slot.wait()
                if link.broken:
                    continue
                bodies, futures = self._next_group()
                if bodies:
                    await link.send(bodies, futures)
        except Exception as exc:  # the writer could not be started or reached: these requests get no answer from it
            log.error("the report writer is unavailable: %s", exc)
            waiting, self._waiting = self._waiting, []
            for _, future in waiting:
                if not future.done():
                    future.set_result(UNAVAILABLE)

    def _next_group(self) -> tuple[list[bytes], list[asyncio.Future[Reply]]]:
        """Up to MAX_GROUP waiting bodies (or MAX_GROUP_BYTES), leaving out requests that were cancelled."""
        bodies: list[bytes] = []
        futures: list[asyncio.Future[Reply]] = []
        size = taken = 0
        for body, future in self._waiting:
            if len(bodies) == MAX_GROUP or (bodies and size + len(body) > MAX_GROUP_BYTES):
                break
            taken += 1
            if not future.done():
                bodies.append(body)
                futures.append(future)
                size += len(body)
        del self._waiting[:taken]
        return bodies, futures

    async def close(self) -> None:
        """Stop the writer process after it has answered what it was sent."""
        link, self._link = self._link, None
        if link is not None:
            await link.stop()

    def kill(self) -> None:
        """Stop the writer process at once (from outside this writer's event loop)."""
        link, self._link = self._link, None
        if link is not None:
            link.kill()


if __name__ == "__main__":
    main(int(sys.argv[1]))
