"""`tnrwatch demo seed` and `tnrwatch demo credentials`, run through the real Typer app on both databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.crypto import totp
from tnrwatch.services import accounts, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings
from tnrwatch.store.models import Incident


@pytest.fixture
def runner(settings: Settings) -> CliRunner:
    assert settings.database_url is not None
    return CliRunner(env={"TNRWATCH_HOME": str(settings.home), "TNRWATCH_DATABASE_URL": settings.database_url})


def incidents(node: Node) -> tuple[int, int]:
    """(all incidents, synthetic incidents)"""
    with node.store.reading() as session:
        total = session.scalar(select(func.count()).select_from(Incident)) or 0
        synthetic = session.scalar(select(func.count()).where(Incident.synthetic.is_(True))) or 0
    return total, synthetic


def test_seed_then_if_empty_does_nothing(runner: CliRunner, node: Node) -> None:
    result = runner.invoke(app, ["demo", "seed", "--incidents", "40", "--seed", "9", "--batch-size", "15"])
    assert result.exit_code == 0, result.output
    assert "seeded 40 synthetic incidents" in result.stderr
    assert "with seed 9" in result.stderr
    assert result.stdout == ""
    assert incidents(node) == (40, 40)

    again = runner.invoke(app, ["demo", "seed", "--incidents", "40", "--seed", "10", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "nothing seeded" in again.stderr
    assert incidents(node) == (40, 40)


def test_if_empty_seeds_an_empty_database(runner: CliRunner, node: Node) -> None:
    result = runner.invoke(app, ["demo", "seed", "-n", "12", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert incidents(node) == (12, 12)


def test_the_same_seed_twice_is_bad_input(runner: CliRunner, node: Node) -> None:
    assert runner.invoke(app, ["demo", "seed", "-n", "5", "--seed", "2"]).exit_code == 0
    result = runner.invoke(app, ["demo", "seed", "-n", "5", "--seed", "2"], terminal_width=200)
    assert result.exit_code == 2
    assert "already holds the demo data of seed 2" in result.stderr
    assert incidents(node) == (5, 5)


def test_a_count_out_of_range_is_refused(runner: CliRunner) -> None:
    result = runner.invoke(app, ["demo", "seed", "--incidents", "0"])
    assert result.exit_code == 2
    assert "--incidents" in result.stderr


def test_credentials_print_a_working_token_each_time(runner: CliRunner, node: Node) -> None:
    first = runner.invoke(app, ["demo", "credentials"])
    second = runner.invoke(app, ["demo", "credentials"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    tokens = [first.stdout.strip(), second.stdout.strip()]
    assert tokens[0] != tokens[1]
    for token in tokens:
        principal = accounts.authenticate(node, token)
        assert (principal.username, principal.role) == ("demo-analyst", "analyst")


def test_a_demo_officer_signs_in_with_totp(runner: CliRunner, node: Node, settings: Settings) -> None:
    first = runner.invoke(app, ["demo", "credentials"])
    assert first.exit_code == 0, first.output
    kept = json.loads((settings.home / "demo-staff.json").read_text())
    assert set(kept) == {"officer.de", "officer.fr", "supervisor.de", "analyst.eu", "auditor"}
    officer = kept["officer.de"]
    assert officer["totp_uri"].startswith("otpauth://totp/tnrwatch:officer.de?secret=" + officer["totp_secret"])
    assert officer["totp_secret"] in first.stderr
    assert officer["totp_uri"] in first.stderr
    assert "authenticator app" in first.stderr

    now = dt.datetime.now(dt.UTC)
    signed_in = staff_auth.sign_in(
        node, "officer.de", officer["password"], totp.code_at(officer["totp_secret"], now), now=now
    )
    assert (signed_in.principal.role, signed_in.principal.jurisdiction) == ("officer", "DE")

    second = runner.invoke(app, ["demo", "credentials"])  # the same sign-in details again
    assert second.exit_code == 0, second.output
    assert officer["totp_secret"] in second.stderr
    assert json.loads((settings.home / "demo-staff.json").read_text()) == kept
