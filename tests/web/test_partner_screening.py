"""POST /partner/v1/screening on a real server on loopback: a partner token is required (Bearer; never a staff
session), the answer is one bit and a contact, bad bodies name their fields, an unknown key is refused, and the
partner's budget answers 429 with Retry-After. Both databases."""

from __future__ import annotations

from pathlib import Path

import requests

from tnrwatch.crypto import blind_index as keys
from tnrwatch.services import blind_index, partners, registry
from tnrwatch.services.blind_index import subject_digests
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.taxonomy import default_taxonomy
from tnrwatch.web.app import create_app

from .conftest import serving

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
OPERATOR = Principal.operator()
OFFICER = Principal(account_id=None, username="off", role="officer", jurisdiction="DE")


def test_the_screening_endpoint(settings: Settings) -> None:
    node = Node.open(settings.model_copy(update={"screening_queries_per_hour": 3}), default_taxonomy())
    try:
        registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
        partners.add_partner(node, OPERATOR, "fr-node", "amber")
        token = partners.create_token(node, OPERATOR, "fr-node").token
        key = keys.parse_export(blind_index.export_key(node, OPERATOR, "fr-node"))
        match = {"key_id": key.key_id, "digests": subject_digests(key, ["RAKHIMOVA Dilnoza"], 1988, ["UZ"])}
        other = {"key_id": key.key_id, "digests": subject_digests(key, ["Olivier Dupont"], 1970, ["FR"])}
        bearer = {"Authorization": f"Bearer {token}"}
        with serving(create_app(node.settings, node)) as base:
            url = f"{base}/partner/v1/screening"
            for headers in ({}, {"Authorization": "Bearer tnrp_nonsense"}, {"Authorization": f"Basic {token}"}):
                refused = requests.post(url, json=match, headers=headers, timeout=10)
                assert refused.status_code == 401
                assert refused.headers["WWW-Authenticate"].startswith("Bearer")
                assert refused.json()["ok"] is False
            found = requests.post(url, json=match, headers=bearer, timeout=10)
            assert found.status_code == 200, found.text
            assert found.json()["answer"] == "possible match"
            assert found.json()["contact"] == "DE"
            assert found.headers["Cache-Control"] == "no-store"
            assert requests.post(url, json=other, headers=bearer, timeout=10).json() == {"answer": "no match"}

            bad = requests.post(url, json={"key_id": "XYZ", "digests": [], "names": ["x"]}, headers=bearer, timeout=10)
            assert bad.status_code == 422
            assert {tuple(error["loc"][-1:]) for error in bad.json()["errors"]} >= {
                ("key_id",),
                ("digests",),
                ("names",),
            }
            unknown = requests.post(url, json={**match, "key_id": "0" * 16}, headers=bearer, timeout=10)
            assert unknown.status_code == 409

            assert requests.post(url, json=other, headers=bearer, timeout=10).status_code == 200  # the 3rd
            limited = requests.post(url, json=match, headers=bearer, timeout=10)
            assert limited.status_code == 429
            assert limited.headers["Retry-After"] == "3600"
            assert "possible" not in limited.text
            # A staff API route does not take a partner token.
            assert requests.get(f"{base}/api/v1/incidents", headers=bearer, timeout=10).status_code == 401
    finally:
        node.close()
