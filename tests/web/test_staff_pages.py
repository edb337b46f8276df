"""The officers' zone (/app): sign-in (password and TOTP code) and its cookie, the jurisdiction boundary, CSRF on every
write, and the JSON the report page decrypts, checked by decrypting it here with the officer's key as the page's
script does."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from tnrwatch.crypto import envelope, keywrap, pow, receipts, totp
from tnrwatch.services import accounts, recipient_keys, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.services.reports import Intake, ProofOfWork, SealedKey, Submission
from tnrwatch.settings import Settings
from tnrwatch.store.models import Account, Report
from tnrwatch.web.app import create_app
from tnrwatch.web.staff import pages as staff_pages
from tnrwatch.web.staff.session import COOKIE

PASSWORD = "correct horse battery staple"
PASSPHRASE = "a passphrase only the officer knows"
OPERATOR = Principal.operator()
# The TOTP secret of each officer the current test made, by username, so that `sign_in` can type the code.
TOTP_SECRETS: dict[str, str] = {}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # The cheapest settings allow: no proof-of-work bits, the fastest Argon2id level.
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        sqlite_synchronous="NORMAL",
        report_pow_bits=0,
        key_wrap_strength="interactive",
    )


@pytest.fixture
def client(settings: Settings, node: Node) -> Iterator[TestClient]:
    # Over https: the session cookie is Secure, and the client, like a browser, sends it back over https only.
    with TestClient(create_app(settings, node), base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def intake(node: Node) -> Intake:
    return Intake(node)


# -- builders ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Officer:
    username: str
    key_id: uuid.UUID | None = None
    public_key: bytes = b""


def make_officer(node: Node, username: str, jurisdiction: str, *, with_key: bool = True) -> Officer:
    accounts.add_account(node, OPERATOR, username, "officer", jurisdiction=jurisdiction)
    enrolment = staff_auth.set_password(node, OPERATOR, username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret
    return add_key(node, username, jurisdiction) if with_key else Officer(username)


def add_key(node: Node, username: str, jurisdiction: str) -> Officer:
    public_key, private_key = envelope.new_key_pair()
    key_id = uuid.uuid4()
    wrapped = keywrap.wrap(private_key, PASSPHRASE, key_id, public_key, "interactive").to_json()
    recipient_keys.add_key(
        node,
        OPERATOR,
        jurisdiction=jurisdiction,
        username=username,
        public_key=public_key,
        wrapped_private_key=wrapped,
        key_id=key_id,
        label="laptop",
    )
    return Officer(username, key_id, public_key)


def proof(intake: Intake) -> ProofOfWork:
    challenge = intake.challenge()
    return ProofOfWork(challenge.token, pow.solve(challenge.token))


@dataclass(frozen=True)
class SentReport:
    id: uuid.UUID
    key: bytes
    lookup: bytes
    attachments: tuple[uuid.UUID, ...]


def answers(jurisdiction: str, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "v": 1,
        "kind": "report",
        "language": "fa",
        "jurisdiction": jurisdiction,
        "what": {"tactic_families": ["intimidation"], "description": "Two men followed me home."},
        "where": {"host_country": jurisdiction, "place": "near the station"},
        "when": {"date": "2026-10", "date_unknown": False, "approximately": "early October"},
        "targeted": {"who": "self", "description": ""},
        "responsible": {"origin_country": "IR", "description": ""},
        "wants": ["advice"],
        "urgent": False,
        "contact": "",
        "attachments": files,
    }


def submit_report(
    intake: Intake, jurisdiction: str, *, files: dict[str, bytes] | None = None, mode: str = "browser"
) -> SentReport:
    """What the reporter's browser does (docs/report-format.md), through the service the intake API calls."""
    report_id, report_key = uuid.uuid4(), envelope.new_key()
    entries, attachment_ids = [], []
    for name, content in (files or {}).items():
        attachment_id, file_key = uuid.uuid4(), envelope.new_key()
        sealer = envelope.FileSealer(file_key, envelope.attachment_context(report_id, attachment_id))
        ciphertext = sealer.feed(content) + sealer.finish()
        intake.start_upload(report_id, attachment_id, len(ciphertext), proof(intake))
        intake.append_upload(attachment_id, 0, ciphertext)
        attachment_ids.append(attachment_id)
        entries.append(
            {
                "id": str(attachment_id),
                "name": name,
                "type": "text/plain",
                "size": len(content),
                "sha256": sealer.sha256,
                "key": envelope.b64encode(file_key),
            }
        )
    _, secret = receipts.new_receipt()
    reporter_public, _ = receipts.reporter_key_pair(secret)
    document = answers(jurisdiction, entries)
    intake.submit(
        Submission(
            report_id=report_id,
            jurisdiction=jurisdiction,
            urgent=False,
            lookup=receipts.lookup_token(secret),
            answers=envelope.encrypt_document(document, report_key, envelope.answers_context(report_id)),
            keys=[
                SealedKey(r.id, envelope.seal_report_key(report_key, r.public_key, report_id, str(r.id)))
                for r in intake.recipients(jurisdiction)
            ],
            reporter_key=envelope.seal_report_key(report_key, reporter_public, report_id, envelope.REPORTER),
            attachments=attachment_ids,
            pow=None if mode == "plain" else proof(intake),
        ),
        mode=mode,
    )
    return SentReport(report_id, report_key, receipts.lookup_token(secret), tuple(attachment_ids))


