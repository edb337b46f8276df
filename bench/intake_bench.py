"""Report intake over HTTP: sealed 4 KB reports per second against `tnrwatch serve`, next to the same server's bare
`/health` in the same run, checked for lost acknowledged reports; and the server's peak memory while it receives a
20 MB and a 200 MB attachment.

The server is a real `tnrwatch serve` subprocess (uvicorn, one worker, loopback) on a fresh SQLite home:
`tnrwatch db upgrade`, then one officer key for DE (`tnrwatch keys create -j DE --passphrase-file`, Argon2id at the
interactive level). Settings: TNRWATCH_SQLITE_SYNCHRONOUS=NORMAL (WAL; survives a process crash, may lose the last
commits on power loss), TNRWATCH_REPORT_POW_BITS=8 (the browser's work; the server's check is one HMAC and one hash
at any difficulty), hourly ceilings raised out of reach, logs at `warning`.

Every report is distinct and valid, made as the browser makes it (docs/report-format.md): a fresh report id, receipt
and report key; answers JSON of ~4,000 bytes padded to 4,096 and encrypted (4,136 bytes); the report key sealed to
the DE key (read through `Intake.recipients`, the service behind GET /report/api/jurisdictions/DE) and to the
reporter's key; a proof of work on a challenge signed with the node's intake key (the key file in the temporary
home; `pow.issue`, as GET /report/api/challenge does), solved with `pow.solve` in one process per core. The pool is
written to JSON lines before the timed run and sized from a short calibration run of `/health` (the intake cannot
outrun the bare endpoint). A wrk Lua script posts the lines in order, one per request, never repeating; a thread
that runs out stops and the run says so.

Load comes from wrk in a second process, with the same threads, connections and duration for every run: `/health`,
then the intake, then `/health` again. Afterwards every report id that was sent is looked up in the database: all of
them present means every 201 (and any answer cut off when wrk stopped) was committed.

Memory: /proc/PID/status of the server (VmRSS every 20 ms, and VmHWM after resetting it through
/proc/PID/clear_refs) while one file is encrypted (`envelope.encrypt_file`) and PUT in 1 MiB parts over one
keep-alive connection.

    python bench/intake_bench.py [--duration 10] [--connections 32] [--threads 1] [--upload-mb 20 --upload-mb 200]
"""

from __future__ import annotations

import argparse
import base64
import concurrent.futures
import contextlib
import http.client
import json
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import upload_memory
import wrk
from common import OUT, TNRWATCH, markdown_table, tnrwatch, tnrwatch_env
from tnrwatch.crypto import envelope, pow, receipts
from tnrwatch.crypto.intake import IntakeKeys
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings

JURISDICTION = "DE"
POW_BITS = 8
ANSWERS_JSON_BYTES = 4000  # padded to 4,096: a 4 KB report
PASSPHRASE = "intake benchmark passphrase, not secret"  # noqa: S105  the throwaway key of a temporary home
WORK = OUT / "intake"
REPORTS_PATH = "/report/api/reports"

