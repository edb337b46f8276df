"""Evidence and custody through the service, on both databases: an attachment registered after the browser decrypted
it, a screenshot uploaded encrypted, views and transfers recorded, sharing with another focal point recorded, bad
input named by field, other jurisdictions kept out, and `verify` finding changed files and missing items."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from tnrwatch.crypto import envelope
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import accounts, cases, evidence
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, SealedKey
from tnrwatch.store.models import Attachment, AuditEntry, EvidenceItem

from .test_reports import Officer, accounts_id, make_officer, send_report

FILE = b"the reporter's photo of the car " * 40
SHOT = b"\x89PNG a screenshot of the threat " * 30


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


@dataclass
class Case:
    officer: Officer
    report_id: uuid.UUID
    report_key: bytes
    attachment_id: uuid.UUID
    item: evidence.EvidenceOut  # the registered attachment
    shot: evidence.EvidenceOut  # the uploaded screenshot


def meta(report_id: uuid.UUID, item_id: uuid.UUID, key: bytes, label: str = "photo") -> bytes:
    return envelope.encrypt_document(
        {"v": 1, "label": label}, key, envelope.context("evidence-meta", report_id, str(item_id))
    )


def upload(node: Node, case_key: bytes, report_id: uuid.UUID, data: bytes, item_id: uuid.UUID) -> Path:
    """What the officer's browser sends: the file encrypted with the report key, landed where the route puts it."""
    part = evidence.part_path(node.settings)
    chunks = envelope.encrypt_file(io.BytesIO(data), case_key, envelope.context("evidence", report_id, str(item_id)))
    part.write_bytes(b"".join(chunks))
    return part


def make_case(node: Node, intake: Intake, username: str = "olga") -> Case:
    officer = make_officer(node, username, "DE")
    sent = send_report(intake, "DE", files=[FILE])
    with node.store.reading() as session:
        attachment_id = session.scalar(select(Attachment.id).where(Attachment.report_id == sent.report_id))
    assert attachment_id is not None
    item_id = uuid.uuid4()
    item = evidence.register_attachment(
        node,
        officer.principal,
        sent.report_id,
        item_id=item_id,
        attachment_id=attachment_id,
        sha256=hashlib.sha256(FILE).hexdigest(),
        size=len(FILE),
        meta=meta(sent.report_id, item_id, sent.report_key),
    )
    shot_id = uuid.uuid4()
    shot = evidence.add_upload(
        node,
        officer.principal,
        sent.report_id,
        item_id=shot_id,
        kind="screenshot",
        sha256=hashlib.sha256(SHOT).hexdigest(),
        size=len(SHOT),
        meta=meta(sent.report_id, shot_id, sent.report_key, "screenshot"),
        part=upload(node, sent.report_key, sent.report_id, SHOT, shot_id),
    )
    return Case(officer, sent.report_id, sent.report_key, attachment_id, item, shot)


def test_an_attachment_and_a_screenshot_become_evidence_with_their_hashes(node: Node, intake: Intake) -> None:
    case = make_case(node, intake)
    assert [e.action for e in case.item.events] == ["received", "decrypted"]
    assert case.item.sha256 == hashlib.sha256(FILE).hexdigest()
    attachment_file = node.settings.resolved_attachment_dir / str(case.attachment_id)
    assert case.item.ciphertext_sha256 == hashlib.sha256(attachment_file.read_bytes()).hexdigest()
    assert [e.action for e in case.shot.events] == ["received"]
    stored = evidence.evidence_path(node.settings, case.shot.id)
    assert case.shot.ciphertext_sha256 == hashlib.sha256(stored.read_bytes()).hexdigest()
    assert SHOT[:16] not in stored.read_bytes()  # ciphertext only
    assert list(node.settings.resolved_evidence_dir.glob("*.part")) == []
    listed = evidence.list_items(node, case.officer.principal, case.report_id)
    assert listed.can_add
    assert [(item.kind, item.problem) for item in listed.items] == [("attachment", None), ("screenshot", None)]
    result = evidence.verify(node, Principal.operator())
    assert (result.ok, result.items, result.events, result.files_checked) == (True, 2, 3, 2)
    with node.store.reading() as session:
        audited = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "evidence")).all()
    assert audited.count("create") == 2
    assert "read" in audited  # the listing


