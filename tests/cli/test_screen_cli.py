"""`tnrwatch notices screen ID|--all` through the real Typer app on both databases: the demo case shows its registry
match by pseudonym with the explanation, the Article 3 flags and the recommendation; --all screens every undecided
notice; a wrong call exits 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services import notices
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    assert settings.database_url is not None
    return CliRunner(env={"TNRWATCH_HOME": str(settings.home), "TNRWATCH_DATABASE_URL": settings.database_url})


def _import(runner: CliRunner) -> None:
    for command in (
        ["registry", "import", str(EXAMPLES / "registry.json"), "--synthetic"],
        ["notices", "import", str(EXAMPLES / "red_notices.json"), "--synthetic"],
        ["notices", "import", str(EXAMPLES / "requests.csv"), "--synthetic"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output


def test_screen_one_notice_shows_the_match_flags_and_action(runner: CliRunner, node: Node) -> None:
    _import(runner)
    (rakhimova,) = [n for n in notices.list_notices(node, Principal.operator()) if n.interpol_reference == "2025/31842"]
    result = runner.invoke(app, ["notices", "screen", str(rakhimova.id)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "R-" in result.stdout
    assert "hrd" in result.stdout
    assert "name agrees" in result.stdout
    assert "Charge of extremism" in result.stdout
    assert "Article 3" in result.stdout
    assert "recommended action: do_not_act_pending_review" in result.stdout
    assert "Дильноза" not in result.stdout  # the registry's names stay in the vault


def test_screen_all_lists_every_undecided_notice(runner: CliRunner, node: Node) -> None:
    _import(runner)
    result = runner.invoke(app, ["notices", "screen", "--all"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "6 notices screened" in result.stderr
    assert result.stdout.count("do_not_act_pending_review") >= 3
    assert "proceed" in result.stdout


def test_screen_needs_an_id_or_all(runner: CliRunner, node: Node) -> None:
    assert runner.invoke(app, ["notices", "screen"]).exit_code == 2
    both = runner.invoke(app, ["notices", "screen", "--all", "00000000-0000-0000-0000-000000000000"])
    assert both.exit_code == 2
    missing = runner.invoke(app, ["notices", "screen", "00000000-0000-0000-0000-000000000000"])
    assert missing.exit_code != 0
    assert "no notice" in missing.stderr
