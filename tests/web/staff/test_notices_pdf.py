"""The vetting sheet as a PDF (GET /app/notices/{id}/sheet.pdf), both databases: a real PDF whose text holds the
subject, the registry match by its pseudonym (never the registry's name), the red flag and the recommendation; an
attachment that is never cached; audited as opening the page is; names in Cyrillic, Arabic and Chinese drawn with
fonts that have them; and a renderer that fetches nothing but our own static files."""

from __future__ import annotations

import http.server
import io
import threading
import uuid
from collections.abc import Iterator

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tnrwatch.services import notices, registry, screening
from tnrwatch.services.node import Node
from tnrwatch.store.models import AuditEntry
from tnrwatch.web.staff.notices import PDF_BASE_URL, render_pdf, static_file

from ..test_case_pages import sign_in
from ..test_staff_pages import client, settings
from .test_notices import EXAMPLES, LIAISON, OFFICER, make_staff

__all__ = ["client", "settings"]  # fixtures, used by name


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> set[str]:
    found: set[str] = set()
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            found.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return found


def screenings(node: Node, notice_id: str) -> int:
    with node.store.reading() as session:
        query = select(func.count()).where(
            AuditEntry.action == "screen", AuditEntry.entity == "notice", AuditEntry.entity_uuid == uuid.UUID(notice_id)
        )
        return int(session.scalar(query) or 0)


def test_the_sheet_as_a_pdf(client: TestClient, node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    notice_id = str(
        notices.create_notice(
            node,
            LIAISON,
            {
                "notice_type": "red_notice",
                "entity_id": "2025/31842",
                "forename": "DILNOZA",
                "name": "RAKHIMOVA",
                "date_of_birth": "1986/03/14",
                "sex_id": "F",
                "nationalities": ["UZ"],
                "arrest_warrants": [
                    {"issuing_country_id": "UZ", "charge": "Extremism", "charge_translation": "Экстремизм"}
                ],
            },
        ).id
    )
    match = screening.screen_notice(node, LIAISON, uuid.UUID(notice_id)).registry_matches[0]
    make_staff(node, "lena", "liaison")
    sign_in(client, "lena")
    before = screenings(node, notice_id)
    client.get(f"/app/notices/{notice_id}")
    assert screenings(node, notice_id) == before + 1  # opening the page

    answer = client.get(f"/app/notices/{notice_id}/sheet.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'attachment; filename="vetting-sheet-2025-31842.pdf"'
    assert answer.headers["cache-control"] == "no-store"
    assert answer.content.startswith(b"%PDF-")
    assert screenings(node, notice_id) == before + 2  # the download is recorded as opening the page is

    text = " ".join(pdf_text(answer.content).split())
    assert "RAKHIMOVA, DILNOZA" in text
    assert match.pseudonym in text  # the match, by the only name the sheet gives it
    assert "focal point DE" in text
    assert "Charge of extremism" in text
    assert "Article 3" in text
    assert "Recommended action: Do not act pending review" in text
    assert "Экстремизм" in text
    assert "Дильноза" not in text  # the registry's own writing of the name
    assert "Sign out" not in text  # no bar, and no form (nor its CSRF token) in the file
    assert "Record the decision" not in text
    assert "page 1 of" in text


def test_names_in_every_script_are_drawn_with_fonts_that_have_them(client: TestClient, node: Node) -> None:
    notice_id = notices.create_notice(
        node,
        LIAISON,
        {
            "notice_type": "extradition_request",
            "requesting_state": "CN",
            "name": "LI",
            "forename": "Wei",
            "other_names": [
                {"name": "李伟", "script": "Hans"},
                {"name": "Зафар Назаров", "script": "Cyrl"},
                {"name": "آرش کریمی", "script": "Arab"},
            ],
        },
    ).id
    make_staff(node, "lena", "liaison")
    sign_in(client, "lena")
    answer = client.get(f"/app/notices/{notice_id}/sheet.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == f'attachment; filename="vetting-sheet-{str(notice_id)[:8]}.pdf"'
    text = pdf_text(answer.content)
    assert "李伟" in text
    assert "Зафар Назаров" in text
    fonts = pdf_fonts(answer.content)
    assert any(font.startswith("DejaVu") for font in fonts), fonts  # Latin, Cyrillic, Arabic
    assert any("CJK" in font for font in fonts), fonts  # Chinese: Debian's fonts-noto-cjk


def test_the_renderer_reads_our_static_files_and_nothing_else() -> None:
    body, media_type = static_file(PDF_BASE_URL + "static/staff.css")
    assert b".staff-vetting" in body
    assert media_type == "text/css"
    for url in (
        "http://127.0.0.1:9/static/staff.css",
        "https://example.org/static/staff.css",
        "file:///etc/passwd",
        "data:text/css,body{color:red}",
        PDF_BASE_URL + "app/notices",
        PDF_BASE_URL + "static/../templates/base.html",
        PDF_BASE_URL + "static/%2e%2e/templates/base.html",
        PDF_BASE_URL + "static/no-such-file.css",
    ):
        with pytest.raises(ValueError, match=r"PDF may load only|no such static file"):
            static_file(url)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []  # noqa: RUF012  # one list for the test's one server

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.end_headers()
        self.wfile.write(b"body { color: red }")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    """A real HTTP server on loopback that records every request it gets."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()
    server.server_close()


def test_rendering_fetches_nothing_from_the_network(listener: str) -> None:
    _Recorder.seen.clear()
    html = (
        f'<html><head><link rel="stylesheet" href="{listener}/style.css">'
        '<link rel="stylesheet" href="/static/staff.css">'
        f'<style>@import url("{listener}/import.css"); @font-face {{ font-family: X; src: url("{listener}/f.woff") }}'
        f'</style></head><body><p>Named</p><img src="{listener}/pixel.png" alt="">'
        f'<img src="file:///etc/hostname" alt=""></body></html>'
    )
    assert pdf_text(render_pdf(html)).strip() == "Named"
    assert _Recorder.seen == []
