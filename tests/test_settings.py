"""Settings: every one has a default and a help line, and the README documents each exactly as the code says."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from tnrwatch.settings import Settings, settings_reference

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_has_a_help_line() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_readme_documents_every_setting() -> None:
    text = README.read_text(encoding="utf-8")
    start, end = "<!-- settings:start -->\n", "<!-- settings:end -->"
    documented = text[text.index(start) + len(start) : text.index(end)]
    assert documented == settings_reference(), (
        "README's settings table is out of date; paste the output of "
        "`python -c 'from tnrwatch.settings import settings_reference; print(settings_reference())'`"
    )


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TNRWATCH_HOME", str(tmp_path))
    monkeypatch.setenv("TNRWATCH_PORT", "9001")
    settings = Settings()
    assert settings.port == 9001
    assert settings.resolved_database_url == f"sqlite:///{tmp_path}/tnrwatch.sqlite3"
    assert settings.resolved_key_dir == tmp_path / "keys"


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TNRWATCH_PORT", "70000")
    with pytest.raises(ValidationError, match="port"):
        Settings()


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.port = 1  # type: ignore[misc]
