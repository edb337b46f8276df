"""`tnrwatch taxonomy show` and `tnrwatch taxonomy export`, run through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.taxonomy import default_taxonomy
from tnrwatch.taxonomy.render import taxonomy_to_json, taxonomy_to_markdown


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_show_prints_every_vocabulary(runner: CliRunner) -> None:
    result = runner.invoke(app, ["taxonomy", "show"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in default_taxonomy().vocabularies:
        assert f"({name})" in result.stdout
    assert "police_stations" in result.stdout
    assert "amber+strict" in result.stdout


def test_show_one_vocabulary(runner: CliRunner) -> None:
    result = runner.invoke(app, ["taxonomy", "show", "actor_types"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "hired_individual" in result.stdout
    assert "PublicBody" in result.stdout
    assert "assassination" not in result.stdout


def test_show_an_unknown_vocabulary_names_the_valid_ones(runner: CliRunner) -> None:
    result = runner.invoke(app, ["taxonomy", "show", "weapons"], terminal_width=400)
    assert result.exit_code == 2
    assert "unknown vocabulary 'weapons'" in result.stderr
    assert "tactics" in result.stderr
    assert "geo_precision" in result.stderr
    assert result.stdout == ""


def test_export_json_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "taxonomy.json"
    result = runner.invoke(app, ["taxonomy", "export", "--format", "json", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8")) == taxonomy_to_json(default_taxonomy())


def test_export_md_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "taxonomy.md"
    result = runner.invoke(app, ["taxonomy", "export", "--format", "md", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == taxonomy_to_markdown(default_taxonomy())


def test_export_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(app, ["taxonomy", "export", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["version"] == default_taxonomy().version


def test_export_needs_a_known_format(runner: CliRunner) -> None:
    result = runner.invoke(app, ["taxonomy", "export", "--format", "pdf"])
    assert result.exit_code == 2


def test_export_to_a_missing_folder_is_bad_input(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "folder" / "taxonomy.md"
    result = runner.invoke(app, ["taxonomy", "export", "--format", "md", "-o", str(target)])
    assert result.exit_code == 2
    assert "cannot write" in result.stderr
