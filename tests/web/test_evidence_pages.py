"""The evidence API of the case page, on both databases: registering a report's file, uploading an encrypted
screenshot, handing it out and recording the view, transfers, the custody log in the listing, CSRF on every write,
the size limit, bad input named, and another Member State's officer answered as if nothing existed."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tnrwatch.crypto import envelope
from tnrwatch.services.node import Node
from tnrwatch.services.reports import Intake
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from .test_staff_pages import SentReport, csrf_of, intake, make_officer, submit_report
from .test_staff_pages import sign_in as staff_sign_in

__all__ = ["intake"]  # fixtures, used by name

PHOTO = b"a photo of the men outside the flat " * 50
SHOT = b"\x89PNG a screenshot of the threatening message " * 40


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        sqlite_synchronous="NORMAL",
        report_pow_bits=0,
        key_wrap_strength="interactive",
        max_evidence_mb=1,
    )


@pytest.fixture
def client(settings: Settings, node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(settings, node), base_url="https://testserver") as test_client:
        yield test_client


def signed_in(client: TestClient, username: str, report: SentReport) -> dict[str, str]:
    client.cookies.clear()
    assert staff_sign_in(client, username).status_code == 303
    return {"X-CSRF-Token": csrf_of(client.get(f"/app/reports/{report.id}"))}


def meta(report: SentReport, item_id: uuid.UUID) -> str:
    sealed = envelope.encrypt_document(
        {"v": 1, "label": "screenshot"}, report.key, envelope.context("evidence-meta", report.id, str(item_id))
    )
    return base64.b64encode(sealed).decode()


def sealed_screenshot(report: SentReport, item_id: uuid.UUID, data: bytes = SHOT) -> bytes:
    context = envelope.context("evidence", report.id, str(item_id))
    return b"".join(envelope.encrypt_file(io.BytesIO(data), report.key, context))


def upload(client: TestClient, report: SentReport, headers: dict[str, str], **query: Any) -> Any:
    item_id = query.pop("item_id", uuid.uuid4())
    params = {
        "item_id": str(item_id),
        "kind": "screenshot",
        "sha256": hashlib.sha256(SHOT).hexdigest(),
        "size": len(SHOT),
        "meta": meta(report, item_id),
        **query,
    }
    body = query.pop("body", None)
    params.pop("body", None)
    return client.post(
        f"/app/api/reports/{report.id}/evidence",
        params=params,
        content=sealed_screenshot(report, item_id) if body is None else body,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def test_an_officer_keeps_evidence_and_its_custody_log_shows_it(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE", files={"photo.jpg": PHOTO})
    headers = signed_in(client, "olga", report)
    page = client.get(f"/app/reports/{report.id}").text
    assert 'id="evidence-title"' in page
    assert '<script src="/static/staff-evidence.js" defer></script>' in page

    item_id = uuid.uuid4()
    registered = client.post(
        f"/app/api/reports/{report.id}/evidence/attachments",
        json={
            "item_id": str(item_id),
            "attachment_id": str(report.attachments[0]),
            "sha256": hashlib.sha256(PHOTO).hexdigest(),
            "size": len(PHOTO),
            "meta": meta(report, item_id),
        },
        headers=headers,
    )
    assert registered.status_code == 201, registered.text
    assert [e["action"] for e in registered.json()["item"]["events"]] == ["received", "decrypted"]

    added = upload(client, report, headers)
    assert added.status_code == 201, added.text
    shot = added.json()["item"]
    file = client.get(f"/app/api/reports/{report.id}/evidence/{shot['id']}/file")
    assert file.status_code == 200
    context = envelope.context("evidence", report.id, shot["id"])
    plaintext = b"".join(envelope.decrypt_file([file.content], report.key, context))
    assert hashlib.sha256(plaintext).hexdigest() == shot["sha256"]
    viewed = client.post(
        f"/app/api/reports/{report.id}/evidence/{shot['id']}/viewed",
        json={"sha256": hashlib.sha256(plaintext).hexdigest()},
        headers=headers,
    )
    assert viewed.status_code == 201
    assert viewed.json()["event"]["detail"]["match"] is True
    moved = client.post(
        f"/app/api/reports/{report.id}/evidence/{shot['id']}/transfers",
        json={"recipient": "Bundeskriminalamt, case 123"},
        headers=headers,
    )
    assert moved.status_code == 201

    listed = client.get(f"/app/api/reports/{report.id}/evidence").json()
    assert listed["can_add"] is True
    assert listed["max_mb"] == 1
    (kept_photo, kept_shot) = listed["items"]
    assert kept_photo["kind"] == "attachment"
    assert [e["action"] for e in kept_shot["events"]] == ["received", "exported", "viewed", "transferred"]
    assert kept_shot["events"][-1]["detail"] == {"recipient": "Bundeskriminalamt, case 123"}
    assert kept_shot["events"][0]["username"] == "olga"
    assert kept_shot["problem"] is None


def test_writes_need_the_csrf_token_and_bad_input_is_named(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    report = submit_report(intake, "DE")
    headers = signed_in(client, "olga", report)
    assert upload(client, report, {}).status_code == 403
    assert upload(client, report, {"X-CSRF-Token": "0" * 64}).status_code == 403
    wrong_size = upload(client, report, headers, size=len(SHOT) + 1)
    assert wrong_size.status_code == 422
    assert "size" in str(wrong_size.json()["errors"])
    bad_kind = upload(client, report, headers, kind="selfie")
    assert bad_kind.status_code == 422
    assert "kind" in str(bad_kind.json()["errors"])
    assert upload(client, report, headers, sha256="xyz").status_code == 422
    too_large = upload(client, report, headers, body=b"\0" * (envelope.encrypted_size(1024 * 1024) + 1))
    assert too_large.status_code == 413
    assert "at most 1 MiB" in too_large.json()["error"]
    assert client.get(f"/app/api/reports/{report.id}/evidence").json()["items"] == []
    assert list((node.settings.resolved_evidence_dir).glob("*")) == []  # nothing left behind


def test_another_member_state_gets_not_found_everywhere(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "fabien", "FR")
    report = submit_report(intake, "DE")
    headers = signed_in(client, "olga", report)
    shot = upload(client, report, headers).json()["item"]
    client.cookies.clear()
    assert staff_sign_in(client, "fabien").status_code == 303
    french = {"X-CSRF-Token": csrf_of(client.get("/app/keys"))}
    base = f"/app/api/reports/{report.id}/evidence"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/{shot['id']}/file").status_code == 404
    assert client.post(f"{base}/{shot['id']}/viewed", json={"sha256": "a" * 64}, headers=french).status_code == 404
    assert client.post(f"{base}/{shot['id']}/transfers", json={"recipient": "x"}, headers=french).status_code == 404
    assert upload(client, report, french).status_code == 404
