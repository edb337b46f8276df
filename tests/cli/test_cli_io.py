"""`tnrwatch import` and `tnrwatch export` through the real Typer app, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from stix2validator import ValidationOptions, validate_string
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings
from tnrwatch.store.models import Incident

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands open the test database."""
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    return CliRunner()


def count(node: Node) -> int:
    with node.store.reading() as session:
        return session.scalar(select(func.count()).select_from(Incident)) or 0


def import_sample(runner: CliRunner) -> None:
    result = runner.invoke(app, ["import", str(EXAMPLES / "freedom_house_sample.csv"), "--mapping", "freedom_house",
                                 "--synthetic"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported 10 incidents" in result.stderr
    assert "1 row skipped by the mapping" in result.stderr


def test_bad_rows_exit_2_naming_file_row_and_field(runner: CliRunner, node: Node) -> None:
    result = runner.invoke(app, ["import", str(EXAMPLES / "freedom_house_bad_rows.csv"), "--mapping", "freedom_house"],
                           terminal_width=400)  # fmt: skip
    assert result.exit_code == 2
    stderr = result.stderr
    assert "5 of 7 rows are invalid; nothing was imported" in stderr
    assert "freedom_house_bad_rows.csv, row 3, origin_countries: column 'Origin country': 'Atlantis'" in stderr
    assert "freedom_house_bad_rows.csv, row 4, tactics:" in stderr
    assert "freedom_house_bad_rows.csv, row 5, date_start:" in stderr
    assert "freedom_house_bad_rows.csv, row 6, target_count:" in stderr
    assert "freedom_house_bad_rows.csv, row 7, sources[0].url:" in stderr
    assert result.stdout == ""
    assert count(node) == 0


def test_import_then_export_every_format(runner: CliRunner, node: Node, tmp_path: Path) -> None:
    import_sample(runner)
    assert count(node) == 10
    for fmt in ("csv", "json", "xlsx", "geojson"):
        target = tmp_path / f"out.{fmt}"
        result = runner.invoke(app, ["export", "-o", str(target)])
        assert result.exit_code == 0, result.output
        assert f"exported 10 incidents as {fmt}" in result.stderr
        assert "synthetic" in result.stderr
        assert target.exists()
        assert not (tmp_path / f".out.{fmt}.partial").exists()
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))["synthetic"] is True
    workbook = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)
    assert dict(workbook["about"].iter_rows(values_only=True))["synthetic"] == "true"
    workbook.close()
    again = runner.invoke(app, ["import", str(tmp_path / "out.xlsx"), "--on-conflict", "skip"])
    assert again.exit_code == 0, again.output
    assert "10 rows already present" in again.stderr


def test_export_filters_to_stdout(runner: CliRunner) -> None:
    import_sample(runner)
    result = runner.invoke(app, ["export", "--format", "csv", "--origin", "TJ,CN", "--date-from", "2020-06-01"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["origin_countries"] for row in rows] == ["CN"]
    assert rows[0]["synthetic"] == "true"
    geojson = runner.invoke(app, ["export", "--format", "geojson", "--tactic-family", "legal", "--real"])
    assert geojson.exit_code == 0, geojson.output
    assert json.loads(geojson.stdout)["features"] == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["export"], "give --format, or -o FILE with an extension"),
        (["export", "--format", "pdf"], "'pdf' is not an export format"),
        (["export", "--format", "csv", "--origin", "XX"], "--origin"),
        (["export", "--format", "csv", "--date-from", "yesterday"], "--date-from"),
        (["export", "--format", "csv", "--bbox", "1,2,3"], "--bbox"),
        (["import", "missing.csv"], "No such file"),
        (["import", "x.csv", "--on-conflict", "merge"], "--on-conflict must be one of"),
        (["import", "x.csv", "--mapping", "nowhere"], "the shipped mappings are: freedom_house, uwazi"),
    ],
)
def test_bad_arguments_exit_2(runner: CliRunner, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, arguments, terminal_width=400)
    assert result.exit_code == 2, result.output
    assert message in result.stderr


def test_json_errors_name_the_item(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "tnrwatch-incidents", "incidents": [{"title": "x"}]}), encoding="utf-8")
    result = runner.invoke(app, ["import", str(path)], terminal_width=400)
    assert result.exit_code == 2
    assert "bad.json, item 0, date_start: required" in result.stderr


def test_export_a_stix_bundle_that_validates(runner: CliRunner, tmp_path: Path) -> None:
    import_sample(runner)
    target = tmp_path / "incidents.stix"  # the format from the extension
    result = runner.invoke(app, ["export", "-o", str(target), "--origin", "CN"])
    assert result.exit_code == 0, result.output
    assert "as stix" in result.stderr
    bundle = json.loads(target.read_text(encoding="utf-8"))
    assert bundle["type"] == "bundle"
    assert [o["type"] for o in bundle["objects"]].count("incident") == 1
    validated = validate_string(target.read_text(encoding="utf-8"), ValidationOptions(strict=True))
    assert validated.is_valid, [str(error) for error in validated.errors]
