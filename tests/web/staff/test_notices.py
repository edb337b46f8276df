"""The liaison's notice pages, both databases: the list (no subject on it, filters, overdue marked, a page at a
time), the entry form (every bad field named beside it at once, nothing typed lost, rows added without script,
CSRF), entering a notice that opens on its vetting sheet, and who may open what."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html import unescape
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tnrwatch.services import accounts, notices, registry, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.web.staff.notices import LIST_PAGE

from ..test_case_pages import form_token, sign_in, words
from ..test_staff_pages import OPERATOR, PASSWORD, TOTP_SECRETS, client, settings
from ..test_staff_pages import sign_in as staff_sign_in

__all__ = ["client", "settings"]  # fixtures, used by name

EXAMPLES = Path(__file__).parents[3] / "examples" / "notices"
LIAISON = Principal(None, "lena", "liaison")
OFFICER = Principal(None, "olga", "officer", "DE")


def make_staff(node: Node, username: str, role: str) -> None:
    accounts.add_account(node, OPERATOR, username, role)
    enrolment = staff_auth.set_password(node, OPERATOR, username, PASSWORD)
    assert enrolment is not None
    TOTP_SECRETS[username] = enrolment.secret


def notice(node: Node, **fields: Any) -> str:
    record = {"notice_type": "red_notice", "requesting_state": "UZ", "name": "DOE", "forename": "JANE"} | fields
    return str(notices.create_notice(node, LIAISON, record).id)


def text_of(html: str) -> str:
    """What a reader sees: the page without its tags, entities decoded, white space made one space."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def cells(page: str) -> list[list[str]]:
    """The notices table's rows, each a list of its cells' text."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [[text_of(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)] for row in rows]


def demo_form(**changes: str) -> dict[str, Any]:
    """The demo case as the form posts it: a red notice from Uzbekistan for the registry's human rights defender."""
    form: dict[str, Any] = {
        "notice_type": "red_notice",
        "interpol_reference": "2025/31842",
        "requesting_state": "uz",
        "name": "RAKHIMOVA",
        "forename": "Dilnoza",
        "other_name": ["Рахимова Дильноза", ""],
        "other_script": ["Cyrl", ""],
        "dob_year": "1986",
        "dob_month": "3",
        "dob_day": "",
        "sex": "F",
        "nationalities": "UZ",
        "place_of_birth": "Andijan",
        "country_of_birth": "UZ",
        "charge": ["Extremism; production and distribution of materials threatening public security"],
        "charge_translation": ["Экстремизм"],
        "legal_provision": ["Art. 244-1 Criminal Code"],
        "issuing_country_id": [""],
        "issued": "2025-09-01",
        "received": "2025-10-02",
        "decision_due": "2025-10-30",
    }
    return form | changes


def test_the_list_shows_no_subject_filters_marks_overdue_and_pages(client: TestClient, node: Node) -> None:
    today = dt.date.today()
    overdue = notice(node, interpol_reference="2025/00001", received=str(today - dt.timedelta(days=20)),
                     decision_due=str(today - dt.timedelta(days=1)), name="RAKHIMOVA")  # fmt: skip
    decided = notice(node, notice_type="diffusion", requesting_state="TR", received=str(today - dt.timedelta(days=30)),
                     decision_due=str(today - dt.timedelta(days=2)), name="YILDIZ")  # fmt: skip
    notices.decide(node, LIAISON, uuid.UUID(decided), {"decision": "do_not_act", "reasons": "Art. 3"})
    make_staff(node, "lena", "liaison")
    sign_in(client, "lena")

    page = client.get("/app/notices")
    assert page.status_code == 200
    rows = cells(page.text)
    assert rows == [
        ["2025/00001", "Red notice", "UZ", str(today - dt.timedelta(days=20)),
         f"{today - dt.timedelta(days=1)} Overdue", "pending"],
        [f"No reference (diffusion received {today - dt.timedelta(days=30)})", "Diffusion", "TR",
         str(today - dt.timedelta(days=30)), str(today - dt.timedelta(days=2)), "Do not act"],
    ]  # fmt: skip  # a decided notice is not overdue, whatever its date
    assert f'href="/app/notices/{overdue}"' in page.text
    assert 'class="staff-overdue"' in page.text
    assert "RAKHIMOVA" not in page.text
    assert "YILDIZ" not in page.text  # lists never show the subject
    assert '<a href="/app/notices" aria-current="page">Notices</a>' in page.text

    assert [r[0] for r in cells(client.get("/app/notices?decision=none").text)] == ["2025/00001"]
    assert [r[1] for r in cells(client.get("/app/notices?decision=do_not_act").text)] == ["Diffusion"]
    assert [r[2] for r in cells(client.get("/app/notices?state=tr").text)] == ["TR"]
    assert [r[1] for r in cells(client.get("/app/notices?notice_type=red_notice").text)] == ["Red notice"]
    assert "No notice matches these filters." in words(client, "/app/notices?notice_type=blue_notice")
    bad_state = text_of(client.get("/app/notices?state=Uzbekistan").text)
    assert "'Uzbekistan' is not an ISO 3166-1 alpha-2 country code" in bad_state
    assert "<tbody>" not in client.get("/app/notices?state=Uzbekistan").text
    assert client.get("/app/notices?decision=maybe").status_code == 422

    for number in range(LIST_PAGE):
        notice(node, interpol_reference=f"2024/{number:05d}", received="2024-06-01")
    first = client.get("/app/notices?state=UZ")
    assert len(cells(first.text)) == LIST_PAGE
    assert 'href="/app/notices?state=UZ&amp;page=2" rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    second = client.get("/app/notices?state=UZ&page=2")
    assert len(cells(second.text)) == 1  # LIST_PAGE + 1 from Uzbekistan, newest received first
    assert 'href="/app/notices?state=UZ&amp;page=1" rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    assert "No notices on this page." in words(client, "/app/notices?page=9")


