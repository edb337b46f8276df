"""Notices: Interpol's JSON and flat CSV import without a mapping; a batch lands whole or every bad record is named
by row and field; the subject is sealed at rest, never listed, and each read is recorded; decisions are audited by
field name. Both databases."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tnrwatch.crypto.vault import VaultError
from tnrwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from tnrwatch.services import notices
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry, Notice

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
LIAISON = Principal(account_id=None, username="lia", role="liaison")
ANALYST = Principal(account_id=None, username="ana", role="analyst")
OFFICER = Principal(account_id=None, username="off", role="officer", jurisdiction="DE")
RED_NOTICE = {
    "notice_type": "red_notice",
    "interpol_reference": "2025/31842",
    "forename": "DILNOZA",
    "name": "RAKHIMOVA",
    "date_of_birth": "1986/03/14",
    "sex_id": "F",
    "nationalities": ["UZ"],
    "arrest_warrants": [{"issuing_country_id": "UZ", "charge": "Extremism", "charge_translation": "Экстремизм"}],
}


def test_interpol_json_and_flat_csv_import_without_a_mapping(node: Node) -> None:
    red = notices.import_notices(node, LIAISON, EXAMPLES / "red_notices.json", synthetic=True)
    requests = notices.import_notices(node, LIAISON, EXAMPLES / "requests.csv", synthetic=True)
    assert (red.format, red.rows, red.imported) == ("json", 3, 3)
    assert (requests.format, requests.rows, requests.imported) == ("csv", 3, 3)
    listed = notices.list_notices(node, LIAISON, limit=10)
    assert sorted(notice.notice_type for notice in listed) == [
        "diffusion", "extradition_request", "mutual_legal_assistance", "red_notice", "red_notice", "red_notice",
    ]  # fmt: skip
    assert all(notice.synthetic for notice in listed)
    turkish = notices.list_notices(node, LIAISON, requesting_state="tr")
    assert [notice.charges for notice in turkish] == [["Membership of an armed terrorist organisation"]]
    opened = notices.get_notice(node, LIAISON, turkish[0].id)
    assert opened.subject.nationalities == ["TR", "DE"]  # ";"-separated in the CSV
    assert [name.name for name in opened.subject.other_names] == ["Mehmet Ali Yildiz"]
    assert opened.arrest_warrants[0].legal_provision == "Art. 314 Turkish Penal Code"
    assert opened.arrest_warrants[0].charge_translation == "Silahlı terör örgütüne üye olma"
    assert opened.decision_due is not None
    assert opened.subject.date_of_birth is not None
    assert opened.subject.date_of_birth.precision == "day"


def test_the_subject_is_sealed_at_rest_and_each_read_is_recorded(node: Node) -> None:
    created = notices.create_notice(node, LIAISON, RED_NOTICE)
    assert created.subject.name == "RAKHIMOVA"
    with node.store.reading() as session:
        dumped = " ".join(str(row) for row in session.execute(text("SELECT * FROM notice")))
        blob = session.execute(text("SELECT subject_ciphertext FROM notice")).scalar_one()
    assert "RAKHIMOVA" not in dumped
    assert "DILNOZA" not in dumped
    assert b"RAKHIMOVA" not in bytes(blob)
    assert "Extremism" in " ".join(notices.list_notices(node, LIAISON)[0].charges)  # charges stay readable
    assert "subject" not in notices.list_notices(node, LIAISON)[0].model_dump()
    notices.get_notice(node, LIAISON, created.id)
    notices.get_notice(node, LIAISON, created.id)
    with node.store.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_uuid == created.id)).all()
        notes = " ".join(session.scalars(select(AuditEntry.note)).all())
    assert actions.count("read-subject") == 2
    assert "create" in actions
    assert "RAKHIMOVA" not in notes


def test_a_subject_moved_to_another_notice_does_not_open(node: Node) -> None:
    first = notices.create_notice(node, LIAISON, RED_NOTICE)
    second = notices.create_notice(node, LIAISON, {**RED_NOTICE, "interpol_reference": "2025/00001", "name": "B"})
    with node.store.writing() as session:
        stolen = session.scalar(select(Notice.subject_ciphertext).where(Notice.uuid == first.id))
        session.execute(Notice.__table__.update().where(Notice.uuid == second.id).values(subject_ciphertext=stolen))
    with pytest.raises(VaultError):
        notices.get_notice(node, LIAISON, second.id)


def test_only_the_liaison_reads_and_writes_notices(node: Node) -> None:
    created = notices.create_notice(node, LIAISON, RED_NOTICE)
    for principal in (ANALYST, OFFICER):
        with pytest.raises(ForbiddenError):
            notices.list_notices(node, principal)
        with pytest.raises(ForbiddenError):
            notices.get_notice(node, principal, created.id)
        with pytest.raises(ForbiddenError):
            notices.create_notice(node, principal, RED_NOTICE)
    assert len(notices.list_notices(node, Principal.operator())) == 1


def test_a_bad_batch_names_every_bad_row_and_field_and_imports_nothing(node: Node, tmp_path: Path) -> None:
    notices.create_notice(node, LIAISON, RED_NOTICE)  # its reference clashes with row 3 below
    path = tmp_path / "bad.csv"
    path.write_text(
        "notice_type,interpol_reference,requesting_state,name,date_of_birth,sex,charge\n"
        "diffusion,,TJ,Nazarov,1990,M,Extremism\n"  # row 2: fine
        "red_notice,2025/318,UZ,Karimov,1980-13,X,Extremism\n"  # row 3: reference, date, sex
        "red_notice,2025/31842,UZ,Rakhimova,1986,F,Extremism\n"  # row 4: already here
        "extradition_request,,,Nobody,,,\n",  # row 5: no requesting state, no warrant to take it from
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        notices.import_notices(node, LIAISON, path, label="bad.csv")
    where = {error.where() for error in caught.value.errors}
    assert {
        "bad.csv.3.interpol_reference",
        "bad.csv.3.date_of_birth",
        "bad.csv.3.sex",
        "bad.csv.4.interpol_reference",
        "bad.csv.5.requesting_state",
    } <= where
    assert not any(w.startswith("bad.csv.2.") for w in where)
    assert "3 of 4 records are invalid" in caught.value.message
    with node.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 1


def test_json_batches_name_the_index_and_warrants_come_as_json_in_csv(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([RED_NOTICE, {**RED_NOTICE, "notice_type": "yellow"}, "not a notice"]))
    with pytest.raises(InvalidInputError) as caught:
        notices.import_notices(node, LIAISON, path, label="batch.json")
    where = {error.where() for error in caught.value.errors}
    assert {"batch.json.1.notice_type", "batch.json.2"} <= where
    warrants = json.dumps([{"issuing_country_id": "CN", "charge": "Separatism"}, {"charge": "Fraud"}])
    csv_path = tmp_path / "warrants.csv"
    csv_path.write_text(
        "notice_type,requesting_state,name,arrest_warrants\n"
        f'extradition_request,CN,Wei,"{warrants.replace(chr(34), chr(34) * 2)}"\n'
    )
    with pytest.raises(InvalidInputError) as caught:
        notices.import_notices(node, LIAISON, csv_path, label="warrants.csv")
    assert {error.where() for error in caught.value.errors} == {"warrants.csv.2.arrest_warrants.1.issuing_country_id"}
    both = tmp_path / "both.csv"
    both.write_text("notice_type,requesting_state,name,arrest_warrants,charge\ndiffusion,CN,Wei,[],Fraud\n")
    with pytest.raises(InvalidInputError) as caught:
        notices.import_notices(node, LIAISON, both, label="both.csv")
    assert [error.where() for error in caught.value.errors] == ["both.csv.2.arrest_warrants"]


def test_the_type_is_given_for_lists_that_do_not_say_it(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "interpol.json"
    untyped = {key: value for key, value in RED_NOTICE.items() if key != "notice_type"}
    path.write_text(json.dumps({"total": 1, "_embedded": {"notices": [untyped]}}))
    with pytest.raises(InvalidInputError) as caught:
        notices.import_notices(node, LIAISON, path, label="interpol.json")
    assert [error.where() for error in caught.value.errors] == ["interpol.json.0.notice_type"]
    result = notices.import_notices(node, LIAISON, path, notice_type="diffusion")
    assert result.imported == 1
    assert notices.list_notices(node, LIAISON)[0].notice_type == "diffusion"


def test_a_decision_is_recorded_with_its_reasons_and_audited_by_field(node: Node) -> None:
    created = notices.create_notice(node, LIAISON, RED_NOTICE)
    assert created.decision == "none"
    with pytest.raises(InvalidInputError) as caught:
        notices.decide(node, LIAISON, created.id, {"decision": "arrest", "reasons": ""})
    assert {error.where() for error in caught.value.errors} == {"decision", "reasons"}
    decided = notices.decide(
        node, LIAISON, created.id, {"decision": "do_not_act", "reasons": "Article 3: political charge."}
    )
    assert (decided.decision, decided.decided_by, decided.version) == ("do_not_act", "lia", 2)
    assert decided.decided_at is not None
    assert notices.list_notices(node, LIAISON, decision="do_not_act")[0].id == created.id
    assert notices.list_notices(node, LIAISON, decision="proceed") == []
    with node.store.reading() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.entity_uuid == created.id, AuditEntry.action == "decide")
        ).one()
        dumped = " ".join(str(row) for row in session.execute(text("SELECT * FROM audit_entry")))
    assert "decision" in str(entry.fields)
    assert "political" not in dumped
    with pytest.raises(NotFoundError):
        notices.decide(node, LIAISON, uuid.uuid4(), {"decision": "proceed", "reasons": "x"})


def test_the_same_notice_twice_is_a_conflict(node: Node) -> None:
    notices.create_notice(node, LIAISON, RED_NOTICE)
    with pytest.raises(ConflictError):
        notices.create_notice(node, LIAISON, RED_NOTICE)
    # The same reference as another type is another record (an extradition request following a red notice).
    assert notices.create_notice(node, LIAISON, {**RED_NOTICE, "notice_type": "diffusion"}).notice_type == "diffusion"
