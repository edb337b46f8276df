"""The TAXII 2.1 server under /taxii2/, with the OASIS client taxii2-client as a real peer against uvicorn on a
loopback port: discovery, the API root, collections per partner, paging through objects with limit and next,
objects by id, versions, the manifest, adding objects and reading their status. Then the edges taxii2-client does
not show: authentication (Bearer and Basic, 401 in TAXII's error shape), media types (406, 415), body size (413),
a tampered cursor (400), the Date-Added headers, and that no TAXII route answers without a partner token. Both
databases."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from fastapi import FastAPI
from fastapi.routing import APIRoute
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from tnrwatch.domain.sharing import LOCAL
from tnrwatch.interop.stix import tlp_marking_id
from tnrwatch.services import accounts, partners, taxii
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.taxonomy import default_taxonomy
from tnrwatch.web.app import create_app
from tnrwatch.web.taxii.server import TAXII_MEDIA_TYPE, create_taxii_app

from .conftest import serving

OPERATOR = Principal.operator()
BASE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def stix_object(n: int, *, tlp: str = "green", version: int = 0, stix_type: str = "threat-actor") -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{uuid.UUID(int=n + 1, version=4)}",
        "created": "2026-11-01T00:00:00.000Z",
        "modified": (BASE + dt.timedelta(days=version)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "name": f"actor {n}",
        "object_marking_refs": [tlp_marking_id(tlp, default_taxonomy())],
    }


@dataclass
class Peer:
    url: str  # the discovery URL
    tokens: dict[str, str]
    community: list[dict[str, Any]]
    amber: list[dict[str, Any]]

    def server(self, name: str) -> Server:
        return Server(self.url, user=name, password=self.tokens[name])

    def api_root(self, name: str) -> ApiRoot:
        roots = self.server(name).api_roots
        assert len(roots) == 1
        return roots[0]

    def collection(self, name: str, title: str) -> Collection:
        return next(c for c in self.api_root(name).collections if c.title == title)

    def get(self, path: str, name: str = "fr-node", **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[name]}", "Accept": TAXII_MEDIA_TYPE}
        headers.update(kwargs.pop("headers", {}))
        return requests.get(self.url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture
def peer(settings: Settings, node: Node) -> Iterator[Peer]:
    tokens = {}
    for name, clearance, client in (("fr-node", "amber", True), ("ngo", "green", False)):
        partners.add_partner(node, OPERATOR, name, clearance, client=client)
        tokens[name] = partners.create_token(node, OPERATOR, name).token
    community = [stix_object(n) for n in range(7)]
    amber = [stix_object(100 + n, tlp="amber") for n in range(2)]
    with node.store.writing() as session:
        taxii.add_objects(session, "community", community, "green", LOCAL)
        taxii.add_objects(session, "partner:fr-node", amber, "amber", LOCAL)
        taxii.add_objects(session, "partner:fr-node", [stix_object(100, tlp="amber", version=1)], "amber", LOCAL)
    settings = settings.model_copy(update={"taxii_max_content_mb": 1})
    with serving(create_app(settings, Node(settings, node.store, node.taxonomy))) as url:
        yield Peer(f"{url}/taxii2/", tokens, community, amber)


def test_discovery_api_root_and_collections_per_partner(peer: Peer, node: Node) -> None:
    server = peer.server("fr-node")
    assert server.title == f"{node.settings.node_name} (tnrwatch)"
    assert [root.url for root in server.api_roots] == [peer.url + "api/"]
    assert server.default.url == peer.url + "api/"
    root = peer.api_root("fr-node")
    assert root.versions == [TAXII_MEDIA_TYPE]
    assert root.max_content_length == 1024 * 1024
    assert [(c.title, c.can_read, c.can_write) for c in root.collections] == [
        ("Community", True, False),
        ("For fr-node", True, False),
        ("Inbox", False, True),
    ]
    assert [c.title for c in peer.api_root("ngo").collections] == ["Community", "For ngo", "Inbox"]
    own = next(c for c in root.collections if c.title == "For fr-node")
    assert own.id == taxii.collection_id(node.settings.node_name, "partner:fr-node")
    assert own.media_types == ["application/stix+json;version=2.1"]
    # ngo cannot open fr-node's collection, even knowing its id
    response = peer.get(f"api/collections/{own.id}/objects/", name="ngo")
    assert response.status_code == 404
    assert response.json()["http_status"] == "404"


def test_paging_through_a_collection_with_limit_and_next(peer: Peer) -> None:
    community = peer.collection("ngo", "Community")
    pages = list(as_pages(community.get_objects, per_request=3))
    assert [len(page.get("objects", [])) for page in pages] == [3, 3, 1]
    assert [page["more"] for page in pages] == [True, True, False]
    assert [obj["id"] for page in pages for obj in page["objects"]] == [obj["id"] for obj in peer.community]
    assert pages[0]["objects"][0] == peer.community[0]  # served as stored

    filtered = list(as_pages(community.get_objects, per_request=2, type="threat-actor", id=peer.community[3]["id"]))
    assert [obj["id"] for page in filtered for obj in page["objects"]] == [peer.community[3]["id"]]


def test_date_added_headers_and_added_after(peer: Peer) -> None:
    community = peer.collection("ngo", "Community")
    response = peer.get(f"api/collections/{community.id}/objects/", name="ngo", params={"limit": "2"})
    assert response.status_code == 200
    assert response.headers["content-type"] == TAXII_MEDIA_TYPE
    first, last = response.headers["X-TAXII-Date-Added-First"], response.headers["X-TAXII-Date-Added-Last"]
    assert first < last
    after = community.get_objects(added_after=last)
    assert [obj["id"] for obj in after["objects"]] == [obj["id"] for obj in peer.community[2:]]
    assert community.get_objects(added_after="2999-01-01T00:00:00Z") == {"more": False}


def test_object_versions_and_manifest(peer: Peer) -> None:
    own = peer.collection("fr-node", "For fr-node")
    target = peer.amber[0]["id"]
    assert [obj["modified"] for obj in own.get_object(target)["objects"]] == ["2026-11-02T00:00:00.000Z"]
    assert len(own.get_object(target, version="all")["objects"]) == 2
    assert own.object_versions(target)["versions"] == ["2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z"]
    manifest = own.get_manifest()
    assert [(entry["id"], entry["version"]) for entry in manifest["objects"]] == [
        (peer.amber[1]["id"], "2026-11-01T00:00:00.000Z"),
        (target, "2026-11-02T00:00:00.000Z"),
    ]
    assert {entry["media_type"] for entry in manifest["objects"]} == {"application/stix+json;version=2.1"}
    missing = peer.get(f"api/collections/{own.id}/objects/threat-actor--{uuid.uuid4()}/")
    assert missing.status_code == 404
    assert set(missing.json()) == {"title", "description", "http_status"}
    # the community's GREEN-only partner never reads fr-node's AMBER objects, whatever it asks
    assert all(
        obj["id"] not in {o["id"] for o in peer.amber}
        for obj in peer.collection("ngo", "Community").get_objects()["objects"]
    )


def test_adding_objects_and_reading_the_status(peer: Peer) -> None:
    inbox = peer.collection("fr-node", "Inbox")
    sent = [stix_object(500, tlp="green"), {"type": "threat-actor", "id": "nonsense"}]
    status = inbox.add_objects({"objects": sent})
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (2, 1, 1)
    assert status.successes[0]["id"] == sent[0]["id"]
    assert "`id`" in status.failures[0]["message"]
    again = peer.api_root("fr-node").get_status(status.id)
    assert again.success_count == 1
    status.refresh()  # the URL taxii2-client builds itself
    assert status.success_count == 1
    assert peer.get(f"api/status/{status.id}/", name="ngo").status_code == 404  # another partner's status
    # what fr-node sent at GREEN reaches the community for ngo, never back to fr-node
    assert sent[0]["id"] in {obj["id"] for obj in peer.collection("ngo", "Community").get_objects()["objects"]}
    assert sent[0]["id"] not in {obj["id"] for obj in peer.collection("fr-node", "Community").get_objects()["objects"]}


def test_authentication_bearer_basic_and_401_in_taxii_shape(peer: Peer, node: Node) -> None:
    bare = requests.get(peer.url, headers={"Accept": TAXII_MEDIA_TYPE}, timeout=10)
    assert bare.status_code == 401
    assert bare.headers["content-type"] == TAXII_MEDIA_TYPE
    assert "Bearer" in bare.headers["www-authenticate"]
    assert bare.json()["http_status"] == "401"
    assert peer.get("").status_code == 200  # Bearer
    basic = base64.b64encode(f"ngo:{peer.tokens['fr-node']}".encode()).decode()
    assert peer.get("", headers={"Authorization": f"Basic {basic}"}).status_code == 401  # another partner's name
    accounts.add_account(node, OPERATOR, "ana", "analyst")
    staff_token = accounts.create_token(node, OPERATOR, "ana").token
    assert peer.get("", headers={"Authorization": f"Bearer {staff_token}"}).status_code == 401  # staff tokens: no
    assert "set-cookie" not in peer.get("").headers
    partners.revoke_tokens(node, OPERATOR, "ngo")
    assert peer.get("", name="ngo").status_code == 401


def test_media_types_sizes_and_a_tampered_cursor(peer: Peer) -> None:
    community = peer.collection("ngo", "Community")
    inbox = peer.collection("fr-node", "Inbox")
    assert peer.get("api/", headers={"Accept": "application/json"}).status_code == 406
    assert peer.get("api/", headers={"Accept": "application/taxii+json;version=2.0"}).status_code == 406
    assert peer.get("api/", headers={"Accept": "application/taxii+json"}).status_code == 200
    assert peer.get("api/", headers={"Accept": "*/*"}).status_code == 200
    objects_url = f"{peer.url}api/collections/{inbox.id}/objects/"
    auth = {"Authorization": f"Bearer {peer.tokens['fr-node']}", "Accept": TAXII_MEDIA_TYPE}
    body = b'{"objects": []}'
    wrong_type = requests.post(objects_url, data=body, headers={**auth, "Content-Type": "application/json"}, timeout=10)
    assert wrong_type.status_code == 415
    stix_type = {**auth, "Content-Type": "application/stix+json;version=2.1"}
    assert requests.post(objects_url, data=body, headers=stix_type, timeout=10).status_code == 202
    too_big = b'{"objects": [' + b" " * (1024 * 1024) + b"]}"
    taxii_type = {**auth, "Content-Type": TAXII_MEDIA_TYPE}
    assert requests.post(objects_url, data=too_big, headers=taxii_type, timeout=10).status_code == 413
    not_json = requests.post(objects_url, data=b"{", headers=taxii_type, timeout=10)
    assert not_json.status_code == 400
    community_objects = f"{peer.url}api/collections/{community.id}/objects/"
    read_only = requests.post(community_objects, data=body, headers=taxii_type, timeout=10)
    assert read_only.status_code == 403

    first = peer.get(f"api/collections/{community.id}/objects/", name="ngo", params={"limit": "2"}).json()
    tampered = first["next"][:-2] + ("AA" if not first["next"].endswith("AA") else "BB")
    refused = peer.get(f"api/collections/{community.id}/objects/", name="ngo", params={"limit": "2", "next": tampered})
    assert refused.status_code == 400
    assert refused.json()["details"]["errors"][0]["loc"] == ["next"]
    stolen = peer.get(f"api/collections/{community.id}/objects/", params={"limit": "2", "next": first["next"]})
    assert stolen.status_code == 400  # fr-node cannot continue ngo's page
    bad_filter = peer.get(f"api/collections/{community.id}/objects/", params={"match[colour]": "red"})
    assert bad_filter.status_code == 400
    assert "match[colour]" in str(bad_filter.json()["details"])


def test_every_taxii_route_refuses_a_request_without_a_partner_token(peer: Peer) -> None:
    app = create_taxii_app(lambda: pytest.fail("the node is never reached without a token"))
    routes = [route for route in app.routes if isinstance(route, APIRoute)]
    assert len(routes) == 10
    collection_id = str(uuid.uuid4())
    for route in routes:
        path = route.path.format(
            collection_id=collection_id, object_id=f"indicator--{uuid.uuid4()}", status_id=str(uuid.uuid4())
        )
        for method in route.methods - {"HEAD"}:
            response = requests.request(
                method, peer.url + path.lstrip("/"), headers={"Accept": TAXII_MEDIA_TYPE}, timeout=10
            )
            assert response.status_code == 401, (method, route.path)
            assert response.json()["http_status"] == "401"


def test_the_taxii_zone_is_mounted_apart_from_the_api(settings: Settings, node: Node) -> None:
    app: FastAPI = create_app(settings, node)
    assert "/taxii2" in [getattr(route, "path", "") for route in app.routes]
