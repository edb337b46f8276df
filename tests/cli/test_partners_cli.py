"""`tnrwatch partners add|list|token|revoke-token|disable|enable` through the real Typer app on both databases. A token
comes out once, alone on stdout, and never on stderr; bad input exits with 2 and names the field."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.services import partners
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    assert settings.database_url is not None
    return CliRunner(env={"TNRWATCH_HOME": str(settings.home), "TNRWATCH_DATABASE_URL": settings.database_url})


def test_add_list_token_revoke_disable(runner: CliRunner, node: Node) -> None:
    added = runner.invoke(
        app,
        ["partners", "add", "fr-node", "--clearance", "amber", "--client", "--url", "https://fr.example/taxii2/api/"],
    )
    assert added.exit_code == 0, added.output
    assert "partners token fr-node" in added.stderr
    assert runner.invoke(app, ["partners", "add", "ngo-watch", "--clearance", "green"]).exit_code == 0

    token = runner.invoke(app, ["partners", "token", "fr-node"])
    assert token.exit_code == 0, token.output
    secret = token.stdout.strip()
    assert secret.startswith("tnp_")
    assert token.stdout == secret + "\n"  # alone on stdout
    assert secret not in token.stderr
    assert "shown once" in token.stderr
    assert partners.authenticate(node, secret) is not None

    listed = runner.invoke(app, ["partners", "list"])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    fr_line = next(line for line in lines if "fr-node" in line)
    assert "amber" in fr_line
    assert "yes" in fr_line
    assert "https://fr.example/taxii2/api/" in fr_line
    assert any("ngo-watch" in line and "green" in line for line in lines)
    assert secret not in listed.stdout

    revoked = runner.invoke(app, ["partners", "revoke-token", "fr-node", "--prefix", secret[:10]])
    assert revoked.exit_code == 0, revoked.output
    assert "1 token(s)" in revoked.stderr
    assert partners.authenticate(node, secret) is None

    assert runner.invoke(app, ["partners", "disable", "ngo-watch"]).exit_code == 0
    assert partners.get_partner(node, "ngo-watch").disabled
    assert runner.invoke(app, ["partners", "enable", "ngo-watch"]).exit_code == 0
    assert not partners.get_partner(node, "ngo-watch").disabled


def test_bad_input_exits_2_and_names_the_field(runner: CliRunner, node: Node) -> None:
    result = runner.invoke(app, ["partners", "add", "Bad Name", "--clearance", "purple"])
    assert result.exit_code == 2
    assert "name:" in result.stderr
    assert "clearance:" in result.stderr
    assert partners.list_partners(node) == []
    unknown = runner.invoke(app, ["partners", "token", "nobody"])
    assert unknown.exit_code == 2
    assert "no partner named 'nobody'" in unknown.stderr
    assert unknown.stdout == ""
    runner.invoke(app, ["partners", "add", "fr-node", "--clearance", "green"])
    wrong_prefix = runner.invoke(app, ["partners", "revoke-token", "fr-node", "--prefix", "tnp_nothin"])
    assert wrong_prefix.exit_code == 2
    assert "no token in force" in wrong_prefix.stderr
