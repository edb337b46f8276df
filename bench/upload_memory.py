"""The server's resident memory while it receives one large attachment: VmRSS from /proc/PID/status every 20 ms,
and VmHWM after resetting it through /proc/PID/clear_refs, while one file of random bytes is encrypted as the
browser does (`envelope.encrypt_file`) and PUT in 1 MiB parts over one keep-alive connection."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

from tnrwatch.crypto import envelope, pow

PART_BYTES = 1024 * 1024


class Server(Protocol):
    """What the measurement needs of the server under test."""

    home: Path

    @property
    def pid(self) -> int: ...

    def connection(self) -> http.client.HTTPConnection: ...


def _proc_status(pid: int) -> dict[str, int]:
    """The memory lines of /proc/PID/status, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


class RssSampler:
    """Reads VmRSS every `interval` seconds in a thread; `peak_kib` is the highest value seen."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, _proc_status(self.pid)["VmRSS"])
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


class _RandomFile:
    """`size` random bytes read like a file, without holding them."""

    def __init__(self, size: int) -> None:
        self.left = size

    def read(self, wanted: int) -> bytes:
        data = os.urandom(min(wanted, self.left))
        self.left -= len(data)
        return data


def _parts(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


@dataclass(frozen=True)
class UploadMemory:
    megabytes: int
    ciphertext_bytes: int
    seconds: float
    rss_before_kib: int
    peak_kib: int  # the higher of the sampled VmRSS and VmHWM
    rss_after_kib: int
    samples: int

    @property
    def rise_kib(self) -> int:
        return self.peak_kib - self.rss_before_kib


def _request(connection: http.client.HTTPConnection, method: str, path: str, body: bytes, kind: str) -> Any:
    connection.request(method, path, body=body, headers={"Content-Type": kind})
    response = connection.getresponse()
    answer = json.loads(response.read())
    if response.status not in (200, 201):
        raise RuntimeError(f"{method} {path} answered {response.status}: {answer}")
    return answer


def upload_memory(server: Server, megabytes: int) -> UploadMemory:
    """Upload one file of `megabytes` MB (10^6 bytes) of random plaintext, encrypted as the browser does, in 1 MiB
    parts over one keep-alive connection, while watching the server's resident memory."""
    size = megabytes * 1_000_000
    report_id, attachment_id = uuid.uuid4(), uuid.uuid4()
    ciphertext_bytes = envelope.encrypted_size(size)
    connection = server.connection()
    try:
        challenge = _request(connection, "GET", "/report/api/challenge", b"", "application/json")
        proof = {"token": challenge["token"], "counter": pow.solve(challenge["token"])}
        start = {"report_id": str(report_id), "attachment_id": str(attachment_id), "size": ciphertext_bytes}
        _request(
            connection, "POST", "/report/api/uploads", json.dumps({**start, "pow": proof}).encode(), "application/json"
        )
        time.sleep(0.5)  # let the server settle before the baseline
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        before = _proc_status(server.pid)["VmRSS"]
        started = time.perf_counter()
        offset = 0
        source = cast(BinaryIO, _RandomFile(size))  # encrypt_file only calls read()
        context = envelope.attachment_context(report_id, attachment_id)
        ciphertext = envelope.encrypt_file(source, envelope.new_key(), context)
        with RssSampler(server.pid) as sampler:
            for part in _parts(ciphertext, PART_BYTES):
                path = f"/report/api/uploads/{attachment_id}?offset={offset}"
                offset = _request(connection, "PUT", path, part, "application/octet-stream")["received"]
        seconds = time.perf_counter() - started
        status = _proc_status(server.pid)
    finally:
        connection.close()
    stored = server.home / "attachments" / str(attachment_id)
    if offset != ciphertext_bytes or stored.stat().st_size != ciphertext_bytes:
        raise AssertionError(f"upload of {megabytes} MB ended at {offset} of {ciphertext_bytes} bytes")
    stored.unlink()
    return UploadMemory(
        megabytes,
        ciphertext_bytes,
        seconds,
        before,
        max(sampler.peak_kib, status["VmHWM"]),
        status["VmRSS"],
        sampler.samples,
    )
