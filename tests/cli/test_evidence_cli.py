"""`tnrwatch evidence` through the real Typer app, on both databases: verify passes, then each direct edit of the
custody log (a row modified, deleted, inserted, two rows swapped) and of an evidence file is found, with exit code 1
and the row named; list shows a report's evidence; an exported log verifies without the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services import evidence
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings
from tnrwatch.store.custody_chain import FIELDS, CustodyEntry, entry_hash
from tnrwatch.store.models import CustodyEvent
from tnrwatch.store.types import utcnow

from ..services.test_evidence import Case, make_case


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("COLUMNS", "300")
    return CliRunner()


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


def worked(node: Node, intake: Intake) -> Case:
    """A case whose screenshot has five custody rows: received, exported, viewed, transferred, transferred."""
    case = make_case(node, intake)
    principal = case.officer.principal
    evidence.open_file(node, principal, case.report_id, case.shot.id)
    evidence.record_viewed(node, principal, case.report_id, case.shot.id, case.shot.sha256)
    evidence.transfer(node, principal, case.report_id, case.shot.id, "Landeskriminalamt, case 4711")
    evidence.transfer(node, principal, case.report_id, case.shot.id, "Staatsanwaltschaft, case 99")
    return case


def _uuid(connection: Connection, value: object) -> object:
    # SQLite keeps UUIDs as 32 hex digits, PostgreSQL as its own type.
    return value.hex if connection.dialect.name == "sqlite" else value  # type: ignore[attr-defined]


def modify(connection: Connection, case: Case) -> None:
    connection.execute(
        text("UPDATE custody_event SET username = 'mallory' WHERE item_id = :item AND seq = 3"),
        {"item": _uuid(connection, case.shot.id)},
    )


def remove(connection: Connection, case: Case) -> None:
    connection.execute(
        text("DELETE FROM custody_event WHERE item_id = :item AND seq = 3"), {"item": _uuid(connection, case.shot.id)}
    )


def _renumber(connection: Connection, case: Case, moves: list[tuple[int, int]]) -> None:
    for old, new in moves:
        connection.execute(
            text("UPDATE custody_event SET seq = :new WHERE item_id = :item AND seq = :old"),
            {"item": _uuid(connection, case.shot.id), "old": old, "new": new},
        )


def insert(connection: Connection, case: Case) -> None:
    """A well-formed forged row slipped in as row 3: the rows from 3 on move up one."""
    _renumber(connection, case, [(5, 6), (4, 5), (3, 4)])
    prev_hash = connection.execute(
        text("SELECT hash FROM custody_event WHERE item_id = :item AND seq = 2"),
        {"item": _uuid(connection, case.shot.id)},
    ).scalar_one()
    forged = CustodyEntry(case.shot.id, 3, utcnow(), None, "mallory", "viewed", {"sha256": "0" * 64}, prev_hash)
    with Session(bind=connection) as session:
        session.add(CustodyEvent(**{name: getattr(forged, name) for name in FIELDS}, hash=entry_hash(forged)))
        session.flush()


def reorder(connection: Connection, case: Case) -> None:
    _renumber(connection, case, [(3, 100), (4, 3), (100, 4)])


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        (modify, "row 3 was modified"),
        (remove, "row 3 missing (deleted)"),
        (insert, "row 3 was inserted"),
        (reorder, "the order is broken: row 3 was written as row 4"),
    ],
    ids=["modify", "delete", "insert", "reorder"],
)
def test_verify_names_the_tampered_custody_row(
    runner: CliRunner, node: Node, intake: Intake, tamper: Callable[[Connection, Case], None], named: str
) -> None:
    case = worked(node, intake)
    result = runner.invoke(app, ["evidence", "verify"])
    assert result.exit_code == 0, result.output
    assert "ok: 2 items, 7 custody events, 2 files hashed" in result.stdout

    with node.store.engine.begin() as connection:
        tamper(connection, case)
    result = runner.invoke(app, ["evidence", "verify"])
    assert result.exit_code == 1, result.output
    assert f"item {case.shot.id}: {named}" in result.stderr
    assert str(case.item.id) not in result.stderr  # the other item is intact
    only_other = runner.invoke(app, ["evidence", "verify", "--item", str(case.item.id)])
    assert only_other.exit_code == 0, only_other.output


def test_verify_names_a_changed_file(runner: CliRunner, node: Node, intake: Intake) -> None:
    case = worked(node, intake)
    stored = evidence.evidence_path(node.settings, case.shot.id)
    stored.write_bytes(stored.read_bytes()[:-1] + b"\x00")
    result = runner.invoke(app, ["evidence", "verify", "--item", str(case.shot.id)])
    assert result.exit_code == 1
    assert f"item {case.shot.id}: its file was changed" in result.stderr


def test_list_and_export(runner: CliRunner, node: Node, intake: Intake, tmp_path: Path) -> None:
    case = worked(node, intake)
    listed = runner.invoke(app, ["evidence", "list", "--report", str(case.report_id)])
    assert listed.exit_code == 0, listed.output
    assert str(case.shot.id) in listed.stdout
    assert "1 received, 2 exported, 3 viewed, 4 transferred, 5 transferred" in listed.stdout
    assert "Landeskriminalamt" not in listed.stdout  # the recipient is in the log, not in the summary

    path = tmp_path / "custody.json"
    exported = runner.invoke(app, ["evidence", "export", str(case.shot.id), "--out", str(path)])
    assert exported.exit_code == 0, exported.output
    checked = runner.invoke(app, ["evidence", "verify", "--file", str(path)])
    assert checked.exit_code == 0, checked.output
    assert "ok: 1 items, 5 custody events" in checked.stdout

    document = json.loads(path.read_text(encoding="utf-8"))
    document["events"][1], document["events"][2] = document["events"][2], document["events"][1]
    document["events"][1]["seq"], document["events"][2]["seq"] = 2, 3
    path.write_text(json.dumps(document), encoding="utf-8")
    broken = runner.invoke(app, ["evidence", "verify", "--file", str(path)])
    assert broken.exit_code == 1
    assert "the order is broken: row 2 was written as row 3" in broken.stderr
    again = runner.invoke(app, ["evidence", "export", str(case.shot.id), "--out", str(path)])
    assert again.exit_code == 2  # never overwrites a file
    missing = runner.invoke(app, ["evidence", "list", "--report", "00000000-0000-4000-8000-000000000000"])
    assert missing.exit_code == 2
