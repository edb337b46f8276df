"""The keyed blind index on the node's side: the issue's demo (a partner's query for "RAKHIMOVA Dilnoza" 1988 UZ
finds the registry's "Дильноза Рахимова" and is told the focal point), no match for an unrelated name, a common
surname alone or another key, the index rebuilt when the registry changes, one answer shape whatever matched, the
per-partner budget, and audit entries that hold counts only. Both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tnrwatch.crypto import blind_index as keys
from tnrwatch.crypto.blind_index import ScreeningKey
from tnrwatch.domain.sharing import PartnerView
from tnrwatch.errors import ConflictError, InvalidInputError, TooManyRequestsError
from tnrwatch.services import blind_index, partners, registry
from tnrwatch.services.blind_index import ScreeningDesk, subject_digests
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import AuditEntry
from tnrwatch.taxonomy import default_taxonomy

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
OPERATOR = Principal.operator()
OFFICER = Principal(account_id=None, username="off", role="officer", jurisdiction="DE")
FR_NODE = PartnerView(name="fr-node", clearance="amber", client=False)
NGO = PartnerView(name="ngo-green", clearance="green", client=False)


@pytest.fixture
def shared_key(node: Node) -> ScreeningKey:
    """The demo registry, two partners, and the key the node exported to fr-node as fr-node reads it."""
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    partners.add_partner(node, OPERATOR, "fr-node", "amber")
    partners.add_partner(node, OPERATOR, "ngo-green", "green")
    return keys.parse_export(blind_index.export_key(node, OPERATOR, "fr-node"))


def ask(desk: ScreeningDesk, key: ScreeningKey, names: list[str], year: int | None, nations: list[str]) -> str:
    digests = subject_digests(key, names, year, nations)
    return desk.query(FR_NODE, key.key_id, digests).sentence()


def test_the_demo_query_finds_the_protected_person_in_another_script(node: Node, shared_key: ScreeningKey) -> None:
    desk = ScreeningDesk(node)
    answer = desk.query(FR_NODE, shared_key.key_id, subject_digests(shared_key, ["RAKHIMOVA Dilnoza"], 1988, ["UZ"]))
    assert answer.possible_match
    assert answer.contact == "DE"
    assert answer.as_json() == {"answer": "possible match", "contact": "DE", "contact_name": answer.contact_name}
    assert answer.contact_name
    # The birth year alone (one year off), without the nationality, is enough too; so is the nationality alone.
    assert ask(desk, shared_key, ["Dilnoza Rakhimova"], 1987, []).startswith("possible match: contact focal point DE")
    assert ask(desk, shared_key, ["Arash Karimi"], 1979, []).startswith("possible match: contact focal point FR")


def test_no_match_for_another_person_a_common_surname_or_a_wrong_key(node: Node, shared_key: ScreeningKey) -> None:
    desk = ScreeningDesk(node)
    assert ask(desk, shared_key, ["Olivier Dupont"], 1988, ["FR"]) == "no match"
    # The same surname, birth year and nationality, another forename: still no match.
    assert ask(desk, shared_key, ["Gulnara Rakhimova"], 1986, ["UZ"]) == "no match"
    # The right full name, but neither its birth year nor its nationality.
    assert ask(desk, shared_key, ["Dilnoza Rakhimova"], 1960, ["KZ"]) == "no match"
    # A hostile partner sending the surname's year and nationality hashes by hand: no name pair, no match.
    surname_only = [shared_key.digest(k).hex() for k in ("py:rhmf:1986", "pn:rhmf:UZ", "p:rhmf", "n:rahimova")]
    assert desk.query(FR_NODE, shared_key.key_id, surname_only).possible_match is False
    # The demo subject hashed under another key, sent with this node's key id.
    wrong = ScreeningKey(b"\x09" * 32)
    assert desk.query(FR_NODE, shared_key.key_id, subject_digests(wrong, ["RAKHIMOVA Dilnoza"], 1988, ["UZ"])) == (
        blind_index.ScreeningAnswer(False)
    )
    with pytest.raises(ConflictError, match="no screening key"):
        desk.query(FR_NODE, wrong.key_id, subject_digests(wrong, ["RAKHIMOVA Dilnoza"], 1988, ["UZ"]))


def test_a_query_the_rule_could_never_match_is_refused_with_its_fields(node: Node, shared_key: ScreeningKey) -> None:
    with pytest.raises(InvalidInputError) as caught:
        subject_digests(shared_key, ["Rakhimova"], 1988, ["UZ"])
    assert [error.where() for error in caught.value.errors] == ["name"]
    with pytest.raises(InvalidInputError) as caught:
        subject_digests(shared_key, [" "], 1850, ["Uzbek"])
    assert {error.where() for error in caught.value.errors} == {"name", "birth", "nationality.0"}
    with pytest.raises(InvalidInputError) as caught:
        ScreeningDesk(node).query(FR_NODE, shared_key.key_id, ["zz" * 32, "ab"])
    assert {error.where() for error in caught.value.errors} == {"digests.0", "digests.1"}


def test_the_index_follows_the_registry_and_each_build_is_audited(node: Node, shared_key: ScreeningKey) -> None:
    desk = ScreeningDesk(node)
    assert ask(desk, shared_key, ["Nodira Yusupova"], 1992, ["UZ"]) == "no match"
    registry.add_entry(
        node,
        OFFICER,
        {"full_name": "Нодира Юсупова", "date_of_birth": "1992", "nationalities": ["UZ"], "category": "journalist",
         "origin_state": "UZ", "focal_point": "FR"},
    )  # fmt: skip
    assert ask(desk, shared_key, ["Nodira Yusupova"], 1992, ["UZ"]).startswith("possible match: contact focal point FR")
    with node.store.reading() as session:
        builds = session.scalars(select(AuditEntry.count).where(AuditEntry.action == "build")).all()
    assert builds == [6, 7]


def test_rotation_keeps_the_old_key_until_it_is_retired(node: Node, shared_key: ScreeningKey) -> None:
    desk = ScreeningDesk(node)
    newer = keys.parse_export(blind_index.export_key(node, OPERATOR, "fr-node"))
    assert newer == shared_key  # exporting again hands out the same current key
    blind_index.new_key(node, OPERATOR)
    newer = keys.parse_export(blind_index.export_key(node, OPERATOR, "fr-node"))
    assert newer != shared_key
    for key in (shared_key, newer):
        assert ask(desk, key, ["RAKHIMOVA Dilnoza"], 1988, ["UZ"]).startswith("possible match")
    blind_index.retire_key(node, OPERATOR, shared_key.key_id)
    with pytest.raises(ConflictError):
        ask(desk, shared_key, ["RAKHIMOVA Dilnoza"], 1988, ["UZ"])


@pytest.fixture
def strict_node(settings: Settings) -> Iterator[Node]:
    opened = Node.open(settings.model_copy(update={"screening_queries_per_hour": 3}), default_taxonomy())
    yield opened
    opened.close()


def test_each_partner_has_its_own_budget_and_the_audit_holds_counts_only(strict_node: Node) -> None:
    registry.import_registry(strict_node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    partners.add_partner(strict_node, OPERATOR, "fr-node", "amber")
    key = keys.parse_export(blind_index.export_key(strict_node, OPERATOR, "fr-node"))
    desk = ScreeningDesk(strict_node)
    digests = subject_digests(key, ["RAKHIMOVA Dilnoza"], 1988, ["UZ"])
    for _ in range(3):
        assert desk.query(FR_NODE, key.key_id, digests).possible_match
    with pytest.raises(TooManyRequestsError):
        desk.query(FR_NODE, key.key_id, digests)
    assert desk.query(NGO, key.key_id, digests).possible_match  # another partner's budget
    with strict_node.store.reading() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "screen")).all()
    assert [(entry.username, entry.count) for entry in entries] == [("partner:fr-node", len(digests))] * 3 + [
        ("partner:ngo-green", len(digests))
    ]
    assert entries[0].note == f"key {key.key_id}: possible match"
    written = " ".join(f"{entry.note} {entry.fields}" for entry in entries)
    assert not any(digest[:16] in written for digest in digests)
