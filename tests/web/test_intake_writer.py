"""The report writer: what it answers for each body, that reports sent together are all stored, that killing it
loses no acknowledged report, and that it stops only when the server lets it go. A real writer process on both
databases."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings
from tnrwatch.store.models import Report
from tnrwatch.web.public.answers import GENERIC
from tnrwatch.web.public.intake_writer import ReportWriter, store_reports

from .conftest import _add_recipient_key
from .sealed import sealed_report, solved_proof


@pytest.fixture
def intake(node: Node) -> Intake:
    _add_recipient_key(node, "DE")
    return Intake(node)


@pytest.fixture
def roomy(settings: Settings) -> Settings:
    """Hourly ceilings out of reach: these tests send more reports than a node accepts in an hour by default."""
    return settings.model_copy(
        update={"report_ceiling_per_hour": 10**6, "report_ceiling_per_jurisdiction_per_hour": 10**6}
    )


def report(intake: Intake, **changes: Any) -> dict[str, Any]:
    keys = [(str(key.id), key.public_key) for key in intake.recipients("DE")]
    return {**sealed_report(keys, solved_proof(intake.challenge().token)), **changes}


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def stored_ids(node: Node) -> set[uuid.UUID]:
    with node.store.reading() as session:
        return set(session.scalars(select(Report.id)))


def sent_id(body: bytes) -> uuid.UUID:
    return uuid.UUID(json.loads(body)["report_id"])


def test_each_body_gets_its_own_answer_in_order(intake: Intake, node: Node) -> None:
    first = report(intake)
    replayed = {**first, "pow": solved_proof(intake.challenge().token)}  # the same report id and receipt again
    foreign_keys = report(intake, keys=[{"recipient": str(uuid.uuid4()), "sealed": first["keys"][0]["sealed"]}])
    bodies = [encoded(first), b"{not json", encoded(replayed), encoded(foreign_keys), encoded(report(intake))]

    answers = store_reports(intake, bodies)

    assert [status for status, _, _ in answers] == [201, 422, 409, 409, 201]
    assert answers[0][1]["ok"] is True
    assert answers[0][1]["acknowledge_by"]
    assert answers[1][1]["error"] == GENERIC[422][1]
    assert "problems in the request" in answers[1][2]  # the reason, for the server's debug log only
    assert answers[2][1]["code"] == "conflict"
    assert answers[3][1]["code"] == "keys_changed"
    assert stored_ids(node) == {sent_id(bodies[0]), sent_id(bodies[4])}


async def _submit_all(writer: ReportWriter, bodies: list[bytes]) -> list[tuple[int, dict[str, Any], str]]:
    try:
        return await asyncio.gather(*(writer.submit(body) for body in bodies))
    finally:
        await writer.close()


def test_reports_sent_together_are_stored_and_acknowledged(roomy: Settings, intake: Intake, node: Node) -> None:
    bodies = [encoded(report(intake)) for _ in range(150)]  # more than one group (MAX_GROUP)
    answers = asyncio.run(_submit_all(ReportWriter(roomy), bodies))
    assert [status for status, _, _ in answers] == [201] * len(bodies)
    assert stored_ids(node) == {sent_id(body) for body in bodies}


def test_killing_the_writer_loses_no_acknowledged_report(roomy: Settings, intake: Intake, node: Node) -> None:
    bodies = [encoded(report(intake)) for _ in range(160)]

    async def run() -> tuple[list[tuple[int, dict[str, Any], str]], list[tuple[int, dict[str, Any], str]]]:
        writer = ReportWriter(roomy)
        await writer.start()
        killed = writer.process_id
        assert killed is not None
        submitted = [asyncio.create_task(writer.submit(body)) for body in bodies[:150]]
        await asyncio.wait(submitted, return_when=asyncio.FIRST_COMPLETED)  # one group answered, others in flight
        os.kill(killed, signal.SIGKILL)
        cut = await asyncio.gather(*submitted)
        after = await _submit_all(writer, bodies[150:])  # a new writer takes over
        assert writer.process_id is None
        return cut, after

    cut, after = asyncio.run(run())
    assert {status for status, _, _ in cut} <= {201, 503}
    acknowledged = {sent_id(body) for body, (status, _, _) in zip(bodies, cut, strict=False) if status == 201}
    assert acknowledged, "the first group was answered before the kill"
    assert [status for status, _, _ in after] == [201] * 10
    assert acknowledged | {sent_id(body) for body in bodies[150:]} <= stored_ids(node)


def test_the_writer_ignores_sigterm_and_leaves_when_the_server_closes_its_socket(
    settings: Settings, intake: Intake
) -> None:
    async def run() -> int | None:
        writer = ReportWriter(settings)
        await writer.start()
        pid = writer.process_id
        assert pid is not None
        os.kill(pid, signal.SIGTERM)  # a service manager stopping the whole group: the server decides
        status, _, _ = await writer.submit(encoded(report(intake)))
        assert status == 201
        process = writer.process
        await writer.close()
        assert process is not None
        return process.returncode

    assert asyncio.run(run()) == 0


def test_a_writer_that_cannot_start_answers_503(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    settings = Settings(home=tmp_path, database_url="mysql://nowhere/tnrwatch")  # the writer cannot open it
    answers = asyncio.run(_submit_all(ReportWriter(settings), [b"{}", b"{}"]))
    assert [status for status, _, _ in answers] == [503, 503]
    assert [body["code"] for _, body, _ in answers] == ["error", "error"]  # the page says: try again
    assert "unsupported database" in capfd.readouterr().err
