"""`tnrwatch`: the command line. Each group of commands lives in its own module and is registered here."""

from __future__ import annotations

import logging

import typer

from tnrwatch.cli import audit, db, demo, evidence, io, keys, monitor, retention, serve, stix, taxonomy, users, worker
from tnrwatch.cli import notices as notice_commands
from tnrwatch.cli import partners as partner_commands
from tnrwatch.cli import registry as registry_commands
from tnrwatch.cli import screening as screening_commands

app = typer.Typer(
    name="tnrwatch",
    help="Document, map and share alerts on transnational repression.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # tracebacks could print report content or names; errors are handled explicitly
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(taxonomy.app, name="taxonomy")
app.add_typer(users.users_app, name="users")
app.add_typer(users.tokens_app, name="tokens")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(keys.reports_app, name="reports")
app.add_typer(keys.jurisdictions_app, name="jurisdictions")
app.add_typer(audit.app, name="audit")
app.add_typer(evidence.app, name="evidence")
app.add_typer(retention.app, name="retention")
app.add_typer(monitor.app, name="monitor")
app.add_typer(stix.app, name="stix")
app.add_typer(partner_commands.app, name="partners")
app.add_typer(notice_commands.app, name="notices")
app.add_typer(registry_commands.app, name="registry")
app.add_typer(screening_commands.key_app, name="screening-key")
app.add_typer(screening_commands.query_app, name="screening")
app.command("serve")(serve.serve)
app.command("worker")(worker.worker)
app.command("import")(io.import_command)
app.command("export")(io.export_command)


def main() -> None:
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()
