"""The screening matchers kept between screenings (services/screening_cache.py): a second sheet does not open the vault
again, and the next sheet after any change to what they index (a registry entry added, edited or removed, a notice
decided do_not_act, a person's identity, an incident's link or marking) reflects it. One build at a time across
threads; the lifetime setting (0: keep nothing) and the timer that drops kept names. Both databases."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from tests.factories import incident_data
from tnrwatch.domain.notice import ProtectedIdentity
from tnrwatch.services import incidents, notices, persons, registry, screening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.screening_cache import StampedSlot
from tnrwatch.settings import Settings
from tnrwatch.store.models import AuditEntry, ProtectedPerson
from tnrwatch.store.types import utcnow
from tnrwatch.taxonomy import default_taxonomy

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
OFFICER = Principal(account_id=None, username="off", role="officer", jurisdiction="DE")
LIAISON = Principal(account_id=None, username="lia", role="liaison")
ANALYST = Principal(account_id=None, username="ana", role="analyst")
RAKHIMOVA = {"forename": "Dilnoza", "name": "RAKHIMOVA", "date_of_birth": "1986/03/14", "sex": "F"}
SOKOLOV = {"forename": "Timur", "name": "SOKOLOV", "date_of_birth": "1979/09/02", "sex": "M"}


def _notice(node: Node, subject: dict[str, str], **overrides: Any) -> uuid.UUID:
    raw: dict[str, Any] = {
        "notice_type": "red_notice",
        "requesting_state": "UZ",
        "nationalities": ["UZ"],
        "arrest_warrants": [{"issuing_country_id": "UZ", "charge": "Theft"}],
        "issued": "2025-05-02",
        "received": "2025-05-10",
        **subject,
    }
    raw.update(overrides)
    return notices.create_notice(node, LIAISON, raw).id


def _focal_points(sheet: screening.VettingSheet) -> list[str | None]:
    return [match.focal_point for match in sheet.registry_matches]


def _reseal(node: Node, entry: uuid.UUID, identity: ProtectedIdentity, **clear: Any) -> None:
    """An edit of a registry entry as any writer makes one: a new sealed identity (and clear fields), and updated_at."""
    sealed = node.vault.seal(identity.model_dump_json().encode(), registry.associated_data(entry))
    with node.store.writing() as session:
        session.execute(
            update(ProtectedPerson)
            .where(ProtectedPerson.uuid == entry)
            .values(identity_key_id=sealed.key_id, identity_ciphertext=sealed.ciphertext, updated_at=utcnow(), **clear)
        )


def test_a_second_screening_opens_nothing_from_the_vault_and_still_records_its_access(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    first, second = _notice(node, RAKHIMOVA), _notice(node, SOKOLOV)
    assert node.screening_cache.builds == {"registry": 0, "persons": 0, "refusals": 0}

    assert _focal_points(screening.screen_notice(node, LIAISON, first)) == ["DE"]
    assert node.screening_cache.builds == {"registry": 1, "persons": 1, "refusals": 1}
    assert screening.screen_notice(node, LIAISON, second).registry_matches == []
    assert _focal_points(screening.screen_notice(node, LIAISON, first)) == ["DE"]
    assert node.screening_cache.builds == {"registry": 1, "persons": 1, "refusals": 1}

    # Each sheet records, as before, that the registry and the persons were compared (counts only), and the notice.
    with node.store.reading() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "screen").order_by(AuditEntry.id)).all()
    size = len(registry.list_registry(node, OFFICER))
    assert [entry.note for entry in entries if entry.entity == "protected_person"] == [f"{size} compared"] * 3
    assert [entry.note for entry in entries if entry.entity == "person"] == ["0 compared"] * 3
    assert [entry.entity_uuid for entry in entries if entry.entity == "notice"] == [first, second, first]


def test_the_next_sheet_reflects_every_change_to_the_registry_and_the_refusals(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notice_id = _notice(node, SOKOLOV)
    assert screening.screen_notice(node, LIAISON, notice_id).registry_matches == []

    # Added: the entry is on the next sheet.
    added = registry.add_entry(
        node,
        OFFICER,
        {
            "full_name": "Тимур Соколов",
            "date_of_birth": "1979-09-02",
            "sex": "M",
            "nationalities": ["UZ"],
            "category": "journalist",
            "origin_state": "UZ",
            "focal_point": "FR",
        },
    )
    sheet = screening.screen_notice(node, LIAISON, notice_id)
    assert [(m.pseudonym, m.focal_point) for m in sheet.registry_matches] == [(added.pseudonym, "FR")]
    assert node.screening_cache.registry.builds == 2

    # Edited: another focal point in the clear, then another name in the vault.
    identity = ProtectedIdentity.model_validate(
        {"full_name": "Тимур Соколов", "date_of_birth": "1979-09-02", "sex": "M", "nationalities": ["UZ"]}
    )
    _reseal(node, added.id, identity, focal_point="NL")
    assert _focal_points(screening.screen_notice(node, LIAISON, notice_id)) == ["NL"]
    _reseal(node, added.id, identity.model_copy(update={"full_name": "Олег Ким"}))
    assert screening.screen_notice(node, LIAISON, notice_id).registry_matches == []
    _reseal(node, added.id, identity)
    assert _focal_points(screening.screen_notice(node, LIAISON, notice_id)) == ["NL"]

    # Removed: gone from the next sheet.
    with node.store.writing() as session:
        session.execute(delete(ProtectedPerson).where(ProtectedPerson.uuid == added.id))
    assert screening.screen_notice(node, LIAISON, notice_id).registry_matches == []
    assert node.screening_cache.registry.builds == 6

    # A notice for the same person decided do_not_act is an earlier refusal on the next sheet; decided otherwise
    # again, it no longer is.
    earlier = _notice(node, SOKOLOV, interpol_reference="2020/00001", issued="2020-01-01", received="2020-01-05")
    assert screening.screen_notice(node, LIAISON, notice_id).prior_refusals == 0
    notices.decide(node, LIAISON, earlier, {"decision": "do_not_act", "reasons": "political"})
    assert screening.screen_notice(node, LIAISON, notice_id).prior_refusals == 1
    notices.decide(node, LIAISON, earlier, {"decision": "proceed", "reasons": "reviewed"})
    assert screening.screen_notice(node, LIAISON, notice_id).prior_refusals == 0
    assert node.screening_cache.refusals.builds == 3


def test_persons_and_their_incidents_are_current_on_the_next_sheet(node: Node, operator: Principal) -> None:
    notice_id = _notice(node, RAKHIMOVA)
    assert screening.screen_notice(node, LIAISON, notice_id).incident_matches == []
    target = persons.create_person(
        node,
        operator,
        {"identity": {"full_name": "Дильноза Рахимова", "date_of_birth": "1986-03-14", "nationalities": ["UZ"]}},
    )
    # A new identity: the persons' matcher is rebuilt; the person has no incident yet, so nothing shows.
    assert screening.screen_notice(node, LIAISON, notice_id).incident_matches == []
    assert node.screening_cache.persons.builds == 2

    # Incidents and their markings are read for each sheet: no identity is opened again for them.
    hidden = incidents.create_incident(
        node, ANALYST, incident_data(persons=[{"id": str(target.id), "role": "target"}], tlp="red")
    )
    (match,) = screening.screen_notice(node, LIAISON, notice_id).incident_matches
    assert match.incident_id is None  # RED: not the liaison's to read
    incidents.update_incident(node, ANALYST, hidden.id, {"tlp": "amber"})
    (match,) = screening.screen_notice(node, LIAISON, notice_id).incident_matches
    assert match.incident_id == hidden.id
    incidents.update_incident(node, ANALYST, hidden.id, {"origin_countries": ["RU"]})
    assert screening.screen_notice(node, LIAISON, notice_id).incident_matches == []
    assert node.screening_cache.persons.builds == 2


def test_threads_screening_at_once_share_one_build(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notice_id = _notice(node, RAKHIMOVA)
    with ThreadPoolExecutor(max_workers=4) as pool:
        sheets = list(pool.map(lambda _: screening.screen_notice(node, LIAISON, notice_id), range(8)))
    assert {tuple(_focal_points(sheet)) for sheet in sheets} == {("DE",)}
    assert node.screening_cache.builds == {"registry": 1, "persons": 1, "refusals": 1}


def test_no_lifetime_keeps_nothing(settings: Settings) -> None:
    node = Node.open(settings.model_copy(update={"screening_cache_minutes": 0}), default_taxonomy())
    try:
        registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
        notice_id = _notice(node, RAKHIMOVA)
        for _ in range(2):
            assert _focal_points(screening.screen_notice(node, LIAISON, notice_id)) == ["DE"]
        assert node.screening_cache.builds == {"registry": 2, "persons": 2, "refusals": 2}
        assert not node.screening_cache.registry.holding
    finally:
        node.close()


# -- one slot, without a database -------------------------------------------------------------------------------------


def test_a_kept_value_is_dropped_when_its_lifetime_ends_even_unused() -> None:
    slot: StampedSlot[str] = StampedSlot("test", lifetime=0.2)
    assert slot.get("s0", lambda: "built") == "built"
    assert slot.holding
    deadline = time.monotonic() + 5
    while slot.holding and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not slot.holding  # dropped by its timer, nobody asked
    assert slot.get("s0", lambda: "again") == "again"
    assert slot.builds == 2
    slot.clear()


def test_a_build_under_way_makes_callers_with_its_stamp_wait_and_callers_with_the_kept_stamp_not() -> None:
    slot: StampedSlot[str] = StampedSlot("test", lifetime=60)
    assert slot.get("s0", lambda: "old") == "old"
    release = threading.Event()
    started = threading.Event()

    def slow_build() -> str:
        started.set()
        assert release.wait(5)
        return "new"

    with ThreadPoolExecutor(max_workers=3) as pool:
        building = pool.submit(slot.get, "s1", slow_build)
        assert started.wait(5)
        waiting = pool.submit(slot.get, "s1", lambda: "a second build")
        # Whoever read the stamp the kept value was built under uses it at once, build or no build.
        assert slot.get("s0", lambda: "a build for s0") == "old"
        time.sleep(0.05)
        assert not waiting.done()
        release.set()
        assert (building.result(5), waiting.result(5)) == ("new", "new")
    assert slot.builds == 2
    assert slot.get("s0", lambda: "rebuilt for s0") == "rebuilt for s0"  # only one value is kept
    slot.clear()
    assert not slot.holding