def test_every_bad_field_is_named_beside_it_and_nothing_typed_is_lost(client: TestClient, node: Node) -> None:
    make_staff(node, "lena", "liaison")
    sign_in(client, "lena")
    token = form_token(client, "/app/notices/new")
    bad = demo_form(
        notice_type="",
        interpol_reference="25/318",
        requesting_state="Uzbekistan",
        name="",
        other_name=["Рахимова Дильноза", ""],
        other_script=["Cyrl", "Klingon"],
        dob_year="1986",
        dob_month="14",
        nationalities="UZ, XX",
        charge=["", "Separatism"],
        charge_translation=["Экстремизм", ""],
        legal_provision=["", ""],
        issuing_country_id=["", "ZZ"],
        issued="2025-11-01",
        received="2025-10-02",
        decision_due="2025-10-01",
    )
    answer = client.post("/app/notices", data=bad | {"csrf_token": token})
    assert answer.status_code == 422
    assert "The notice was not saved: 12 fields to correct" in text_of(answer.text)
    expected = {
        "notice_type": "required",
        "interpol_reference": "'25/318' is not an Interpol reference",
        "requesting_state": "'Uzbekistan' is not an ISO 3166-1 alpha-2 country code",
        "name": "required",
        "other_names-1-name": "required",  # a script chosen: the row is not blank
        "other_names-1-script": "choose one of the scripts offered",
        "date_of_birth": "'14' is not a month",
        "nationalities": "'XX' is not an assigned ISO 3166-1 alpha-2 country code",
        "charges-0-charge": "required",
        "charges-1-issuing_country_id": "'ZZ' is not an assigned",
        "received": "received must not be before issued",
        "decision_due": "decision_due must not be before received",
    }
    summary = answer.text.split('id="notice-errors"', 1)[1].split("</div>", 1)[0]
    assert re.findall(r'href="#f-([^"]+)"', summary) == list(expected)  # in the order of the form
    assert "e-charges-0-issuing_country_id" not in answer.text  # left empty: the requesting state's error says it
    for key, message in expected.items():
        beside = re.search(rf'<p id="e-{key}" class="staff-field-error">([^<]*)</p>', answer.text)
        assert beside is not None, key
        assert message in unescape(beside.group(1)), (key, beside.group(1))
        assert f'href="#f-{key}"' in answer.text, key  # the summary links to the field
    # Everything typed comes back, in its row.
    for typed in ('value="25/318"', 'value="Uzbekistan"', 'value="Рахимова Дильноза"', 'value="1986"', 'value="14"',
                  'value="UZ, XX"', 'value="ZZ"', ">Separatism</textarea>", ">Экстремизм</textarea>",
                  'value="2025-11-01"', 'value="2025-10-01"', '<option value="Cyrl" selected>',
                  '<input type="radio" name="sex" value="F" checked>'):  # fmt: skip
        assert typed in answer.text, typed
    assert notices.list_notices(node, LIAISON) == []

    alone = client.post("/app/notices", data=demo_form(dob_year="", dob_month="3", csrf_token=token))
    assert "give the year" in alone.text
    no_month = client.post("/app/notices", data=demo_form(dob_month="", dob_day="14", csrf_token=token))
    assert "give the month with the day" in no_month.text
    assert notices.list_notices(node, LIAISON) == []


