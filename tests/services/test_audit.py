"""The audit log: the chain verifies, every kind of tampering is found and named by row, seals are checked, appends
from many threads keep the chain whole, and reads of protected data are recorded. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from pathlib import Path

import pytest
from nacl.signing import SigningKey
from sqlalchemy import select, text

from tests.services.test_reports import CANARY, make_officer, send_report
from tnrwatch.services import audit, persons
from tnrwatch.services.changes import record_access, record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake
from tnrwatch.store.audit_chain import ChainEntry, entry_hash, seal_payload
from tnrwatch.store.models import AuditEntry, AuditSeal

OPERATOR = Principal.operator()
OFFICER = Principal(None, "olga", "officer", "DE")


def write_log(node: Node, entries: int = 6) -> None:
    for step in range(entries):
        with node.store.writing() as session:
            record_change(session, OPERATOR, "update", "incident", uuid.uuid4(), ["title"], note=f"step {step}")


def sql(node: Node, *statements: str) -> None:
    """Edit the database directly, as someone with database access and no signing key would."""
    with node.store.engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def stored_hash(node: Node, entry_id: int) -> str:
    with node.store.reading() as session:
        found = session.scalar(select(AuditEntry.hash).where(AuditEntry.id == entry_id))
    assert found is not None
    return found


def forged_row(node: Node, entry_id: int, prev_hash: str, *, right_hash: bool = True) -> None:
    entry = ChainEntry(
        id=entry_id,
        at=dt.datetime.now(dt.UTC),
        account_id=None,
        username="operator",
        role="operator",
        jurisdiction=None,
        action="update",
        entity="incident",
        entity_uuid=uuid.uuid4(),
        fields=["title"],
        count=1,
        note="forged",
        prev_hash=prev_hash,
    )
    digest = entry_hash(entry) if right_hash else hashlib.sha256(b"looks like a hash").hexdigest()
    with node.store.writing() as session:  # straight into the table: not through record_change
        session.add(AuditEntry(**{name: getattr(entry, name) for name in ChainEntry.__dataclass_fields__}, hash=digest))


def only_problem(node: Node) -> audit.Problem:
    result = audit.verify(node)
    assert not result.ok
    return result.problems[0]


def test_the_chain_verifies_and_every_write_is_in_it(node: Node) -> None:
    write_log(node, 5)
    result = audit.verify(node)
    assert result.ok, result.problems
    assert (result.entries, result.last_id) == (5, 5)
    assert result.seals == 1  # the first write sealed the log; the next ones came within the hour
    page = audit.list_entries(node, Principal(None, "aud", "auditor"), limit=3)
    assert [item.id for item in page.items] == [5, 4, 3]
    assert page.next_before == 3
    assert [item.id for item in audit.list_entries(node, OPERATOR, before=3).items] == [2, 1]


def test_a_modified_row_is_named(node: Node) -> None:
    write_log(node)
    sql(node, "UPDATE audit_entry SET note = 'nothing happened' WHERE id = 3")
    problem = only_problem(node)
    assert (problem.kind, problem.row) == ("modified", 3)
    assert "row 3" in problem.message


def test_a_modified_row_with_its_hash_recomputed_is_named(node: Node) -> None:
    write_log(node)
    with node.store.writing() as session:
        row = session.get_one(AuditEntry, 3)
        row.note = "nothing happened"
        row.hash = entry_hash(audit._chain_entry(row))
    problem = only_problem(node)
    assert (problem.kind, problem.row) == ("modified", 3)


def test_a_deleted_row_is_named(node: Node) -> None:
    write_log(node)
    sql(node, "DELETE FROM audit_entry WHERE id = 3")
    problem = only_problem(node)
    assert (problem.kind, problem.row) == ("missing", 3)
    assert "row 3 missing" in problem.message


def test_an_inserted_row_is_named(node: Node) -> None:
    """A forger makes room for a row (ids 3.. move up by one) and inserts one whose hash is right and chained."""
    write_log(node)
    sql(
        node,
        "UPDATE audit_entry SET id = -id WHERE id >= 3",
        "UPDATE audit_entry SET id = 1 - id WHERE id < 0",
    )
    forged_row(node, 3, stored_hash(node, 2))
    problem = only_problem(node)
    assert (problem.kind, problem.row) == ("inserted", 3)


def test_a_forged_row_at_the_end_is_named(node: Node) -> None:
    write_log(node)
    forged_row(node, 7, stored_hash(node, 6), right_hash=False)
    problem = only_problem(node)
    assert (problem.kind, problem.row) == ("modified", 7)


def test_swapped_rows_are_named(node: Node) -> None:
    write_log(node)
    sql(
        node,
        "UPDATE audit_entry SET id = -2 WHERE id = 2",
        "UPDATE audit_entry SET id = 2 WHERE id = 4",
        "UPDATE audit_entry SET id = 4 WHERE id = -2",
    )
    problem = only_problem(node)
    assert (problem.kind, problem.row) == ("reordered", 2)
    assert "written as row 4" in problem.message


def test_rows_deleted_after_a_seal_are_named(node: Node) -> None:
    write_log(node)
    sealed = audit.seal(node)
    assert sealed is not None
    assert sealed.last_id == 6
    sql(node, "DELETE FROM audit_entry WHERE id >= 5")
    problem = only_problem(node)
    assert (problem.kind, problem.row, problem.seal) == ("truncated", 5, sealed.id)


def test_a_row_rewritten_after_a_seal_with_the_chain_recomputed_is_named(node: Node) -> None:
    """Rewriting the newest row and its hash keeps the chain whole; only the seal over it tells."""
    write_log(node)
    audit.seal(node)
    with node.store.writing() as session:
        row = session.get_one(AuditEntry, 6)
        row.note = "nothing happened"
        row.hash = entry_hash(audit._chain_entry(row))
    problem = only_problem(node)
    assert (problem.kind, problem.row) == ("seal-mismatch", 6)


@pytest.mark.parametrize("forgery", ["bad-signature", "unknown-key"])
def test_a_forged_seal_is_named(node: Node, forgery: str) -> None:
    write_log(node)
    at = dt.datetime.now(dt.UTC)
    payload = seal_payload(6, stored_hash(node, 6), at)
    other = SigningKey.generate()
    if forgery == "bad-signature":
        public, signature = audit.public_key(node), bytes(64)
    else:
        public, signature = bytes(other.verify_key), other.sign(payload).signature
    with node.store.writing() as session:
        seal = AuditSeal(at=at, last_id=6, last_hash=stored_hash(node, 6), public_key=public, signature=signature)
        session.add(seal)
        session.flush()
        seal_id = seal.id
    problem = only_problem(node)
    assert (problem.kind, problem.row, problem.seal) == (forgery, 6, seal_id)


def test_the_log_seals_itself_when_the_last_seal_is_old(node: Node) -> None:
    node.audit_sealer.every = dt.timedelta(0)
    write_log(node, 3)
    with node.store.reading() as session:
        assert session.scalars(select(AuditSeal.last_id).order_by(AuditSeal.id)).all() == [1, 2, 3]
    assert (node.settings.resolved_key_dir / "audit-signing.key").stat().st_mode & 0o777 == 0o600
    assert audit.verify(node).ok


def test_several_entries_in_one_transaction_chain(node: Node) -> None:
    with node.store.writing() as session:
        for step in range(3):
            record_change(session, OPERATOR, "seed", "incident", count=step + 1)
    assert audit.verify(node).ok
    assert audit.verify(node).entries == 3


def test_concurrent_appends_keep_the_chain_whole(node: Node) -> None:
    threads, each = 4, 8
    errors: list[BaseException] = []

    def work() -> None:
        try:
            write_log(node, each)
        except BaseException as exc:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(exc)

    started = [threading.Thread(target=work) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    assert errors == []
    result = audit.verify(node)
    assert result.ok, result.problems
    assert result.entries == threads * each


def test_reading_a_report_and_an_identity_is_recorded_without_content(node: Node) -> None:
    intake = Intake(node)
    officer = make_officer(node, "olga", "DE")
    sent = send_report(intake, "DE")
    intake.officer_thread(officer.principal, sent.report_id)
    person = persons.create_person(node, officer.principal, {"identity": {"full_name": "Zarina Example-Name"}})
    persons.get_person(node, officer.principal, person.id, with_identity=True)
    with node.store.reading() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    reads = [(row.action, row.entity, row.entity_uuid, row.username) for row in rows if row.action.startswith("read")]
    assert reads == [
        ("read", "report", sent.report_id, "olga"),
        ("read-identity", "person", person.id, "olga"),
    ]
    everything = repr([audit._chain_entry(row) for row in rows])
    assert CANARY not in everything
    assert "Zarina" not in everything
    assert audit.verify(node).ok


def test_record_access_holds_no_fields(node: Node) -> None:
    with node.store.writing() as session:
        record_access(session, OFFICER, "read", "report", uuid.uuid4())
    with node.store.reading() as session:
        row = session.scalars(select(AuditEntry)).one()
    assert (row.fields, row.count, row.role, row.jurisdiction) == ([], 1, "officer", "DE")


def test_an_export_verifies_without_the_database_and_finds_tampering(node: Node, tmp_path: Path) -> None:
    write_log(node)
    path = tmp_path / "audit.jsonl"
    result = audit.export(node, path)
    assert result.ok, result.problems
    assert path.stat().st_mode & 0o777 == 0o600
    assert audit.verify_export(path, audit.public_key(node)).ok
    assert not audit.verify_export(path, bytes(SigningKey.generate().verify_key)).ok

    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"step 2"', '"step two"')
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problem = audit.verify_export(tampered).problems[0]
    assert (problem.kind, problem.row) == ("modified", 3)