def test_viewing_records_the_hand_over_and_the_hash_the_browser_computed(node: Node, intake: Intake) -> None:
    case = make_case(node, intake)
    principal = case.officer.principal
    path = evidence.open_file(node, principal, case.report_id, case.shot.id)
    opened = envelope.decrypt_file(
        [path.read_bytes()], case.report_key, envelope.context("evidence", case.report_id, str(case.shot.id))
    )
    plaintext = b"".join(opened)
    assert plaintext == SHOT
    seen = evidence.record_viewed(node, principal, case.report_id, case.shot.id, hashlib.sha256(plaintext).hexdigest())
    assert seen.detail == {"sha256": hashlib.sha256(SHOT).hexdigest(), "match": True}
    wrong = evidence.record_viewed(node, principal, case.report_id, case.shot.id, "0" * 64)
    assert wrong.detail["match"] is False
    handed = evidence.transfer(node, principal, case.report_id, case.shot.id, "  Bundeskriminalamt,\ncase 123 ")
    assert handed.detail == {"recipient": "Bundeskriminalamt, case 123"}
    (shot,) = [i for i in evidence.list_items(node, principal, case.report_id).items if i.id == case.shot.id]
    assert [(e.seq, e.action) for e in shot.events] == [
        (1, "received"),
        (2, "exported"),
        (3, "viewed"),
        (4, "viewed"),
        (5, "transferred"),
    ]
    assert shot.events[1].detail == {"ciphertext_sha256": case.shot.ciphertext_sha256, "match": True}
    assert shot.problem is None
    with node.store.reading() as session:
        reads = session.scalars(
            select(AuditEntry.note).where(AuditEntry.entity_uuid == case.shot.id, AuditEntry.action == "read")
        ).all()
    assert reads == [f"report {case.report_id}"]


def test_bad_input_is_named_by_field_and_leaves_nothing(node: Node, intake: Intake) -> None:
    case = make_case(node, intake)
    principal, report_id = case.officer.principal, case.report_id
    item_id = uuid.uuid4()
    part = upload(node, case.report_key, report_id, SHOT, item_id)
    with pytest.raises(InvalidInputError) as refused:
        evidence.add_upload(
            node, principal, report_id, item_id=item_id, kind="selfie", sha256="A" * 64, size=len(SHOT) + 1,
            meta=b"", part=part,
        )  # fmt: skip
    assert {error.loc[0] for error in refused.value.errors} == {"kind"}
    assert not part.exists()  # refused: the upload is gone
    part = upload(node, case.report_key, report_id, SHOT, item_id)
    with pytest.raises(InvalidInputError) as refused:
        evidence.add_upload(
            node, principal, report_id, item_id=item_id, kind="document", sha256="A" * 64, size=3, meta=b"", part=part
        )
    assert {error.loc[0] for error in refused.value.errors} == {"sha256", "meta"}
    part = upload(node, case.report_key, report_id, SHOT, item_id)
    with pytest.raises(InvalidInputError, match="size does not match") as refused:
        evidence.add_upload(
            node, principal, report_id, item_id=item_id, kind="document", sha256="a" * 64, size=len(SHOT) + 1,
            meta=meta(report_id, item_id, case.report_key), part=part,
        )  # fmt: skip
    assert refused.value.errors[0].loc == ("size",)
    with pytest.raises(ConflictError, match="already kept as evidence"):
        evidence.register_attachment(
            node, principal, report_id, item_id=uuid.uuid4(), attachment_id=case.attachment_id, sha256="a" * 64,
            size=len(FILE), meta=meta(report_id, item_id, case.report_key),
        )  # fmt: skip
    with pytest.raises(InvalidInputError) as refused:
        evidence.transfer(node, principal, report_id, case.shot.id, " \n ")
    assert refused.value.errors[0].loc == ("recipient",)
    with pytest.raises(InvalidInputError):
        evidence.record_viewed(node, principal, report_id, case.shot.id, "not a hash")
    assert len(evidence.list_items(node, principal, report_id).items) == 2


