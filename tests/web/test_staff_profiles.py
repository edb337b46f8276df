"""The state pages: the index of origin states, one state's profile with its tables, charts and links, the empty
profile, 404 for a code that is no state, and another focal point's unshared incidents kept out. Both databases."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tnrwatch.services import accounts, actors, incidents, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

from ..factories import incident_data
from .test_case_pages import sign_in, words
from .test_incident_sharing_pages import make_analyst
from .test_staff_monitoring import chart_specs
from .test_staff_pages import OPERATOR, PASSWORD, TOTP_SECRETS, client, intake, settings

__all__ = ["client", "intake", "settings"]  # fixtures, used by name


def located(*countries: str) -> list[dict[str, str]]:
    return [{"country": country, "geo_precision": "country"} for country in countries]


def seed(node: Node) -> None:
    agency = actors.create_actor(
        node, OPERATOR, {"name": "State Security Service (test)", "actor_type": "intelligence_service", "country": "UZ"}
    )
    linked = [{"id": str(agency.id), "role": "perpetrator"}]
    for index, (host, role, target) in enumerate(
        [("TR", "cooperating", "religious"), ("TR", "complicit", "dissident"), ("DE", "protective", "dissident"),
         ("RU", "unknown", "journalist"), ("TR", "unknown", "dissident")]
    ):  # fmt: skip
        data = incident_data(
            title=f"Uzbek incident {index}",
            tlp="green",
            locations=located(host),
            host_state_role=role,
            target_categories=[target],
            date_start=f"2024-0{index + 1}-10",
            actors=linked if index < 3 else [],
        )
        incidents.create_incident(node, OPERATOR, data)
    incidents.create_incident(node, OPERATOR, incident_data(tlp="green", origin_countries=["CN"], title="Chinese one"))
    german = Principal(None, "olga", "officer", "DE")
    incidents.create_incident(
        node, german, incident_data(title="Germany's own Uzbek incident", locations=located("DE"))
    )


def test_the_index_lists_origin_states_with_their_counts(client: TestClient, node: Node) -> None:
    seed(node)
    make_analyst(node, "ana")
    sign_in(client, "ana")
    page = words(client, "/app/states")
    assert '<a href="/app/states/UZ">Uzbekistan</a>' in page
    assert re.search(r"Uzbekistan</a></th><td><code>UZ</code></td> <td class=\"staff-number\">5</td>", page)
    assert '<a href="/app/states/CN">China</a>' in page
    assert page.index("Uzbekistan") < page.index("China")  # most incidents first
    assert 'href="/app/states" aria-current="page"' in page


def test_a_profile_shows_every_part_with_its_numbers_and_links(client: TestClient, node: Node) -> None:
    seed(node)
    make_analyst(node, "ana")
    sign_in(client, "ana")
    response = client.get("/app/states/UZ")
    assert response.status_code == 200
    page = " ".join(response.text.split())
    assert "<strong>5</strong> incidents you may read name Uzbekistan" in page
    # Host countries, each linked to the map filtered by origin and host.
    assert '<a href="/app/map?origin=UZ&amp;host=TR">Türkiye</a></th> <td class="staff-number">3</td>' in page
    assert '<a href="/app/map?origin=UZ&amp;host=DE">Germany</a></th> <td class="staff-number">1</td>' in page
    # Host-state roles: 2 of the 3 known roles cooperated (cooperating or complicit); 2 unknown are left out.
    assert "cooperated in 67 percent</strong> of the incidents whose host-state role is known: 2 of 3." in page
    assert "The role is unknown in 2 incidents" in page
    # Target categories, linked actors and the latest incidents.
    assert '<th scope="row">Political dissident or opponent</th><td class="staff-number">3</td>' in page
    assert (
        'State Security Service (test)</th><td>Intelligence or security service</td><td class="staff-number">3</td>'
        in page
    )
    assert page.index("Uzbek incident 4") < page.index("Uzbek incident 0")
    assert re.search(r'<a href="/app/incidents/[0-9a-f-]{36}">Uzbek incident 4</a>', page)
    # Germany's officer keeps her incident to herself: nothing of it shows.
    assert "Germany's own" not in page
    # The charts, with the same numbers as the tables.
    specs = chart_specs(response.text)
    assert set(specs) == {"profile-timeline", "profile-hosts", "profile-targets"}
    hosts = next(iter(specs["profile-hosts"]["datasets"].values()))
    assert {row["value"]: row["count"] for row in hosts} == {"TR": 3, "DE": 1, "RU": 1}
    for chart in specs:
        assert f'id="{chart}"' in page


def test_an_empty_profile_says_so_and_a_code_that_is_no_state_is_404(client: TestClient, node: Node) -> None:
    seed(node)
    make_analyst(node, "ana")
    sign_in(client, "ana")
    empty = words(client, "/app/states/BY")
    assert "None of the incidents you may read names Belarus as their origin state." in empty
    assert "chart-specs" not in empty
    assert "vega" not in empty
    assert "Uzbekistan" in words(client, "/app/states/uz")
    for code in ("ZZ", "XYZ", "Uzbekistan"):
        response = client.get(f"/app/states/{code}")
        assert response.status_code == 404
        assert "no state has the code" in response.json()["error"]


def test_the_monitoring_and_states_links_are_in_the_bar_for_readers_only(client: TestClient, node: Node) -> None:
    make_analyst(node, "ana")
    sign_in(client, "ana")
    bar = words(client, "/app/reports")
    assert 'href="/app/monitoring"' in bar
    assert 'href="/app/states"' in bar
    accounts.add_account(node, OPERATOR, "audrey", "auditor")
    enrolment = staff_auth.set_password(node, OPERATOR, "audrey", PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS["audrey"] = enrolment.secret
    client.cookies.clear()
    sign_in(client, "audrey")
    bar = words(client, "/app/keys")
    assert 'href="/app/monitoring"' not in bar
    assert 'href="/app/states"' not in bar
    assert client.get("/app/states").status_code == 403
