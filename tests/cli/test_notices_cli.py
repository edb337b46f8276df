"""`tnrwatch notices import|list|show` and `tnrwatch registry import|list|count` through the real Typer app on both
databases: the demo files import, lists carry no names, `show` opens the subject (recorded), bad input exits 2 and
names the row and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services import notices
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import AuditEntry

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    assert settings.database_url is not None
    return CliRunner(env={"TNRWATCH_HOME": str(settings.home), "TNRWATCH_DATABASE_URL": settings.database_url})


def test_import_list_show_and_the_registry(runner: CliRunner, node: Node) -> None:
    registry_import = runner.invoke(app, ["registry", "import", str(EXAMPLES / "registry.json"), "--synthetic"])
    assert registry_import.exit_code == 0, registry_import.output
    assert "6 registry entries imported" in registry_import.stderr
    listed = runner.invoke(app, ["registry", "list", "--origin", "UZ"])
    assert listed.exit_code == 0, listed.output
    assert "hrd" in listed.stdout
    assert "R-" in listed.stdout
    assert "Рахимова" not in listed.stdout
    counted = runner.invoke(app, ["registry", "count"])
    assert any(line.replace("│", " ").split() == ["all", "6"] for line in counted.stdout.splitlines())

    for name in ("red_notices.json", "requests.csv"):
        imported = runner.invoke(app, ["notices", "import", str(EXAMPLES / name), "--synthetic"])
        assert imported.exit_code == 0, imported.output
        assert "3 notices imported" in imported.stderr
    listed = runner.invoke(app, ["notices", "list", "--state", "UZ"])
    assert listed.exit_code == 0, listed.output
    assert "2025/31842" in listed.stdout
    assert "Extremism" in listed.stdout
    assert "RAKHIMOVA" not in listed.stdout
    notice_id = notices.list_notices(node, Principal.operator(), requesting_state="UZ")[0].id
    shown = runner.invoke(app, ["notices", "show", str(notice_id)])
    assert shown.exit_code == 0, shown.output
    assert "RAKHIMOVA" in shown.stdout
    assert "1986-03-14 (day)" in shown.stdout
    assert "Экстремизм" in shown.stdout
    with node.store.reading() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity_uuid == notice_id)).all()
    assert "read-subject" in actions


def test_bad_input_exits_2_and_names_the_row_and_field(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "notices.csv"
    path.write_text("notice_type,requesting_state,name\nred_notice,UZ,Karimov\npurple,UZ,Other\n")
    result = runner.invoke(app, ["notices", "import", str(path)])
    assert result.exit_code == 2
    assert "notices.csv.3.notice_type" in result.stderr
    assert "nothing was imported" in result.stderr
    unknown = runner.invoke(app, ["notices", "import", str(tmp_path / "notices.txt")])
    assert unknown.exit_code == 2
    assert "--format" in unknown.stderr
    assert runner.invoke(app, ["notices", "show", "not-an-id"]).exit_code == 2
    missing = runner.invoke(app, ["notices", "show", "00000000-0000-4000-8000-000000000000"])
    assert missing.exit_code == 2
    assert "no notice" in missing.stderr
