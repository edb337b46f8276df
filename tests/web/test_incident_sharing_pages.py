"""The staff incident page: who owns an incident, sharing it with the EU level by form, and focal points kept apart
(another Member State's officer and the EU analyst get 404 until, and as far as, the marking and sharing allow).
Both databases."""

from __future__ import annotations

import httpx2 as httpx
from fastapi.testclient import TestClient

from tnrwatch.services import accounts, incidents, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data
from .test_case_pages import form_token, sign_in, words
from .test_staff_pages import OPERATOR, PASSWORD, TOTP_SECRETS, client, intake, make_officer, settings

__all__ = ["client", "intake", "settings"]  # fixtures, used by name


def make_analyst(node: Node, username: str) -> None:
    accounts.add_account(node, OPERATOR, username, "analyst")
    enrolment = staff_auth.set_password(node, OPERATOR, username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret


def test_an_owner_shares_an_incident_and_others_see_only_what_that_allows(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    make_analyst(node, "ana")
    german = Principal(None, "olga", "officer", "DE")
    incident = incidents.create_incident(node, german, incident_data(tlp="green", title="Threats in Berlin"))
    path = f"/app/incidents/{incident.id}"
    sessions = {}  # each signs in once (a TOTP code is good once): keep their cookies to switch between them
    for username in ("olga", "fabien", "ana"):
        client.cookies.clear()
        sign_in(client, username)
        sessions[username] = httpx.Cookies(client.cookies)

    def as_(username: str) -> None:
        client.cookies = sessions[username]

    as_("fabien")
    assert client.get(path).status_code == 404
    as_("ana")
    assert client.get(path).status_code == 404

    as_("olga")
    page = words(client, path)
    assert "Owner</dt><dd>DE" in page
    assert "Not shared: only DE's staff read it." in page
    shared = client.post(
        f"{path}/sharing",
        data={"csrf_token": form_token(client, path), "shared_with_eu": "yes"},
        follow_redirects=False,
    )
    assert shared.status_code == 303
    assert "Shared with the EU level" in words(client, path)
    refused = client.post(f"{path}/sharing", data={"csrf_token": form_token(client, path), "shared_with_eu": "maybe"})
    assert refused.status_code == 422
    assert "answer yes or no" in refused.text

    as_("ana")
    page = words(client, path)
    assert "Threats in Berlin" in page
    assert "Stop sharing" not in page  # the EU level reads it, only DE changes its sharing
    as_("fabien")
    assert "Threats in Berlin" in words(client, path)  # GREEN and shared: the community reads it
    forged = client.post(
        f"{path}/sharing", data={"csrf_token": form_token(client, path), "shared_with_eu": "no"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert incidents.ownership(node, german, incident.id).shared_with_eu
