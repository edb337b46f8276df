"""Screening notices: the issue's demo case (a red notice for a person the registry holds in another script), incident
targets reported without their identity, earlier refusals, the requesting state's record, the recommendation, the
audit entries (counts only) and the batch. Both databases."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.factories import incident_data
from tnrwatch.errors import ForbiddenError, NotFoundError
from tnrwatch.services import incidents, notices, persons, registry, screening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
OFFICER = Principal(account_id=None, username="off", role="officer", jurisdiction="DE")
LIAISON = Principal(account_id=None, username="lia", role="liaison")
ANALYST = Principal(account_id=None, username="ana", role="analyst")


def _notice(node: Node, **overrides: Any) -> uuid.UUID:
    raw: dict[str, Any] = {
        "notice_type": "red_notice",
        "requesting_state": "UZ",
        "forename": "Dilnoza",
        "name": "RAKHIMOVA",
        "date_of_birth": "1986/03/14",
        "sex": "F",
        "nationalities": ["UZ"],
        "arrest_warrants": [{"issuing_country_id": "UZ", "charge": "extremism", "charge_translation": "экстремизм"}],
        "issued": "2025-05-02",
        "received": "2025-05-10",
    }
    raw.update(overrides)
    return notices.create_notice(node, LIAISON, raw).id


def _flags(sheet: screening.VettingSheet) -> set[str]:
    return {flag.id for flag in sheet.red_flags}


def test_the_demo_case_matches_across_scripts_with_an_explanation_and_article_3_flags(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notice_id = _notice(node)
    sheet = screening.screen_notice(node, LIAISON, notice_id)

    (match,) = sheet.registry_matches
    assert (match.category, match.origin_state, match.focal_point) == ("hrd", "UZ", "DE")
    assert match.from_requesting_state
    assert match.pseudonym.startswith("R-")
    assert match.score >= sheet.match_threshold
    outcomes = {feature.name: feature.outcome for feature in match.explanation}
    assert outcomes["name"] == "agrees"
    assert outcomes["date_of_birth"] == "agrees"
    assert outcomes["sex"] == "agrees"
    assert outcomes["nationality"] == "agrees"
    # The registry's names never reach the sheet: the liaison learns "protected, contact DE".
    dumped = sheet.model_dump_json()
    assert "Дильноза" not in dumped
    assert "Rahimova" not in dumped

    assert {"charge_extremism", "subject_is_hrd_or_journalist"} <= _flags(sheet)
    assert "subject_is_refugee" not in _flags(sheet)
    extremism = next(flag for flag in sheet.red_flags if flag.id == "charge_extremism")
    assert any("extremis" in line for line in extremism.evidence)
    assert any("Article 3" in source.title for source in extremism.sources)
    assert sheet.recommended_action == "do_not_act_pending_review"
    assert sheet.notice.subject.name == "RAKHIMOVA"

    with node.store.reading() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "screen")).all()
    screened = {(entry.entity, entry.entity_uuid) for entry in entries}
    assert ("notice", notice_id) in screened
    assert ("protected_person", None) in screened
    notes = " ".join(entry.note or "" for entry in entries)
    assert "registry 1" in notes
    assert "rakhimova" not in notes.lower()


def test_a_refugee_from_the_requesting_state_raises_the_refugee_flag(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notice_id = _notice(
        node,
        notice_type="extradition_request",
        requesting_state="TR",
        forename="Mehmet Ali",
        name="YILDIZ",
        date_of_birth="1983-07-21",
        sex="M",
        nationalities=["TR"],
        arrest_warrants=[{"issuing_country_id": "TR", "charge": "Membership of an armed terrorist organisation"}],
    )
    sheet = screening.screen_notice(node, LIAISON, notice_id)
    assert [m.category for m in sheet.registry_matches] == ["refugee"]
    assert {"subject_is_refugee", "charge_terrorism_against_protected", "charge_terrorism"} <= _flags(sheet)
    assert sheet.recommended_action == "do_not_act_pending_review"


def test_a_request_from_another_state_than_the_one_the_refugee_fled_raises_no_refugee_flag(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notice_id = _notice(
        node,
        requesting_state="AT",
        forename="Mehmet Ali",
        name="Yildiz",
        date_of_birth="1983-07-21",
        sex="M",
        nationalities=["TR"],
        arrest_warrants=[{"issuing_country_id": "AT", "charge": "Aggravated fraud"}],
    )
    sheet = screening.screen_notice(node, LIAISON, notice_id)
    (match,) = sheet.registry_matches
    assert not match.from_requesting_state
    assert _flags(sheet) == set()
    assert sheet.recommended_action == "consult_focal_point"  # a registry match asks for the focal point anyway


def test_an_ordinary_notice_with_no_match_proceeds(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notice_id = _notice(
        node,
        requesting_state="AT",
        forename="Martin",
        name="Exampleson",
        date_of_birth="1971-11",
        sex="M",
        nationalities=["DE"],
        arrest_warrants=[{"issuing_country_id": "AT", "charge": "Aggravated fraud", "charge_translation": "Betrug"}],
    )
    sheet = screening.screen_notice(node, LIAISON, notice_id)
    assert (sheet.registry_matches, sheet.incident_matches, sheet.red_flags) == ([], [], [])
    assert sheet.recommended_action == "proceed"


def test_an_incident_target_matches_without_revealing_the_identity(node: Node, operator: Principal) -> None:
    target = persons.create_person(
        node,
        operator,
        {"identity": {"full_name": "Дильноза Рахимова", "date_of_birth": "1986-03-14", "nationalities": ["UZ"]}},
    )
    visible = incidents.create_incident(
        node, ANALYST, incident_data(persons=[{"id": str(target.id), "role": "target"}], date_start="2025-03-01")
    )
    hidden = incidents.create_incident(
        node,
        ANALYST,
        incident_data(persons=[{"id": str(target.id), "role": "target"}], tlp="red", date_start="2024-01-10"),
    )
    elsewhere = incidents.create_incident(
        node, ANALYST, incident_data(persons=[{"id": str(target.id), "role": "target"}], origin_countries=["RU"])
    )
    notice_id = _notice(
        node, arrest_warrants=[{"issuing_country_id": "UZ", "charge": "Fraud on a large scale"}], issued="2025-05-02"
    )
    sheet = screening.screen_notice(node, LIAISON, notice_id)

    by_date = sorted(sheet.incident_matches, key=lambda m: m.incident_date)
    assert [m.incident_id for m in by_date] == [None, visible.id]  # the RED one is not the liaison's to read
    assert elsewhere.id not in {m.incident_id for m in sheet.incident_matches}  # another state's incident
    assert str(hidden.id) not in sheet.model_dump_json()
    assert {m.role for m in by_date} == {"target"}
    assert by_date[0].owner is None
    dumped = sheet.model_dump_json()
    assert "Дильноза" not in dumped
    assert target.pseudonym not in dumped
    assert str(target.id) not in dumped
    assert {"subject_in_incident", "charge_follows_incident"} <= _flags(sheet)
    follows = next(flag for flag in sheet.red_flags if flag.id == "charge_follows_incident")
    assert any("62 days after" in line for line in follows.evidence)  # 2025-03-01 -> 2025-05-02
    assert sheet.recommended_action == "do_not_act_pending_review"


def test_an_earlier_refusal_and_the_states_record_raise_their_flags(node: Node) -> None:
    refused = _notice(node, interpol_reference="2020/00001", issued="2020-01-01", received="2020-01-05")
    notices.decide(node, LIAISON, refused, {"decision": "do_not_act", "reasons": "political"})
    for number in range(2):
        other = _notice(
            node,
            forename="Someone",
            name=f"Else{'ABCDEFG'[number]}vich",
            date_of_birth="1950",
            sex="M",
            arrest_warrants=[{"issuing_country_id": "UZ", "charge": "Theft"}],
        )
        notices.decide(node, LIAISON, other, {"decision": "proceed", "reasons": "ordinary theft"})
    incidents.create_incident(node, ANALYST, incident_data())
    notice_id = _notice(node, arrest_warrants=[{"issuing_country_id": "UZ", "charge": "Theft"}])
    sheet = screening.screen_notice(node, LIAISON, notice_id)

    assert sheet.prior_refusals == 1
    record = sheet.state_record
    assert (record.notices, record.decided, record.do_not_act, record.incidents) == (4, 3, 1, 1)
    assert record.abusive_share == pytest.approx(1 / 3)
    assert {"prior_refusal", "requesting_state_pattern"} == _flags(sheet)
    assert sheet.recommended_action == "do_not_act_pending_review"  # 2.0 + 1.0

    # The refused notice itself is not its own earlier refusal.
    assert screening.screen_notice(node, LIAISON, refused).prior_refusals == 0


def test_screen_all_builds_once_and_screens_the_undecided(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notices.import_notices(node, LIAISON, EXAMPLES / "red_notices.json", synthetic=True)
    notices.import_notices(node, LIAISON, EXAMPLES / "requests.csv", synthetic=True)
    calls: list[tuple[int, int]] = []
    sheets = screening.screen_all(node, LIAISON, progress=lambda done, total: calls.append((done, total)))
    assert len(sheets) == 6
    assert calls[-1] == (6, 6)
    by_name = {sheet.notice.subject.name.upper(): sheet for sheet in sheets}
    assert by_name["RAKHIMOVA"].recommended_action == "do_not_act_pending_review"
    assert by_name["EXAMPLESON"].recommended_action == "proceed"
    assert "subject_is_refugee" in _flags(by_name["YILDIZ"])
    assert "charge_separatism" in _flags(by_name["WEI"])
    assert "charge_banned_organisation" in _flags(by_name["NAZAROV"])
    with node.store.reading() as session:
        registry_reads = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "screen", AuditEntry.entity == "protected_person")
        ).all()
    assert len(registry_reads) == 1  # the registry was opened once for the batch


def test_only_the_liaison_screens_and_an_unknown_notice_is_not_found(node: Node) -> None:
    notice_id = _notice(node)
    with pytest.raises(ForbiddenError):
        screening.screen_notice(node, OFFICER, notice_id)
    with pytest.raises(ForbiddenError):
        screening.screen_all(node, ANALYST)
    with pytest.raises(NotFoundError):
        screening.screen_notice(node, LIAISON, uuid.uuid4())


def test_the_sheet_is_json(node: Node) -> None:
    sheet = screening.screen_notice(node, LIAISON, _notice(node))
    loaded = json.loads(sheet.model_dump_json())
    assert loaded["rules_version"]
    assert dt.datetime.fromisoformat(loaded["screened_at"])
