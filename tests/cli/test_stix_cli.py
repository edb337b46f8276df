"""Signed STIX exports through the real Typer app: `export --sign`, `stix public-key`, `stix verify`, on SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tnrwatch.cli.main import app
from tnrwatch.cli.stix import write_signature
from tnrwatch.crypto import audit_key
from tnrwatch.settings import Settings

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands open the test database, on a node with a name of its own."""
    monkeypatch.setenv("TNRWATCH_HOME", str(settings.home))
    monkeypatch.setenv("TNRWATCH_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("TNRWATCH_NODE_NAME", "Safe Haven Berlin")
    return CliRunner()


def public_key(runner: CliRunner, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, ["stix", "public-key"], env=env)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def signed_export(runner: CliRunner, tmp_path: Path) -> Path:
    imported = runner.invoke(app, ["import", str(EXAMPLES / "freedom_house_sample.csv"), "--mapping", "freedom_house",
                                   "--synthetic"])  # fmt: skip
    assert imported.exit_code == 0, imported.output
    target = tmp_path / "incidents.stix"
    result = runner.invoke(app, ["export", "--format", "stix", "-o", str(target), "--sign"])
    assert result.exit_code == 0, result.output
    assert "exported 10 incidents as stix" in result.stderr
    assert f"signed with this node's sharing key: {target}.sig" in result.stderr
    return target


def test_export_sign_then_verify_with_the_printed_key(runner: CliRunner, settings: Settings, tmp_path: Path) -> None:
    target = signed_export(runner, tmp_path)
    signature = json.loads((tmp_path / "incidents.stix.sig").read_text(encoding="utf-8"))
    assert signature["node"] == "Safe Haven Berlin"
    key_file = settings.resolved_key_dir / "sharing-signing.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    audit = settings.resolved_key_dir / "audit-signing.key"  # sealed the import's audit entries
    assert audit.read_bytes() != key_file.read_bytes()

    shown = runner.invoke(app, ["stix", "public-key"])
    assert shown.exit_code == 0, shown.output
    key = shown.stdout.strip()
    assert key == signature["public_key"]
    assert f"fingerprint {signature['fingerprint']}" in shown.stderr

    result = runner.invoke(app, ["stix", "verify", str(target), "--public-key", key])
    assert result.exit_code == 0, result.output
    assert (
        f"valid, signed by Safe Haven Berlin (fingerprint {signature['fingerprint']}) at {signature['signed_at']}"
        in result.stdout
    )
    pinned = tmp_path / "partner.pub"
    pinned.write_text(key + "\n", encoding="utf-8")
    moved = tmp_path / "elsewhere.sig"
    (tmp_path / "incidents.stix.sig").rename(moved)
    from_file = runner.invoke(app, ["stix", "verify", str(target), "--signature", str(moved),
                                    "--public-key-file", str(pinned)])  # fmt: skip
    assert from_file.exit_code == 0, from_file.output


def test_a_modified_file_fails_with_the_reason(runner: CliRunner, tmp_path: Path) -> None:
    target = signed_export(runner, tmp_path)
    key = public_key(runner)
    bundle = json.loads(target.read_text(encoding="utf-8"))
    bundle["objects"] = bundle["objects"][1:]  # an incident dropped on the way
    target.write_text(json.dumps(bundle), encoding="utf-8")
    result = runner.invoke(app, ["stix", "verify", str(target), "--public-key", key])
    assert result.exit_code == 1
    assert "the file does not match its signature" in result.stderr
    assert "sha256: digest mismatch" in result.stderr
    assert "valid" not in result.stdout


def test_another_nodes_key_fails(runner: CliRunner, tmp_path: Path) -> None:
    target = signed_export(runner, tmp_path)
    other = public_key(runner, env={"TNRWATCH_HOME": str(tmp_path / "other-node")})
    assert other != public_key(runner)
    result = runner.invoke(app, ["stix", "verify", str(target), "--public-key", other])
    assert result.exit_code == 1
    assert "the file was not signed by the trusted key" in result.stderr
    assert audit_key.fingerprint(base64.b64decode(other)) in result.stderr


def test_a_tampered_signature_fails(runner: CliRunner, tmp_path: Path) -> None:
    target = signed_export(runner, tmp_path)
    sig = tmp_path / "incidents.stix.sig"
    body = json.loads(sig.read_text(encoding="utf-8"))
    sig.write_text(json.dumps(body | {"node": "Someone Else"}), encoding="utf-8")
    result = runner.invoke(app, ["stix", "verify", str(target), "--public-key", public_key(runner)])
    assert result.exit_code == 1
    assert "signature: bad signature" in result.stderr
    sig.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["stix", "verify", str(target), "--public-key", public_key(runner)])
    assert result.exit_code == 1
    assert "is not a signature file" in result.stderr


def test_bad_usage_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "x.stix"
    target.write_bytes(b"{}")
    neither = runner.invoke(app, ["stix", "verify", str(target)])
    assert neither.exit_code == 2
    assert "--public-key: give either --public-key BASE64 or --public-key-file PATH" in neither.stderr
    bad = runner.invoke(app, ["stix", "verify", str(target), "--public-key", "abc"])
    assert bad.exit_code == 2
    assert "--public-key: expected 32 bytes in base64" in bad.stderr
    missing = runner.invoke(app, ["stix", "verify", str(target), "--public-key", public_key(runner)])
    assert missing.exit_code == 2
    assert "--signature:" in missing.stderr


