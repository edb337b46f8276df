"""The reporter's pages: every language with its direction, the form's questions as the server reads them, the
focal point without a key, and the no-JavaScript mode end to end (form, receipt, follow-up, reply)."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from fastapi.testclient import TestClient

from tnrwatch.crypto import envelope, keywrap
from tnrwatch.services import recipient_keys
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web import i18n
from tnrwatch.web.public.answers import GENERIC

PAGES = ["/report", "/report/plain", "/follow-up"]
# What plain.py's PlainFormReader reads; the no-JavaScript form must offer exactly these names.
PLAIN_FIELDS = {
    "jurisdiction",
    "tactic_families",
    "description",
    "host_country",
    "place",
    "date",
    "date_unknown",
    "approximately",
    "who",
    "who_description",
    "origin_country",
    "responsible",
    "wants",
    "urgent",
    "contact",
    "files",
}


@pytest.fixture
def receiving(node: Node) -> str:
    """Germany's focal point gets an active key, so that the forms offer it."""
    public, private = envelope.new_key_pair()
    key_id = uuid.uuid4()
    recipient_keys.add_key(
        node,
        Principal.operator(),
        jurisdiction="DE",
        username=None,
        public_key=public,
        wrapped_private_key=keywrap.wrap(
            private, "correct horse battery staple", key_id, public, "interactive"
        ).to_json(),
        key_id=key_id,
    )
    return "DE"


def _html_tag(page: str) -> str:
    found = re.search(r"<html[^>]*>", page)
    assert found is not None
    return found.group(0)


@pytest.mark.parametrize("code", list(i18n.LANGUAGES))
@pytest.mark.parametrize("path", PAGES)
def test_page_renders_in_every_language(client: TestClient, receiving: str, path: str, code: str) -> None:
    language = i18n.LANGUAGES[code]
    response = client.get(path, params={"lang": code})
    assert response.status_code == 200
    assert _html_tag(response.text) == f'<html lang="{code}" dir="{language.direction}">'
    current = re.findall(r'<a href="[^"]*lang=(\w+)"[^>]*aria-current="true"', response.text)
    assert current == [code]
    assert response.cookies.get(i18n.LANGUAGE_COOKIE) == code


def test_language_switcher_names_each_language_in_itself(client: TestClient, receiving: str) -> None:
    page = client.get("/report", params={"jurisdiction": "DE", "lang": "fa"}).text
    for language in i18n.LANGUAGES.values():
        link = f'href="/report?jurisdiction=DE&amp;lang={language.code}" lang="{language.code}"'
        assert link in page
        assert f">{language.name}</a>" in page


def test_home_page_stays_english_and_left_to_right(client: TestClient) -> None:
    assert _html_tag(client.get("/").text) == '<html lang="en" dir="ltr">'


def test_jurisdiction_without_key_answers_409_and_offers_the_others(client: TestClient, receiving: str) -> None:
    response = client.get("/report", params={"jurisdiction": "FR"})
    assert response.status_code == 409
    assert "France cannot receive reports yet: it has no active key" in response.text
    select = response.text[response.text.index('<select id="jurisdiction"') :]
    select = select[: select.index("</select>")]
    assert '<option value="DE"' in select
    assert '<option value="FR"' not in select


def test_no_focal_point_with_a_key_says_so(client: TestClient) -> None:
    page = client.get("/report").text
    assert "No focal point can receive reports here yet" in page
    assert 'id="report-form"' not in page


@pytest.mark.parametrize("path", ["/report", "/report/plain"])
def test_form_families_are_the_taxonomy_families(client: TestClient, node: Node, receiving: str, path: str) -> None:
    page = client.get(path).text
    offered = re.findall(r'name="tactic_families" value="([^"]+)"', page)
    assert offered == [family.code for family in node.taxonomy.tactic_families]


