"""Issue 7's "done when", on the demo: the seeded demo's liaison enters the red notice for "RAKHIMOVA Dilnoza", whom
the demo registry holds in Cyrillic; the vetting sheet shows the match with its explanation, the Article 3 flag for
the extremism charge and an action other than "proceed"; the demo partner de-bka-demo, with the key and token the
demo keeps for it, asks the real POST /partner/v1/screening and learns "possible match, contact DE" (and "no match"
for someone else), never a registry name. Seeding twice changes nothing. Both databases."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from tnrwatch.cli.main import app as cli
from tnrwatch.crypto import blind_index as keys
from tnrwatch.errors import ConflictError, NotFoundError
from tnrwatch.services import blind_index, demo, demo_notices, notices, partners, registry, screening
from tnrwatch.services.demo_notices import DEMO_NOTICE, DEMO_QUERIES, DemoQuery, DemoScreening
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import Account, AuditEntry, Notice, Partner, PartnerToken, ProtectedPerson
from tnrwatch.web.app import create_app

OPERATOR = Principal.operator()
EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
REGISTRY_NAMES = ("Дильноза", "Рахимова", "Rahimova")  # how the registry writes the demo case; never shown


def seed(node: Node) -> DemoScreening:
    """What `make demo` does for notices: incidents, the registry and notices, the staff, the screening partner."""
    demo.seed_demo(node, OPERATOR, 120, seed=1, if_empty=True)
    demo_notices.seed_notices(node, OPERATOR)
    demo.demo_staff(node, OPERATOR)
    return demo_notices.demo_screening(node, OPERATOR)


def staff(node: Node, username: str) -> Principal:
    with node.store.reading() as session:
        account = session.scalar(select(Account).where(Account.username == username))
    assert account is not None
    return Principal(account.id, account.username, account.role, account.jurisdiction_code)


def partner_body(key_file: Path, query: DemoQuery) -> dict[str, Any]:
    """What the partner sends, made by `tnrwatch screening digests` from its copy of the key."""
    result = CliRunner().invoke(cli, ["screening", "digests", "--key-file", str(key_file), *query.options()])
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_the_liaison_vets_the_demo_red_notice_and_the_partner_learns_only_a_possible_match(node: Node) -> None:
    partner = seed(node)
    liaison = staff(node, "liaison.de")
    assert liaison.role == "liaison"

    entered = notices.create_notice(node, liaison, DEMO_NOTICE)  # as the form or the API posts it
    sheet = screening.screen_notice(node, liaison, entered.id)

    (match,) = sheet.registry_matches
    with node.store.reading() as session:  # the entry matched is the one the registry holds in Cyrillic
        (entry,) = [e for e in registry.open_registry(node, session) if e.pseudonym == match.pseudonym]
    assert entry.identity.full_name == "Дильноза Рахимова"
    assert (match.category, match.origin_state, match.focal_point) == ("hrd", "UZ", "DE")
    assert match.score >= sheet.match_threshold
    explanation = {feature.name: feature for feature in match.explanation}
    assert explanation["name"].outcome == "agrees"
    assert explanation["date_of_birth"].outcome == "agrees"
    assert explanation["name"].weight > 0

    flags = {flag.id: flag for flag in sheet.red_flags}
    assert "charge_extremism" in flags
    assert any("Article 3" in source.title for source in flags["charge_extremism"].sources)
    assert any("extremis" in line for line in flags["charge_extremism"].evidence)
    assert sheet.recommended_action != "proceed"
    assert sheet.recommended_action == "do_not_act_pending_review"
    assert not any(name in sheet.model_dump_json() for name in REGISTRY_NAMES)

    found, unrelated = DEMO_QUERIES
    with TestClient(create_app(node.settings, node)) as client:
        answers = []
        for query in (found, unrelated):
            body = partner_body(partner.key_file, query)
            assert query.name.split()[0] not in json.dumps(body)  # HMACs only leave the partner
            response = client.post(
                "/partner/v1/screening", json=body, headers={"Authorization": f"Bearer {partner.token}"}
            )
            assert response.status_code == 200, response.text
            assert not any(name in response.text for name in REGISTRY_NAMES)
            answers.append(response.json())
    assert answers[0]["answer"] == "possible match"
    assert answers[0]["contact"] == "DE"
    assert set(answers[0]) == {"answer", "contact", "contact_name"}
    assert answers[1] == {"answer": "no match"}


def test_the_walkthrough_reference_is_free_and_a_reference_already_here_is_a_conflict(node: Node) -> None:
    seed(node)
    liaison = staff(node, "liaison.de")
    imported = {n.interpol_reference for n in notices.list_notices(node, liaison)}
    assert "2025/31842" in imported  # the example red notice of the same person
    assert DEMO_NOTICE["interpol_reference"] not in imported
    with pytest.raises(ConflictError, match="2025/31842"):
        notices.create_notice(node, liaison, {**DEMO_NOTICE, "interpol_reference": "2025/31842"})
    notices.create_notice(node, liaison, DEMO_NOTICE)
    with pytest.raises(ConflictError):  # entering it twice
        notices.create_notice(node, liaison, DEMO_NOTICE)


def _state(node: Node) -> dict[str, int]:
    with node.store.reading() as session:
        counts = {
            table.__name__: session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Notice, ProtectedPerson, Partner, PartnerToken, Account, AuditEntry)
        }
    counts["screening keys"] = len(keys.node_keys(node.settings.resolved_key_dir))
    return counts


def test_seeding_twice_changes_nothing(node: Node) -> None:
    assert demo_notices.seed_notices(node, OPERATOR) == demo_notices.NoticesSeed(registry_added=6, notices_added=6)
    first = seed(node)
    before = _state(node)
    assert before["Notice"] == 6
    assert before["ProtectedPerson"] == 6
    assert before["screening keys"] == 1
    with node.store.reading() as session:
        assert session.scalar(select(func.count()).where(Notice.synthetic.is_(False))) == 0
        assert session.scalar(select(func.count()).where(ProtectedPerson.synthetic.is_(False))) == 0

    assert demo_notices.seed_notices(node, OPERATOR) == demo_notices.NoticesSeed(registry_added=0, notices_added=0)
    again = seed(node)
    assert again == first  # the same token and key file, still working
    assert _state(node) == before


def test_examples_imported_by_hand_are_not_loaded_twice(node: Node) -> None:
    notices.import_notices(node, OPERATOR, EXAMPLES / "red_notices.json", synthetic=True)
    loaded = demo_notices.seed_notices(node, OPERATOR)
    # The three red notices are already here under their references; the CSV's requests carry none.
    assert loaded == demo_notices.NoticesSeed(registry_added=6, notices_added=3)


def test_a_revoked_token_or_a_retired_key_is_replaced(node: Node) -> None:
    first = seed(node)
    partners.revoke_tokens(node, OPERATOR, first.partner)
    blind_index.new_key(node, OPERATOR)
    blind_index.retire_key(node, OPERATOR, first.key_id)
    second = demo_notices.demo_screening(node, OPERATOR)
    assert second.token != first.token
    assert partners.authenticate(node, second.token) is not None
    assert second.key_id != first.key_id
    assert keys.parse_export(second.key_file.read_text()).key_id == second.key_id
    assert second.key_file.stat().st_mode & 0o077 == 0


def test_without_the_examples_nothing_is_loaded(node: Node, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no demo registry"):
        demo_notices.seed_notices(node, OPERATOR, tmp_path)
    assert _state(node)["Notice"] == 0