def test_other_jurisdictions_and_roles_are_kept_out(node: Node, intake: Intake) -> None:
    case = make_case(node, intake)
    french = make_officer(node, "fabien", "FR").principal
    for attempt in (
        lambda: evidence.list_items(node, french, case.report_id),
        lambda: evidence.open_file(node, french, case.report_id, case.shot.id),
        lambda: evidence.record_viewed(node, french, case.report_id, case.shot.id, "a" * 64),
        lambda: evidence.transfer(node, french, case.report_id, case.shot.id, "FR police"),
        lambda: evidence.check_can_add(node, french, case.report_id),
    ):
        with pytest.raises(NotFoundError, match="no such report in your jurisdiction"):
            attempt()
    accounts.add_account(node, Principal.operator(), "ana", "analyst")
    analyst = Principal(accounts_id(node, "ana"), "ana", "analyst")
    with pytest.raises(ForbiddenError):
        evidence.list_items(node, analyst, case.report_id)
    with pytest.raises(ForbiddenError):
        evidence.verify(node, case.officer.principal)
    other = make_case(node, intake, "otto")  # an item of another report is not reachable through this one
    with pytest.raises(NotFoundError, match="no such evidence item"):
        evidence.open_file(node, case.officer.principal, case.report_id, other.shot.id)


def test_sharing_with_another_focal_point_is_recorded_and_lets_it_view(node: Node, intake: Intake) -> None:
    case = make_case(node, intake)
    french = make_officer(node, "fabien", "FR")
    sealed = envelope.seal_report_key(case.report_key, french.public_key, case.report_id, str(french.key_id))
    cases.refer(
        node,
        case.officer.principal,
        case.report_id,
        "focal_point",
        to_jurisdiction="FR",
        sealed_keys=[SealedKey(french.key_id, sealed)],
    )
    listed = evidence.list_items(node, french.principal, case.report_id)
    assert not listed.can_add  # the case stays with Germany
    for item in listed.items:
        assert item.events[-1].action == "shared"
        assert item.events[-1].detail == {"to_jurisdiction": "FR"}
        assert item.problem is None
    assert evidence.open_file(node, french.principal, case.report_id, case.shot.id).exists()
    with pytest.raises(NotFoundError):
        evidence.transfer(node, french.principal, case.report_id, case.shot.id, "FR police")


def test_verify_names_a_changed_file_a_missing_file_and_a_missing_item(node: Node, intake: Intake) -> None:
    case = make_case(node, intake)
    stored = evidence.evidence_path(node.settings, case.shot.id)
    data = bytearray(stored.read_bytes())
    data[40] ^= 1
    stored.write_bytes(bytes(data))
    result = evidence.verify(node, Principal.operator(), case.shot.id)
    assert [(p.kind, p.item_id) for p in result.problems] == [("file-changed", case.shot.id)]
    assert "its file was changed" in result.problems[0].message
    (node.settings.resolved_attachment_dir / str(case.attachment_id)).unlink()
    with pytest.raises(ConflictError, match="does not hold this file"):
        evidence.open_file(node, case.officer.principal, case.report_id, case.item.id)
    with node.store.writing() as session:
        session.execute(delete(EvidenceItem).where(EvidenceItem.id == case.shot.id))
    kinds = {(p.kind, p.item_id) for p in evidence.verify(node, Principal.operator()).problems}
    assert kinds == {("file-missing", case.item.id), ("item-missing", case.shot.id)}


def test_an_export_verifies_alone_and_an_edit_to_it_is_named(node: Node, intake: Intake, tmp_path: Path) -> None:
    case = make_case(node, intake)
    evidence.transfer(node, case.officer.principal, case.report_id, case.item.id, "Police, case 7")
    path = tmp_path / "custody.json"
    assert evidence.export_log(node, Principal.operator(), case.item.id, path) == 3
    assert evidence.verify_export(path).ok
    with pytest.raises(InvalidInputError, match="exists already"):
        evidence.export_log(node, Principal.operator(), case.item.id, path)
    path.write_text(path.read_text(encoding="utf-8").replace("Police, case 7", "Police, case 8"), encoding="utf-8")
    result = evidence.verify_export(path)
    assert [(p.kind, p.seq) for p in result.problems] == [("modified", 3)]
