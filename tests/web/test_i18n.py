"""The catalogues of the public pages: complete, placeholders intact, machine translations marked, and in step with
the pages (a string added to a page without running scripts/i18n.sh fails here, saying what to do)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from tnrwatch.web import i18n

ROOT = Path(__file__).resolve().parents[2]
POT = i18n.TRANSLATIONS_DIR / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TRANSLATED = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]


def _ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.mark.parametrize("code", TRANSLATED)
def test_catalogue_is_complete_and_marked(code: str) -> None:
    path = i18n.TRANSLATIONS_DIR / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    messages = [m for m in catalog if m.id]
    assert {m.id for m in messages} == _ids(POT), f"{code}: run scripts/i18n.sh"
    for message in messages:
        assert isinstance(message.id, str)
        assert message.string, f"{code}: untranslated {message.id[:50]!r}"
        assert "fuzzy" not in message.flags, f"{code}: fuzzy {message.id[:50]!r}"
        assert set(PLACEHOLDER.findall(message.id)) == set(PLACEHOLDER.findall(str(message.string))), message.id
        assert "%" not in PLACEHOLDER.sub("", str(message.string).replace("%%", "")), (
            f"{code}: stray % in {message.id!r}"
        )
        comments = " ".join(message.user_comments)
        assert "machine translation: review" in comments or "reviewed" in comments, message.id
    assert i18n.translations(code).gettext(messages[0].id) == messages[0].string


def test_template_of_catalogues_matches_the_pages(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "N_",
         "--no-location", "--sort-output", "--omit-header", "-o", str(fresh), str(ROOT / "src/tnrwatch/web")],
        check=True,
    )  # fmt: skip
    assert _ids(fresh) == _ids(POT), "the pages' strings changed: run scripts/i18n.sh and translate the new ones"


@pytest.mark.parametrize("code", TRANSLATED)
def test_report_page_is_translated(client: TestClient, code: str) -> None:
    response = client.get(f"/report?lang={code}")
    assert f'lang="{code}"' in response.text
    assert "Encrypt and send" not in response.text  # the submit button, in English
    assert response.cookies.get(i18n.LANGUAGE_COOKIE) == code
