"""`tnrwatch demo`: synthetic demo data, and an account to try the API with."""

from __future__ import annotations

import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tnrwatch.cli.common import err, handle_errors, load_settings
from tnrwatch.services import demo, demo_sharing
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

app = typer.Typer(help="Synthetic demo data.", no_args_is_help=True)


@app.command("seed")
def seed(
    incidents: int = typer.Option(
        5000, "--incidents", "-n", min=1, max=demo.MAX_INCIDENTS, help="How many synthetic incidents to generate."
    ),
    seed: int = typer.Option(1, "--seed", min=0, help="The same seed and count give the same incidents."),
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when the database already holds incidents."),
    batch_size: int = typer.Option(
        demo.DEFAULT_BATCH_SIZE, "--batch-size", min=1, max=50_000, help="Incidents per transaction."
    ),
) -> None:
    """Generate synthetic, deterministic incidents, marked synthetic everywhere; no real person is named."""
    started = time.perf_counter()
    with handle_errors():
        node = Node.open(load_settings())
        try:
            with Progress(
                TextColumn("seeding synthetic incidents"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("seed", total=incidents)
                result = demo.seed_demo(
                    node,
                    Principal.operator(),
                    incidents,
                    seed,
                    batch_size=batch_size,
                    if_empty=if_empty,
                    progress=lambda n: progress.advance(task, n),
                )
        finally:
            node.close()
    if result.skipped:
        err.print("the database already holds incidents: nothing seeded (--if-empty)")
        return
    seconds = time.perf_counter() - started
    actors = f" and {result.actors_created} synthetic actors" if result.actors_created else ""
    err.print(
        f"seeded {result.written:,} synthetic incidents{actors} with seed {seed} in {seconds:.1f} s "
        f"({result.written / seconds:,.0f} incidents/s); every one is marked synthetic"
    )


@app.command("credentials")
def credentials() -> None:
    """Create the demo accounts if needed (an API analyst; officers of DE and FR with recipient keys, an EU analyst,
    an auditor), print their sign-in details, and a new API token alone on stdout."""
    settings = load_settings()
    with handle_errors():
        node = Node.open(settings)
        try:
            created = demo.demo_credentials(node, Principal.operator())
            staff = demo.demo_staff(node, Principal.operator())
            sharing = demo_sharing.demo_sharing(node, Principal.operator())
        finally:
            node.close()
    base = f"http://{settings.host}:{settings.port}"
    err.print(
        f"\nFile a report at {base}/report, follow it up at {base}/follow-up. Staff sign in at {base}/app/sign-in:",
        highlight=False,
        markup=False,
    )
    for member in staff:
        where = f" of {member.jurisdiction}" if member.jurisdiction else ""
        line = f"  {member.role}{where}: username {member.username}  password {member.password}"
        if member.passphrase:
            line += f"  key passphrase {member.passphrase}"
        line += f"\n    TOTP secret {member.totp_secret}\n    {member.totp_uri}"
        err.print(line, highlight=False, markup=False)
    err.print(
        "  Every staff sign-in also asks for a 6-digit code: add each account's TOTP secret (or its otpauth:// URI,\n"
        "  as a QR code) to an authenticator app, and type the code it shows.\n"
        "  (demo accounts only; kept in demo-staff.json under TNRWATCH_HOME)",
        highlight=False,
        markup=False,
    )
    if sharing.alert_id is not None:
        err.print(
            f"\nThe German officer published an AMBER alert ({base}/app/alerts/{sharing.alert_id}) to the EU level "
            "and the partner node fr-node; the EU analyst finds it in the inbox.",
            highlight=False,
            markup=False,
        )
    err.print(
        f"Partner nodes read {base}/taxii2/ (TAXII 2.1; HTTP Basic with the partner's name and token, or Bearer):",
        highlight=False,
        markup=False,
    )
    for name, clearance in demo_sharing.DEMO_PARTNERS:
        err.print(f"  {name} (up to {clearance.upper()}): token {sharing.tokens[name]}", highlight=False, markup=False)
    err.print(
        f"\nSign in to the API as the demo account {created.username!r} (role analyst) with this token, sent as\n"
        f"`Authorization: Bearer TOKEN`; the interactive documentation at {base}/api/v1/docs takes it under "
        "'Authorize'. For example:\n"
        f'  curl -H "Authorization: Bearer {created.token}" "{base}/api/v1/incidents?limit=5&facets=origin"\n'
        "The token (also printed alone on the next line, for scripts):",
        highlight=False,
        markup=False,
    )
    print(created.token)  # noqa: T201  plain print: the token alone on stdout, without Rich wrapping or markup
