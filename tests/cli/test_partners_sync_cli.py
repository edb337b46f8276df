"""`tnrwatch partners pull-token` and `partners sync` through the real Typer app: node B keeps the token node A
issued (never echoed, mode 0600), pulls A's collections from A's server on loopback, prints what it took, and a
second sync takes nothing. Both databases (B on the same backend as A)."""

from __future__ import annotations

import stat
from pathlib import Path

from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services import federation, partners, taxii
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from ..web.conftest import serving
from ..web.test_taxii import stix_object

OPERATOR = Principal.operator()


def test_pull_token_then_sync(settings: Settings, node: Node, tmp_path: Path, second_database_url: str) -> None:
    partners.add_partner(node, OPERATOR, "node-b", "amber")
    token = partners.create_token(node, OPERATOR, "node-b").token
    with node.store.writing() as session:
        objects = [stix_object(n, tlp="green") for n in range(7)]
        taxii.share(session, node, objects, "green", source="local", named=frozenset())

    home_b = tmp_path / "node-b"
    runner = CliRunner(env={"TNRWATCH_HOME": str(home_b), "TNRWATCH_DATABASE_URL": second_database_url})
    with serving(create_app(settings, node)) as url:
        added = runner.invoke(app, ["partners", "add", "node-a", "--clearance", "amber", "--url", f"{url}/taxii2/api/"])
        assert added.exit_code == 0, added.output
        kept = runner.invoke(app, ["partners", "pull-token", "node-a"], input=token + "\n")
        assert kept.exit_code == 0, kept.output
        assert token not in kept.output
        path = home_b / "keys" / federation.TOKEN_DIR / "node-a"
        assert path.read_text() == token
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

        first = runner.invoke(app, ["partners", "sync"])
        assert first.exit_code == 0, first.output
        row = next(line for line in first.stdout.splitlines() if "node-a" in line and "ommunity" in line)
        assert " 7 " in row  # seven added
        second = runner.invoke(app, ["partners", "sync", "node-a"])
        assert second.exit_code == 0, second.output
        row = next(line for line in second.stdout.splitlines() if "node-a" in line and "ommunity" in line)
        assert " 7 " not in row
    assert token not in first.output + second.output


def test_sync_without_an_address_says_so(settings: Settings, node: Node) -> None:
    assert settings.database_url is not None
    runner = CliRunner(env={"TNRWATCH_HOME": str(settings.home), "TNRWATCH_DATABASE_URL": settings.database_url})
    partners.add_partner(node, OPERATOR, "node-a", "amber")
    failed = runner.invoke(app, ["partners", "sync", "node-a"])
    assert failed.exit_code != 0
    assert "no TAXII address" in failed.output