_INTAKE_LUA = """
-- Posts pre-made reports in order, one per request, never repeating: thread N reads `<prefix>.N.jsonl`.
local headers = {["Content-Type"] = "application/json"}

function init(args)
  pool = assert(io.open(args[1] .. "." .. index .. ".jsonl", "r"))
  sent, exhausted, statuses = 0, false, {}
  -- wrk calls request() once on thread 0 before the run to check it; that call must not use up a report.
  checked = index ~= 0
end

function request()
  if not checked then
    checked = true
    return wrk.format("POST", "{{PATH}}", headers, "{}")
  end
  local body = pool:read("*l")
  if body == nil then
    exhausted = true
    wrk.thread:stop()
    return wrk.format("GET", "/health")
  end
  sent = sent + 1
  return wrk.format("POST", "{{PATH}}", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""


def _intake_script() -> str:
    return wrk.script(_INTAKE_LUA.replace("{{PATH}}", REPORTS_PATH))


# -- the server -------------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class IntakeServer:
    """A `tnrwatch serve` subprocess on a fresh SQLite home with one DE officer key."""

    home: Path
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        env = tnrwatch_env(self.home)
        env.update(
            TNRWATCH_REPORT_POW_BITS=str(POW_BITS),
            TNRWATCH_REPORT_CEILING_PER_HOUR=str(10**9),
            TNRWATCH_REPORT_CEILING_PER_JURISDICTION_PER_HOUR=str(10**9),
            TNRWATCH_KEY_WRAP_STRENGTH="interactive",
            TNRWATCH_WORKERS="1",
        )
        return env

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def database(self) -> Path:
        return self.home / "tnrwatch.sqlite3"

    def prepare(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        tnrwatch(["db", "upgrade"], self.env)
        passphrase = self.home / "passphrase.txt"
        passphrase.write_text(PASSPHRASE + "\n")
        tnrwatch(["keys", "create", "-j", JURISDICTION, "--passphrase-file", str(passphrase)], self.env)

    def start(self) -> None:
        log = (self.home / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [str(TNRWATCH), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tnrwatch serve exited: {(self.home / 'serve.log').read_text()}")
            with contextlib.suppress(OSError):
                status, _ = self.get("/health")
                if status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError("tnrwatch serve did not answer /health within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, path: str) -> tuple[int, Any]:
        connection = self.connection()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stored_report_ids(self) -> set[str]:
        connection = sqlite3.connect(self.database)
        try:
            return {uuid.UUID(str(row[0])).hex for row in connection.execute("SELECT id FROM report")}
        finally:
            connection.close()


# -- the pool of reports ----------------------------------------------------------------------------------------------


def _answers(report_id: uuid.UUID) -> dict[str, Any]:
    """A report's answers whose compact JSON is ANSWERS_JSON_BYTES long (ASCII), as the form would send them."""
    document: dict[str, Any] = {
        "v": 1,
        "kind": "report",
        "language": "en",
        "jurisdiction": JURISDICTION,
        "what": {"tactic_families": ["intimidation"], "description": ""},
        "where": {"host_country": "DE", "place": "Berlin"},
        "when": {"date": "2026-10-01", "date_unknown": False, "approximately": ""},
        "targeted": {"who": "self", "description": ""},
        "responsible": {"origin_country": "IR", "description": ""},
        "wants": ["advice", "record"],
        "urgent": False,
        "contact": "",
        "attachments": [],
    }
    size = len(json.dumps(document, separators=(",", ":")))
    words = f"report {report_id} says what happened, when and where. "
    document["what"]["description"] = (words * (ANSWERS_JSON_BYTES // len(words) + 1))[: ANSWERS_JSON_BYTES - size]
    return document


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def make_report(pow_key: bytes, recipients: list[tuple[str, bytes]]) -> tuple[str, str]:
    """One valid submission as the browser sends it: (report id hex, JSON body on one line)."""
    report_id = uuid.uuid4()
    _receipt, secret = receipts.new_receipt()
    report_key = envelope.new_key()
    reporter_public, _ = receipts.reporter_key_pair(secret)
    answers = envelope.encrypt_document(_answers(report_id), report_key, envelope.answers_context(report_id))
    challenge = pow.issue(pow_key, POW_BITS)
    body = {
        "report_id": str(report_id),
        "jurisdiction": JURISDICTION,
        "urgent": False,
        "lookup": _b64(receipts.lookup_token(secret)),
        "answers": _b64(answers),
        "keys": [
            {"recipient": key_id, "sealed": _b64(envelope.seal_report_key(report_key, public, report_id, key_id))}
            for key_id, public in recipients
        ],
        "reporter_key": _b64(envelope.seal_report_key(report_key, reporter_public, report_id, envelope.REPORTER)),
        "attachments": [],
        "pow": {"token": challenge.token, "counter": pow.solve(challenge.token)},
    }
    return report_id.hex, json.dumps(body, separators=(",", ":"))


def _make_batch(pow_key: bytes, recipients: list[tuple[str, bytes]], count: int) -> list[tuple[str, str]]:
    return [make_report(pow_key, recipients) for _ in range(count)]


@dataclass(frozen=True)
class Pool:
    """Reports written to `<prefix>.<thread>.jsonl`, one file per wrk thread; `ids[thread]` in file order."""

    prefix: Path
    ids: list[list[str]]
    answers_bytes: int
    body_bytes: int
    seconds: float

    @property
    def size(self) -> int:
        return sum(len(ids) for ids in self.ids)


def make_pool(server: IntakeServer, count: int, threads: int) -> Pool:
    """`count` distinct reports, made in one process per core, dealt round robin to the wrk threads' files."""
    node = Node.open(Settings(home=server.home, database_url=None, key_dir=None, log_level="warning"))
    try:  # the keys a browser gets from GET /report/api/jurisdictions/DE, read here through the same service
        recipients = [(str(key.id), key.public_key) for key in Intake(node).recipients(JURISDICTION)]
    finally:
        node.close()
    pow_key = IntakeKeys.open(server.home / "keys", create=False).pow_key
    started = time.perf_counter()
    batch = 500
    reports: list[tuple[str, str]] = []
    with concurrent.futures.ProcessPoolExecutor(os.cpu_count() or 1) as executor:
        sizes = [min(batch, count - start) for start in range(0, count, batch)]
        for made in executor.map(_make_batch, [pow_key] * len(sizes), [recipients] * len(sizes), sizes):
            reports.extend(made)
    prefix = server.home / "pool"
    ids: list[list[str]] = [[] for _ in range(threads)]
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(Path(f"{prefix}.{index}.jsonl").open("w")) for index in range(threads)]
        for position, (report_id, line) in enumerate(reports):
            files[position % threads].write(line + "\n")
            ids[position % threads].append(report_id)
    answers = len(base64.b64decode(json.loads(reports[0][1])["answers"]))
    return Pool(prefix, ids, answers, len(reports[0][1]), time.perf_counter() - started)


# -- the run ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeResult:
    load: wrk.Load
    pool: Pool
    health_before: wrk.WrkResult
    intake: wrk.WrkResult
    health_after: wrk.WrkResult
    stored_sent: int  # reports sent that are in the database
    stored_total: int
    uploads: list[upload_memory.UploadMemory]

    @property
    def health_rate(self) -> float:
        return (self.health_before.rate + self.health_after.rate) / 2

    @property
    def created(self) -> int:
        return self.intake.answers(201)

    @property
    def created_rate(self) -> float:
        return self.created / (self.intake.duration_us / 1e6)

    @property
    def sent(self) -> int:
        return sum(self.intake.sent)

    @property
    def missing(self) -> int:
        """Reports sent but not in the database."""
        return self.sent - self.stored_sent

    @property
    def lost(self) -> int:
        """Acknowledged reports (201) not in the database. When every report sent is stored this is exactly 0;
        otherwise the missing ones cannot be matched to answers, and this is an upper bound."""
        return min(self.missing, self.created)


def run(load: wrk.Load, upload_mb: list[int], home: Path | None = None) -> IntakeResult:
    with tempfile.TemporaryDirectory(prefix="tnrwatch-intake-", dir=_work_dir()) as scratch:
        server = IntakeServer(home or Path(scratch) / "home")
        print(f"intake: preparing {server.home} (db upgrade, DE key)", file=sys.stderr)
        server.prepare()
        server.start()
        try:
            return _measure(server, load, upload_mb)
        finally:
            server.stop()


def _work_dir() -> Path:
    WORK.mkdir(parents=True, exist_ok=True)
    return WORK


def _measure(server: IntakeServer, load: wrk.Load, upload_mb: list[int]) -> IntakeResult:
    health_lua = server.home / "health.lua"
    health_lua.write_text(wrk.script())
    intake_lua = server.home / "intake.lua"
    intake_lua.write_text(_intake_script())

    calibration = wrk.run_wrk(server.url("/health"), wrk.Load(load.threads, load.connections, 3), health_lua)
    count = math.ceil(calibration.rate * load.seconds * 1.5) + 1000
    print(f"intake: calibration {calibration.rate:,.0f} GET/s; making {count:,} reports", file=sys.stderr)
    pool = make_pool(server, count, load.threads)
    print(f"intake: {pool.size:,} reports made in {pool.seconds:.0f} s", file=sys.stderr)

    health_before = wrk.run_wrk(server.url("/health"), load, health_lua)
    print(f"intake: health {health_before.rate:,.0f} req/s", file=sys.stderr)
    intake = wrk.run_wrk(server.url(REPORTS_PATH), load, intake_lua, str(pool.prefix))
    print(f"intake: reports {intake.rate:,.0f} req/s, answers {intake.statuses}", file=sys.stderr)
    health_after = wrk.run_wrk(server.url("/health"), load, health_lua)
    print(f"intake: health again {health_after.rate:,.0f} req/s", file=sys.stderr)

    stored = server.stored_report_ids()
    sent_ids = [report_id for ids, sent in zip(pool.ids, intake.sent, strict=True) for report_id in ids[:sent]]
    uploads = []
    for megabytes in upload_mb:
        uploads.append(upload_memory.upload_memory(server, megabytes))
        print(f"intake: {megabytes} MB upload, peak rise {uploads[-1].rise_kib / 1024:,.1f} MiB", file=sys.stderr)
    return IntakeResult(
        load,
        pool,
        health_before,
        intake,
        health_after,
        stored_sent=len(stored.intersection(sent_ids)),
        stored_total=len(stored),
        uploads=uploads,
    )


# -- the report -------------------------------------------------------------------------------------------------------


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:,.1f}"


