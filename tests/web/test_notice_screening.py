"""The vetting sheet over HTTP, both databases: GET /api/v1/notices/{id}/screening for the liaison (others refused),
and the staff page /app/notices/{id} with the match explained, the Article 3 flags with their sources, the
recommendation, no registry name, and the decision form that records the decision (CSRF-checked, errors named)."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from tnrwatch.services import accounts, notices, registry, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from .test_api_notices import token_for
from .test_case_pages import form_token, sign_in, words
from .test_staff_pages import OPERATOR, PASSWORD, TOTP_SECRETS, client, settings

__all__ = ["client", "settings"]  # fixtures, used by name

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
OFFICER = Principal(None, "olga", "officer", "DE")
LIAISON = Principal(None, "lena", "liaison")


def _demo_notice(node: Node) -> str:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    interpol = json.loads((EXAMPLES / "red_notices.json").read_text())["_embedded"]["notices"][0]
    return str(notices.create_notice(node, LIAISON, interpol).id)


def make_liaison(node: Node, username: str) -> None:
    accounts.add_account(node, OPERATOR, username, "liaison")
    enrolment = staff_auth.set_password(node, OPERATOR, username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret


def test_the_screening_api_answers_the_liaison_only(client: TestClient, node: Node) -> None:
    notice_id = _demo_notice(node)
    liaison = token_for(node, "lena", "liaison")
    answer = client.get(f"/api/v1/notices/{notice_id}/screening", headers=liaison)
    assert answer.status_code == 200, answer.text
    sheet = answer.json()
    assert [m["category"] for m in sheet["registry_matches"]] == ["hrd"]
    assert sheet["registry_matches"][0]["explanation"][0]["name"] == "name"
    assert "charge_extremism" in {flag["id"] for flag in sheet["red_flags"]}
    assert sheet["recommended_action"] == "do_not_act_pending_review"
    assert "Дильноза" not in answer.text
    analyst = token_for(node, "ana", "analyst")
    assert client.get(f"/api/v1/notices/{notice_id}/screening", headers=analyst).status_code == 403
    missing = client.get("/api/v1/notices/00000000-0000-0000-0000-000000000000/screening", headers=liaison)
    assert missing.status_code == 404


def test_the_vetting_sheet_page_and_the_decision(client: TestClient, node: Node) -> None:
    notice_id = _demo_notice(node)
    make_liaison(node, "lena")
    sign_in(client, "lena")
    path = f"/app/notices/{notice_id}"
    text = words(client, path)
    assert "Recommended action: Do not act pending review" in text
    assert "Charge of extremism" in text
    assert "Article 3" in text
    assert "focal point DE" in text
    assert "name</strong> agrees" in text
    assert "RAKHIMOVA" in text  # the subject of the notice, which the liaison reads
    assert "Дильноза" not in text
    assert "Rahimova" not in text

    token = form_token(client, path)
    refused = client.post(f"{path}/decision", data={"csrf_token": token, "decision": "maybe", "reasons": ""})
    assert refused.status_code == 422
    assert "Decision:" in refused.text
    assert "Reasons:" in refused.text
    no_csrf = client.post(f"{path}/decision", data={"decision": "do_not_act", "reasons": "Article 3"})
    assert no_csrf.status_code in (400, 403)
    decided = client.post(
        f"{path}/decision",
        data={"csrf_token": token, "decision": "do_not_act", "reasons": "Article 3: political charge."},
        follow_redirects=False,
    )
    assert decided.status_code == 303
    assert "Decided <strong>Do not act</strong>" in words(client, path)