@pytest.mark.parametrize("arguments", [["--format", "json", "-o", "out.json"], ["--format", "stix"]])
def test_sign_only_for_stix_to_a_file(runner: CliRunner, tmp_path: Path, arguments: list[str]) -> None:
    arguments = [str(tmp_path / a) if a.startswith("out") else a for a in arguments]
    result = runner.invoke(app, ["export", *arguments, "--sign"])
    assert result.exit_code == 2
    assert "cannot sign this export" in result.stderr
    assert "--sign: signs STIX bundles written to a file" in result.stderr
    assert not list(tmp_path.glob("*.sig"))


# -- stix import: a second node exports and signs, this node imports ------------------------------------------------


@pytest.fixture
def partner_file(tmp_path: Path, sqlite_template: Path, runner: CliRunner) -> Path:
    """A signed bundle from another node (its own home and SQLite database), registered here as partner `fh-node`
    with the key that node printed."""
    home = tmp_path / "partner-node"
    home.mkdir()
    database = home / "partner.sqlite3"
    shutil.copyfile(sqlite_template, database)
    env = {
        "TNRWATCH_HOME": str(home),
        "TNRWATCH_DATABASE_URL": f"sqlite:///{database}",
        "TNRWATCH_NODE_NAME": "Freedom Node",
    }
    imported = runner.invoke(app, ["import", str(EXAMPLES / "freedom_house_sample.csv"), "--mapping", "freedom_house",
                                   "--synthetic"], env=env)  # fmt: skip
    assert imported.exit_code == 0, imported.output
    target = tmp_path / "from-partner.stix"
    exported = runner.invoke(app, ["export", "--format", "stix", "-o", str(target), "--sign"], env=env)
    assert exported.exit_code == 0, exported.output
    key = public_key(runner, env=env)
    added = runner.invoke(app, ["partners", "add", "fh-node", "--clearance", "amber", "--public-key", key])
    assert added.exit_code == 0, added.output
    return target


def summary_row(output: str, label: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.strip("│ ").startswith(label + " "))
    return [cell.strip() for cell in line.strip("│ ").split("│")]


def test_import_a_partners_signed_bundle_twice(runner: CliRunner, partner_file: Path) -> None:
    objects = len(json.loads(partner_file.read_text(encoding="utf-8"))["objects"])

    first = runner.invoke(app, ["stix", "import", str(partner_file), "--partner", "fh-node"])

    assert first.exit_code == 0, first.output
    assert summary_row(first.stdout, "incident") == ["incident", "10", "0", "0", "0"]
    assert summary_row(first.stdout, "all") == ["all", str(objects), "0", "0", "0"]
    again = runner.invoke(app, ["stix", "import", str(partner_file), "--partner", "fh-node"])
    assert again.exit_code == 0, again.output
    assert summary_row(again.stdout, "all") == ["all", "0", "0", str(objects), "0"]


def test_import_refuses_a_changed_file_or_an_unknown_partner(runner: CliRunner, partner_file: Path) -> None:
    bundle = json.loads(partner_file.read_text(encoding="utf-8"))
    bundle["objects"] = bundle["objects"][:-1]
    partner_file.write_text(json.dumps(bundle), encoding="utf-8")

    changed = runner.invoke(app, ["stix", "import", str(partner_file), "--partner", "fh-node"])

    assert changed.exit_code == 1
    assert "the file does not match its signature" in changed.stderr
    assert "sha256: digest mismatch" in changed.stderr
    unknown = runner.invoke(app, ["stix", "import", str(partner_file), "--partner", "nobody"])
    assert unknown.exit_code == 2
    assert "no partner named 'nobody'" in unknown.stderr


def test_import_names_each_bad_object_and_exits_1(runner: CliRunner, partner_file: Path, tmp_path: Path) -> None:
    bundle = json.loads(partner_file.read_text(encoding="utf-8"))
    incident = next(obj for obj in bundle["objects"] if obj["type"] == "incident")
    del incident["name"]
    partner_file.write_text(json.dumps(bundle), encoding="utf-8")
    # signed again by the partner's own key, as a partner with a bug would sign what it got wrong
    write_signature(Settings(home=tmp_path / "partner-node", node_name="Freedom Node"), partner_file)

    result = runner.invoke(app, ["stix", "import", str(partner_file), "--partner", "fh-node"])

    assert result.exit_code == 1
    assert summary_row(result.stdout, "incident") == ["incident", "9", "0", "0", "1"]
    assert f"failed {incident['id']}:" in result.stderr
    assert "name" in result.stderr


def test_export_misp_events_to_a_file(runner: CliRunner, tmp_path: Path) -> None:
    imported = runner.invoke(app, ["import", str(EXAMPLES / "freedom_house_sample.csv"), "--mapping", "freedom_house",
                                   "--synthetic"])  # fmt: skip
    assert imported.exit_code == 0, imported.output
    target = tmp_path / "events.json"

    result = runner.invoke(app, ["export", "--format", "misp", "-o", str(target)])

    assert result.exit_code == 0, result.output
    assert "exported 10 incidents as misp" in result.stderr
    events = json.loads(target.read_text(encoding="utf-8"))["response"]
    assert len(events) == 10
    assert all(any(tag["name"].startswith("tlp:") for tag in event["Tag"]) for event in events)