def report(result: IntakeResult) -> str:
    load = result.load
    ratio = result.created_rate / result.health_rate
    rows: list[list[object]] = [
        ["`GET /health` (before)", f"{result.health_before.rate:,.0f}", _ms(result.health_before.p50_us),
         _ms(result.health_before.p99_us), f"{result.health_before.requests:,}", ""],
        ["**`POST /report/api/reports`**, 201 answers", f"**{result.created_rate:,.0f}**", _ms(result.intake.p50_us),
         _ms(result.intake.p99_us), f"{result.created:,}", f"**{ratio:.0%}** of the mean health rate"],
        ["`GET /health` (after)", f"{result.health_after.rate:,.0f}", _ms(result.health_after.p50_us),
         _ms(result.health_after.p99_us), f"{result.health_after.requests:,}", ""],
    ]  # fmt: skip
    throughput = markdown_table(["endpoint", "req/s", "p50 ms", "p99 ms", "answers", "intake / health"], rows)

    others = {status: count for status, count in result.intake.statuses.items() if status != "201"}
    unanswered = result.sent - sum(result.intake.statuses.values())
    checks = markdown_table(
        ["check", "value"],
        [
            ["reports in the pool (distinct, each with its own proof of work)", f"{result.pool.size:,}"],
            ["reports sent", f"{result.sent:,}" + (" (**pool exhausted**)" if result.intake.exhausted else "")],
            ["answered 201", f"{result.created:,}"],
            ["other answers", ", ".join(f"{count:,} x {status}" for status, count in others.items()) or "none"],
            ["sent, no answer before wrk stopped", f"{unanswered:,}"],
            ["socket errors / timeouts", f"{result.intake.socket_errors:,}"],
            ["reports in the database (of those sent)", f"{result.stored_total:,} ({result.stored_sent:,})"],
            ["**acknowledged (201) but not in the database**", f"**{result.lost:,}**"],
        ],
    )

    memory_rows: list[list[object]] = [
        [f"{upload.megabytes} MB ({upload.ciphertext_bytes / 2**20:,.1f} MiB ciphertext, "
         f"{math.ceil(upload.ciphertext_bytes / upload_memory.PART_BYTES)} parts)",
         f"{upload.seconds:.1f}", f"{upload.rss_before_kib / 1024:,.1f}", f"{upload.peak_kib / 1024:,.1f}",
         f"**{upload.rise_kib / 1024:+,.1f}**", f"{upload.rss_after_kib / 1024:,.1f}"]
        for upload in result.uploads
    ]  # fmt: skip
    memory = markdown_table(
        ["upload", "seconds", "RSS before MiB", "peak RSS MiB", "peak - before MiB", "RSS after MiB"], memory_rows
    )
    goal = "met" if ratio >= 0.6 and result.lost == 0 else "**not met**"
    lines = [
        f"`tnrwatch serve` (uvicorn, one worker), fresh SQLite home, synchronous=NORMAL; report_pow_bits={POW_BITS} "
        "(the server checks one HMAC and one hash at any difficulty); hourly ceilings raised to 10^9.",
        "",
        f"wrk `-t{load.threads} -c{load.connections} -d{load.seconds}s` for every run; bodies "
        f"{result.pool.body_bytes:,} bytes of JSON (answers {result.pool.answers_bytes:,} bytes of ciphertext); "
        f"{result.pool.size:,} reports made in {result.pool.seconds:.0f} s before the timed runs.",
        "",
        throughput,
        "",
        f"Intake rate / bare endpoint rate (mean of both health runs, {result.health_rate:,.0f} req/s): "
        f"**{ratio:.0%}** (goal: at least 60%, and no acknowledged report lost: {goal}).",
        "",
        checks,
        "",
        memory,
    ]
    if len(result.uploads) >= 2:
        smallest = min(result.uploads, key=lambda upload: upload.megabytes)
        largest = max(result.uploads, key=lambda upload: upload.megabytes)
        growth = (largest.rise_kib - smallest.rise_kib) / 1024
        flat = growth < 2 * 4  # less than two of the largest parts (4 MiB) a PUT may carry
        lines += [
            "",
            f"Peak rise, {largest.megabytes} MB against {smallest.megabytes} MB: {growth:+,.1f} MiB "
            f"({'flat' if flat else '**not flat**'}: flat means under 8 MiB, two of the largest parts).",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="Seconds per wrk run.")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections.")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads.")
    parser.add_argument("--upload-mb", type=int, action="append", help="Attachment sizes (default: 20 and 200).")
    args = parser.parse_args()
    result = run(wrk.Load(args.threads, args.connections, args.duration), args.upload_mb or [20, 200])
    print(report(result))


if __name__ == "__main__":
    main()