def test_rows_are_added_without_script_and_keep_what_was_typed(client: TestClient, node: Node) -> None:
    make_staff(node, "lena", "liaison")
    sign_in(client, "lena")
    token = form_token(client, "/app/notices/new")
    blank = client.get("/app/notices/new").text
    assert blank.count('name="other_name"') == 2
    assert blank.count('name="charge"') == 1
    assert f'value="{dt.datetime.now(dt.UTC).date().isoformat()}"' in blank  # received: today
    more = client.post("/app/notices", data=demo_form(more="charges", csrf_token=token))
    assert more.status_code == 200
    assert more.text.count('name="charge"') == 2
    assert 'formaction="/app/notices#charges-2"' in more.text
    assert "Extremism; production" in more.text
    assert "staff-field-error" not in more.text  # a row added is not a submission
    names = client.post("/app/notices", data=demo_form(more="other_names", csrf_token=token))
    assert names.text.count('name="other_name"') == 3
    assert notices.list_notices(node, LIAISON) == []


def test_a_notice_entered_by_form_opens_on_its_vetting_sheet(client: TestClient, node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    make_staff(node, "lena", "liaison")
    sign_in(client, "lena")
    token = form_token(client, "/app/notices/new")
    assert client.post("/app/notices", data=demo_form()).status_code in (400, 403)  # no CSRF token

    saved = client.post("/app/notices", data=demo_form(csrf_token=token), follow_redirects=False)
    assert saved.status_code == 303
    location = saved.headers["location"]
    assert re.fullmatch(r"/app/notices/[0-9a-f-]{36}", location)
    created = notices.get_notice(node, LIAISON, uuid.UUID(location.rsplit("/", 1)[1]))
    assert created.subject.date_of_birth is not None
    assert (created.subject.date_of_birth.isoformat(), created.subject.date_of_birth.precision) == ("1986-03", "month")
    assert [(n.name, n.script) for n in created.subject.other_names] == [("Рахимова Дильноза", "Cyrl")]
    assert [(w.issuing_country_id, w.legal_provision) for w in created.arrest_warrants] == [
        ("UZ", "Art. 244-1 Criminal Code")
    ]  # the requesting state, as the hint says
    assert created.requesting_state == "UZ"

    sheet = words(client, location)
    assert "Recommended action: Do not act pending review" in sheet
    assert "Charge of extremism" in sheet
    assert "focal point DE" in sheet
    assert "Дильноза Рахимова" not in sheet  # the registry's own writing of the name never reaches the sheet
    assert f'href="{location}/sheet.pdf"' in client.get(location).text

    again = client.post("/app/notices", data=demo_form(csrf_token=token))
    assert again.status_code == 422
    assert "a red_notice with the reference 2025/31842 is already here" in again.text


def test_who_may_open_the_notice_pages(client: TestClient, node: Node) -> None:
    notice_id = notice(node)
    make_staff(node, "ana", "analyst")
    sign_in(client, "ana")
    for path in (
        "/app/notices",
        "/app/notices/new",
        f"/app/notices/{notice_id}",
        f"/app/notices/{notice_id}/sheet.pdf",
    ):
        assert client.get(path, follow_redirects=False).status_code == 403, path
    token = form_token(client, "/app/keys")
    assert client.post("/app/notices", data=demo_form(csrf_token=token)).status_code == 403
    assert 'href="/app/notices"' not in client.get("/app/keys").text  # no link to what they may not open
    client.cookies.clear()
    for path in ("/app/notices", "/app/notices/new", f"/app/notices/{notice_id}/sheet.pdf"):
        assert client.get(path, follow_redirects=False).headers["location"] == "/app/sign-in", path


def test_each_role_lands_on_its_own_work_after_signing_in(client: TestClient, node: Node) -> None:
    make_staff(node, "lena", "liaison")
    make_staff(node, "audrey", "auditor")
    for username, home in (("lena", "/app/notices"), ("audrey", "/app/audit")):
        response = staff_sign_in(client, username)
        assert response.status_code == 303
        assert response.headers["location"] == home
        assert client.get(home).status_code == 200
        client.cookies.clear()