def test_plain_form_has_no_script_and_names_the_jurisdiction_first(client: TestClient, receiving: str) -> None:
    page = client.get("/report/plain").text
    assert "<script" not in page.lower()
    form = page[page.index('<form method="post" action="/report/plain"') :]
    form = form[: form.index("</form>")]
    assert 'enctype="multipart/form-data"' in form
    names = re.findall(r'<(?:input|select|textarea)[^>]* name="([^"]+)"', form)
    assert names[0] == "jurisdiction"
    assert set(names) == PLAIN_FIELDS
    assert "the server sees them in memory for a moment" in page


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_no_inline_script_or_style(client: TestClient, receiving: str, path: str) -> None:
    page = client.get(path).text
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    assert "<style" not in page


def test_report_page_messages_cover_every_error_code(client: TestClient, receiving: str) -> None:
    page = client.get("/report").text
    block = re.search(r'<script type="application/json" id="messages">(.*?)</script>', page, re.S)
    assert block is not None
    messages = json.loads(block.group(1))
    codes = {code for code, _ in GENERIC.values()} | {"keys_changed", "no_key", "network", "error"}
    assert codes <= set(messages)
    assert "{number}" in messages["step"]


def test_receipt_form_works_without_script(client: TestClient) -> None:
    page = client.get("/follow-up").text
    assert '<form id="receipt-form" class="receipt-form" method="post" action="/follow-up/plain"' in page
    assert 'name="receipt"' in page
    assert 'autocomplete="off"' in page
    assert 'spellcheck="false"' in page


def test_malformed_receipt_is_an_error_tied_to_the_field(client: TestClient) -> None:
    response = client.post("/follow-up/plain", data={"receipt": "ABCD-EFGH"})
    assert response.status_code == 422
    assert 'aria-describedby="receipt-hint receipt-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert re.search(r'<p class="field-error" id="receipt-error">\S', response.text)


def test_unknown_receipt_answers_the_generic_text(client: TestClient) -> None:
    from tnrwatch.crypto import receipts

    text, _ = receipts.new_receipt()
    response = client.post("/follow-up/plain", data={"receipt": text})
    assert response.status_code == 404
    assert "Nothing was found. If you typed a receipt, check each group again." in response.text
    assert text not in response.text


def test_plain_report_round_trip(client: TestClient, receiving: str) -> None:
    canary = "CANARY-رسالة-тест"
    response = client.post(
        "/report/plain",
        data={
            "jurisdiction": receiving,
            "tactic_families": ["digital", "intimidation"],
            "description": canary,
            "host_country": "DE",
            "date": "2026-01-02",
            "who": "self",
            "wants": ["advice"],
            "urgent": "yes",
        },
        files=[("files", ("note.txt", b"hello", "text/plain"))],
    )
    assert response.status_code == 200
    assert "<script" not in response.text.lower()
    found = re.search(r'<p class="receipt"[^>]*>(.*?)</p>', response.text, re.S)
    assert found is not None
    receipt = re.sub(r"<[^>]+>", "", found.group(1))
    assert re.fullmatch(r"([0-9A-Z]{4}-){7}[0-9A-Z]{4}", receipt)
    assert "languages" not in response.text  # a receipt shown once gets no link away from it

    thread = client.post("/follow-up/plain", data={"receipt": receipt})
    assert thread.status_code == 200
    assert canary in thread.text
    assert "Phones or accounts were hacked" in thread.text
    assert "note.txt" in thread.text

    replied = client.post("/follow-up/plain/message", data={"receipt": receipt, "text": "more " + canary})
    assert replied.status_code == 200
    assert "Your message was sent." in replied.text
    assert "more " + canary in replied.text


def test_plain_report_to_a_jurisdiction_without_key_says_so(client: TestClient, receiving: str) -> None:
    response = client.post(
        "/report/plain",
        data={"jurisdiction": "FR", "urgent": "no"},
        files=[("files", ("", b"", "application/octet-stream"))],
    )
    assert response.status_code == 409
    assert "it has no active key" in response.text


@pytest.mark.parametrize("name", ["report.js", "followup.js", "public.css", "tnr-crypto.js"])
def test_page_assets_are_served(client: TestClient, name: str) -> None:
    assert client.get(f"/static/{name}").status_code == 200