def current_code(username: str) -> str:
    return totp.code_at(TOTP_SECRETS[username], dt.datetime.now(dt.UTC)) if username in TOTP_SECRETS else "123456"


def sign_in(
    client: TestClient, username: str, password: str = PASSWORD, code: str | None = None, **headers: str
) -> httpx.Response:
    form = {"username": username, "password": password, "code": current_code(username) if code is None else code}
    return client.post("/app/sign-in", data=form, headers=headers, follow_redirects=False)


def set_cookies(response: httpx.Response) -> dict[str, Any]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
    assert found, "the page carries no CSRF token"
    return found.group(1)


# -- signing in --------------------------------------------------------------------------------------------------------


def test_sign_in_page_labels_its_fields(client: TestClient) -> None:
    page = client.get("/app/sign-in")
    assert page.status_code == 200
    assert '<label for="username">' in page.text
    assert '<label for="password">' in page.text
    assert '<label for="code">' in page.text
    assert 'autocomplete="one-time-code"' in page.text
    assert 'action="/app/sign-in"' in page.text


def test_a_wrong_password_answers_401_without_saying_which_part_was_wrong(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    wrong_password = sign_in(client, "olga", "not the password at all")
    unknown_user = sign_in(client, "nobody", PASSWORD)
    wrong_code = sign_in(client, "olga", code=f"{(int(current_code('olga')) + 1) % 1_000_000:06d}")
    no_code = sign_in(client, "olga", code="")
    answers = [wrong_password, unknown_user, wrong_code, no_code]
    assert {answer.status_code for answer in answers} == {401}
    assert len({answer.text for answer in answers}) == 1  # nothing tells which factor was wrong
    assert "the username, password or code is wrong" in wrong_password.text.lower()
    assert 'aria-invalid="true" aria-describedby="sign-in-error"' in wrong_password.text
    assert all(COOKIE not in set_cookies(answer) for answer in answers)


def test_a_code_is_good_once(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    code = current_code("olga")
    assert sign_in(client, "olga", code=code).status_code == 303
    replayed = sign_in(client, "olga", code=code)
    assert replayed.status_code == 401
    assert COOKIE not in set_cookies(replayed)


def test_an_account_without_a_second_factor_is_told_to_ask_for_one(client: TestClient, node: Node) -> None:
    accounts.add_account(node, OPERATOR, "olga", "officer", jurisdiction="DE")
    staff_auth.set_password(node, OPERATOR, "olga", PASSWORD)
    with node.store.writing() as session:
        session.execute(update(Account).values(totp_secret=None))
    response = sign_in(client, "olga", code="123456")
    assert response.status_code == 401
    assert "tnrwatch users reset-2fa" in response.text


def test_after_five_failures_sign_in_pauses_with_429(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    for _ in range(5):
        assert sign_in(client, "olga", "not the password at all").status_code == 401
    paused = sign_in(client, "olga")  # the right password and code
    assert paused.status_code == 429
    assert "try again later" in paused.text
    assert "Sign-in is paused" in paused.text
    assert COOKIE not in set_cookies(paused)


def test_a_sign_in_form_posted_from_another_site_is_refused(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    for site in ("cross-site", "same-site"):
        response = sign_in(client, "olga", **{"Sec-Fetch-Site": site})
        assert response.status_code == 403, site
        assert COOKIE not in set_cookies(response)
    assert sign_in(client, "olga", **{"Sec-Fetch-Site": "same-origin"}).status_code == 303


def test_sign_in_sets_a_strict_session_cookie(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    response = sign_in(client, "olga")
    assert response.status_code == 303
    assert response.headers["location"] == "/app/reports"
    cookie = set_cookies(response)[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/app"
    assert int(cookie["max-age"]) == node.settings.staff_session_hours * 3600
    assert len(cookie.value) >= 43  # 256 random bits


def test_the_cookie_is_not_secure_only_when_settings_say_so(tmp_path: Path, database_url: str) -> None:
    """For a node served over plain http on a private network (TNRWATCH_COOKIE_SECURE=false)."""
    plain = Settings(
        home=tmp_path / "plain", database_url=database_url, cookie_secure=False, key_wrap_strength="interactive"
    )
    node = Node.open(plain)
    try:
        make_officer(node, "olga", "DE", with_key=False)
        with TestClient(create_app(plain, node)) as client:
            cookie = set_cookies(sign_in(client, "olga"))[COOKIE]
    finally:
        node.close()
    assert cookie["secure"] == ""
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/app"


@pytest.mark.parametrize(
    "path", ["/app", "/app/reports", "/app/keys", "/app/reports/00000000-0000-4000-8000-000000000000"]
)
def test_staff_pages_without_a_session_send_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/sign-in"


def test_staff_api_without_a_session_answers_401(client: TestClient) -> None:
    response = client.get(f"/app/api/reports/{uuid.uuid4()}")
    assert response.status_code == 401
    assert response.json()["ok"] is False


def test_every_staff_post_needs_the_csrf_token(client: TestClient, node: Node) -> None:
    """Every POST route under /app, found from the app itself so that a new one cannot forget the check; sign-in,
    which has no session yet, is checked against cross-site posts above."""
    make_officer(node, "olga", "DE")
    assert sign_in(client, "olga").status_code == 303
    posts = [
        route.path for route in staff_pages.router.routes if isinstance(route, APIRoute) and "POST" in route.methods
    ]
    assert "/app/sign-out-everywhere" in posts
    for path in posts:
        if path == "/app/sign-in":
            continue
        url = path.replace("{report_id}", str(uuid.uuid4()))
        assert client.post(url, data={}, follow_redirects=False).status_code == 403, path
        assert client.post(url, json={}, headers={"X-CSRF-Token": "0" * 64}).status_code == 403, path
    assert client.get("/app/reports", follow_redirects=False).status_code == 200  # still signed in


def test_sign_out_everywhere_ends_the_sessions_of_every_browser(
    settings: Settings, node: Node, client: TestClient
) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    secret = TOTP_SECRETS["olga"]
    sign_in(client, "olga")
    with TestClient(create_app(settings, node), base_url="https://testserver") as laptop:
        # The next step's code: the current one was just used, and a code is good once.
        later = totp.code_at(secret, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=totp.STEP_SECONDS))
        assert sign_in(laptop, "olga", code=later).status_code == 303
        page = client.get("/app/reports")
        assert 'formaction="/app/sign-out-everywhere"' in page.text
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
        assert token
        response = client.post("/app/sign-out-everywhere", data={"csrf_token": token.group(1)}, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/app/sign-in?signed-out=everywhere"
        assert set_cookies(response)[COOKIE].value == ""
        assert "signed out in every browser" in client.get(response.headers["location"]).text
        assert laptop.get("/app/reports", follow_redirects=False).status_code == 303
    assert client.get("/app/reports", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_token_and_ends_the_session(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    sign_in(client, "olga")
    page = client.get("/app/reports")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token
    assert client.post("/app/sign-out", data={"csrf_token": "0" * 64}, follow_redirects=False).status_code == 403
    response = client.post("/app/sign-out", data={"csrf_token": token.group(1)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/sign-in"
    assert set_cookies(response)[COOKIE].value == ""
    assert client.get("/app/reports", follow_redirects=False).status_code == 303


# -- the jurisdiction boundary -----------------------------------------------------------------------------------------


def test_an_officer_sees_the_reports_of_their_own_jurisdiction_only(
    client: TestClient, node: Node, intake: Intake
) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "francois", "FR")
    german = submit_report(intake, "DE", files={"note.txt": b"evidence"})
    french = submit_report(intake, "FR", files={"note.txt": b"preuve"})
    sign_in(client, "olga")

    listing = client.get("/app/reports")
    assert listing.status_code == 200
    assert f'href="/app/reports/{german.id}"' in listing.text
    assert str(french.id)[:8] not in listing.text

    assert client.get(f"/app/reports/{german.id}").status_code == 200
    assert client.get(f"/app/api/reports/{german.id}").status_code == 200
    assert client.get(f"/app/api/reports/{german.id}/attachments/{german.attachments[0]}").status_code == 200
    # The same answer as for a report that does not exist: existence is not revealed across borders.
    for path in (
        f"/app/reports/{french.id}",
        f"/app/api/reports/{french.id}",
        f"/app/api/reports/{french.id}/attachments/{french.attachments[0]}",
        f"/app/api/reports/{german.id}/attachments/{french.attachments[0]}",
        f"/app/reports/{uuid.uuid4()}",
    ):
        assert client.get(path).status_code == 404, path


def test_the_report_json_opens_with_the_officers_key(client: TestClient, node: Node, intake: Intake) -> None:
    """What static/staff-report.js does, step by step, on the JSON the page fetches."""
    officer = make_officer(node, "olga", "DE")
    sent = submit_report(intake, "DE", files={"note.txt": b"evidence"})
    sign_in(client, "olga")
    data = client.get(f"/app/api/reports/{sent.id}").json()

    key = data["key"]
    assert key["id"] == str(officer.key_id) == data["recipient"]
    public_key = envelope.b64decode(key["public_key"])
    private_key = keywrap.unwrap(
        keywrap.WrappedKey.from_json(key["wrapped_private_key"]), PASSPHRASE, uuid.UUID(key["id"]), public_key
    )
    report_key = envelope.open_report_key(
        envelope.b64decode(data["sealed_key"]), private_key, uuid.UUID(data["report"]["id"]), data["recipient"]
    )
    document = envelope.decrypt_document(
        envelope.b64decode(data["answers"]), report_key, envelope.answers_context(sent.id)
    )
    assert document["what"]["description"] == "Two men followed me home."

    entry = document["attachments"][0]
    ciphertext = client.get(f"/app/api/reports/{sent.id}/attachments/{entry['id']}").content
    attachment_ad = envelope.attachment_context(sent.id, uuid.UUID(entry["id"]))
    plaintext = b"".join(envelope.decrypt_file([ciphertext], envelope.b64decode(entry["key"]), attachment_ad))
    assert plaintext == b"evidence"
    assert data["attachments"] == [{"id": entry["id"], "size": len(ciphertext)}]


# -- writes need the CSRF token ----------------------------------------------------------------------------------------


def test_a_reply_needs_the_csrf_header(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    sent = submit_report(intake, "DE")
    sign_in(client, "olga")
    token = csrf_of(client.get(f"/app/reports/{sent.id}"))
    message_id = uuid.uuid4()
    body = {
        "message_id": str(message_id),
        "ciphertext": envelope.b64encode(
            envelope.encrypt_document(
                {"v": 1, "kind": "message", "text": "We received your report.", "attachments": []},
                sent.key,
                envelope.message_context(sent.id, message_id),
            )
        ),
    }
    url = f"/app/api/reports/{sent.id}/messages"
    assert client.post(url, json=body).status_code == 403
    assert client.post(url, json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    response = client.post(url, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == 201
    assert response.json()["id"] == str(message_id)

    # The reporter reads it with the receipt.
    thread = intake.reporter_thread(sent.lookup)
    assert [(m.id, m.author) for m in thread.messages] == [(message_id, "officer")]
    text = envelope.decrypt_document(
        thread.messages[0].ciphertext, sent.key, envelope.message_context(sent.id, message_id)
    )["text"]
    assert text == "We received your report."


def test_a_reply_to_another_jurisdictions_report_is_not_found(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "francois", "FR")
    french = submit_report(intake, "FR")
    sign_in(client, "olga")
    token = csrf_of(client.get("/app/keys"))
    message_id = uuid.uuid4()
    ciphertext = envelope.encrypt_document(
        {"v": 1}, envelope.new_key(), envelope.message_context(french.id, message_id)
    )
    response = client.post(
        f"/app/api/reports/{french.id}/messages",
        json={"message_id": str(message_id), "ciphertext": envelope.b64encode(ciphertext)},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 404


def test_an_officer_registers_a_key_for_their_own_jurisdiction(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    sign_in(client, "olga")
    page = client.get("/app/keys")
    assert 'data-strength="interactive"' in page.text
    public_key, private_key = envelope.new_key_pair()
    key_id = uuid.uuid4()
    body = {
        "id": str(key_id),
        "public_key": envelope.b64encode(public_key),
        "wrapped_private_key": keywrap.wrap(private_key, PASSPHRASE, key_id, public_key, "interactive").to_json(),
        "label": "office laptop",
    }
    assert client.post("/app/api/keys", json=body).status_code == 403
    response = client.post("/app/api/keys", json=body, headers={"X-CSRF-Token": csrf_of(page)})
    assert response.status_code == 201

    [key] = recipient_keys.list_keys(node, username="olga")
    assert (key.id, key.jurisdiction, key.status, key.label) == (key_id, "DE", "active", "office laptop")
    assert response.json()["fingerprint"] == key.fingerprint
    assert key.fingerprint in client.get("/app/keys").text


def test_a_key_wrapped_too_weakly_is_refused(client: TestClient, node: Node) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    sign_in(client, "olga")
    public_key, private_key = envelope.new_key_pair()
    key_id = uuid.uuid4()
    wrapped = keywrap.wrap(private_key, PASSPHRASE, key_id, public_key, "interactive").to_json()
    body = {
        "id": str(key_id),
        "public_key": envelope.b64encode(public_key),
        "wrapped_private_key": wrapped | {"opslimit": 1},
    }
    response = client.post("/app/api/keys", json=body, headers={"X-CSRF-Token": csrf_of(client.get("/app/keys"))})
    assert response.status_code == 422
    assert recipient_keys.list_keys(node, username="olga") == []


# -- what the pages say ------------------------------------------------------------------------------------------------


def test_the_list_marks_overdue_plain_and_keyless(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "dieter", "DE", with_key=False)
    late = submit_report(intake, "DE")
    submit_report(intake, "DE", mode="plain")
    with node.store.writing() as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        session.execute(update(Report).where(Report.id == late.id).values(acknowledge_by=past))
    sign_in(client, "dieter")
    page = client.get("/app/reports").text
    assert page.count('class="staff-overdue"') == 1
    assert "Overdue" in page  # in words, not only in colour
    assert "sealed by the server" in page
    assert "You have no active key" in page
    assert 'href="/app/keys"' in page
    assert 'name="csrf_token"' in page


def test_a_report_none_of_the_keys_holds_says_how_to_get_it(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    make_officer(node, "dieter", "DE", with_key=False)
    sent = submit_report(intake, "DE")
    add_key(node, "dieter", "DE")  # made after the report arrived
    sign_in(client, "dieter")
    page = client.get(f"/app/reports/{sent.id}").text
    assert "tnrwatch keys grant" in page
    assert "staff-report.js" not in page
    assert client.get(f"/app/api/reports/{sent.id}").json()["key"] is None


# -- the two zones keep their cookies apart ----------------------------------------------------------------------------


def test_the_public_zone_never_reads_the_staff_cookie() -> None:
    """Besides the import contract (the public zone imports no staff code), its source never names the cookie."""
    public = Path(create_app.__code__.co_filename).parent / "public"
    sources = {path.name: path.read_text(encoding="utf-8") for path in public.rglob("*.py")}
    assert sources
    for name, source in sources.items():
        assert COOKIE not in source, name
        assert "staff_auth" not in source, name


@pytest.mark.parametrize("path", ["/", "/report", "/report?lang=fr", "/follow-up?lang=de", "/report/plain"])
def test_public_pages_never_set_the_staff_cookie(client: TestClient, node: Node, path: str) -> None:
    make_officer(node, "olga", "DE", with_key=False)
    sign_in(client, "olga")  # even with a staff session in the jar
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 200, path
    assert COOKIE not in set_cookies(response)


def test_staff_pages_never_set_public_cookies(client: TestClient, node: Node, intake: Intake) -> None:
    make_officer(node, "olga", "DE")
    sent = submit_report(intake, "DE")
    responses = [client.get("/app/sign-in?lang=fr"), sign_in(client, "olga")]
    for path in ("/app/reports?lang=fr", "/app/keys?lang=ar", f"/app/reports/{sent.id}?lang=de"):
        responses.append(client.get(path, headers={"Accept-Language": "fr"}))
    for response in responses:
        assert set(set_cookies(response)) <= {COOKIE}, response.url
