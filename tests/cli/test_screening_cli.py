"""`tnrwatch screening-key` and `tnrwatch screening query` through the real Typer app: node A exports its key for
node B (alone on stdout), B imports it from stdin and asks A's server on loopback about the demo subject ("possible
match: contact focal point DE") and an unrelated one ("no match"); the names never appear in A's audit log. Both
databases (B on the same backend as A)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.crypto import blind_index as keys
from tnrwatch.services import partners, registry
from tnrwatch.services.blind_index import subject_digests
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store.models import AuditEntry
from tnrwatch.web.app import create_app

from ..web.conftest import serving

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
OPERATOR = Principal.operator()
OFFICER = Principal(account_id=None, username="off", role="officer", jurisdiction="DE")


def test_export_import_and_query(settings: Settings, node: Node, tmp_path: Path, second_database_url: str) -> None:
    assert settings.database_url is not None
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    partners.add_partner(node, OPERATOR, "node-b", "amber")
    token = partners.create_token(node, OPERATOR, "node-b").token
    node_a = CliRunner(env={"TNRWATCH_HOME": str(settings.home), "TNRWATCH_DATABASE_URL": settings.database_url})
    exported = node_a.invoke(app, ["screening-key", "export", "node-b"])
    assert exported.exit_code == 0, exported.output
    line = exported.stdout.strip()
    assert line.startswith("tnrwatch-screening-key-v1:")
    assert "\n" not in line
    assert node_a.invoke(app, ["screening-key", "export", "nobody"]).exit_code != 0

    node_b = CliRunner(env={"TNRWATCH_HOME": str(tmp_path / "node-b"), "TNRWATCH_DATABASE_URL": second_database_url})
    with serving(create_app(settings, node)) as url:
        added = node_b.invoke(app, ["partners", "add", "node-a", "--clearance", "amber", "--url", f"{url}/taxii2/api/"])
        assert added.exit_code == 0, added.output
        assert node_b.invoke(app, ["partners", "pull-token", "node-a"], input=token + "\n").exit_code == 0
        damaged = node_b.invoke(app, ["screening-key", "import", "node-a"], input=line[:-2] + "\n")
        assert damaged.exit_code == 2
        assert "key" in damaged.output
        kept = node_b.invoke(app, ["screening-key", "import", "node-a"], input=line + "\n")
        assert kept.exit_code == 0, kept.output
        assert line.split(":")[2] not in kept.output

        ask = ["screening", "query", "--partner", "node-a", "--name", "RAKHIMOVA Dilnoza", "--birth", "1988"]
        found = node_b.invoke(app, [*ask, "--nationality", "UZ"])
        assert found.exit_code == 0, found.output
        assert found.stdout.startswith("possible match: contact focal point DE")
        other = ["screening", "query", "--partner", "node-a", "--name", "Olivier Dupont", "--birth", "1970-04-02"]
        missed = node_b.invoke(app, other)
        assert (missed.exit_code, missed.stdout.strip()) == (0, "no match")
        alone = node_b.invoke(app, ["screening", "query", "--partner", "node-a", "--name", "Rakhimova", "--birth", "x"])
        assert alone.exit_code == 2
        assert "birth" in alone.output

    with node.store.reading() as session:
        notes = " ".join(session.scalars(select(AuditEntry.note)))
    listed = node_a.invoke(app, ["screening-key", "list"])
    assert line.split(":")[1] in listed.stdout
    assert "yes" in listed.stdout
    assert "Rakhimova".lower() not in notes.lower()
    assert "Dupont" not in notes
    assert "possible match" in notes
    assert "no match" in notes


def test_digests_prints_the_body_a_partner_posts_itself(tmp_path: Path) -> None:
    """`tnrwatch screening digests`: the query body from a key file alone (no database), HMACs and never the names."""
    key = keys.ScreeningKey(b"\x07" * 32)
    key_file = tmp_path / "node-a.screening-key"
    key_file.write_text(key.export() + "\n")
    runner = CliRunner()
    made = runner.invoke(
        app, ["screening", "digests", "--key-file", str(key_file), "--name", "RAKHIMOVA Dilnoza", "--birth", "1986",
              "--nationality", "UZ"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout) == {
        "key_id": key.key_id,
        "digests": subject_digests(key, ["RAKHIMOVA Dilnoza"], 1986, ["UZ"]),
    }
    assert "rakhimova" not in made.stdout.lower()
    missing = runner.invoke(app, ["screening", "digests", "--key-file", str(tmp_path / "none"), "--name", "A B"])
    assert missing.exit_code == 2
    assert "key-file" in missing.stderr
    key_file.write_text(key.export()[:-2])
    damaged = runner.invoke(
        app, ["screening", "digests", "--key-file", str(key_file), "--name", "A B", "--birth", "1986"]
    )
    assert damaged.exit_code == 2
    assert "not a screening key" in damaged.stderr
