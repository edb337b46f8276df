"""`tnrwatch demo seed` and `tnrwatch demo credentials`, run through the real Typer app on both databases."""

from __future__ import annotations

import datetime as dt
import json
import shlex

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.crypto import totp
from tnrwatch.services import accounts, demo_notices, staff_auth
from tnrwatch.services.node import Node
from tnrwatch.settings import Settings
from tnrwatch.store.models import Incident, Notice, ProtectedPerson
from tnrwatch.web.app import create_app


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
    assert set(kept) == {"officer.de", "officer.fr", "supervisor.de", "analyst.eu", "auditor", "liaison.de"}
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


def test_the_demo_loads_the_notices_and_prints_a_partner_query_that_works(
    runner: CliRunner, node: Node, settings: Settings
) -> None:
    seeded = runner.invoke(app, ["demo", "seed", "-n", "12", "--if-empty"])
    assert seeded.exit_code == 0, seeded.output
    assert "loaded 6 synthetic protected persons and 6 synthetic notices" in seeded.stderr
    again = runner.invoke(app, ["demo", "seed", "-n", "12", "--if-empty"])
    assert "already loaded" in again.stderr
    with node.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(Notice)) == 6
        assert session.scalar(select(func.count()).select_from(ProtectedPerson)) == 6

    shown = runner.invoke(app, ["demo", "credentials"])
    assert shown.exit_code == 0, shown.output
    assert f"Interpol reference {demo_notices.DEMO_NOTICE['interpol_reference']}" in shown.stderr
    assert "/app/notices/new" in shown.stderr
    lines = [line.strip() for line in shown.stderr.splitlines() if " screening digests " in line]
    assert len(lines) == len(demo_notices.DEMO_QUERIES)
    answers = []
    with TestClient(create_app(node.settings, node)) as client:
        for line in lines:  # run the printed shell line: its tnrwatch half by the CLI, its curl half by the client
            words = shlex.split(line)
            digests, curl = words[: words.index("|")], words[words.index("|") + 1 :]
            made = runner.invoke(app, digests[1:])
            assert made.exit_code == 0, made.output
            headers = dict(curl[i + 1].split(": ", 1) for i, word in enumerate(curl) if word == "-H")
            assert curl[-1] == f"http://{settings.host}:{settings.port}/partner/v1/screening"
            response = client.post("/partner/v1/screening", content=made.stdout, headers=headers)
            assert response.status_code == 200, response.text
            answers.append(response.json()["answer"])
    assert answers == ["possible match", "no match"]
    # A second run prints the same partner lines (the key and token are kept, not issued again).
    assert [line.strip() for line in runner.invoke(app, ["demo", "credentials"]).stderr.splitlines()
            if " screening digests " in line] == lines  # fmt: skip
