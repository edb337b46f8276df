"""`tnrwatch demo`: synthetic demo data, and an account to try the API with."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tnrwatch.cli.common import err, handle_errors, load_settings
from tnrwatch.errors import NotFoundError
from tnrwatch.services import demo, demo_notices, demo_sharing
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

app = typer.Typer(help="Synthetic demo data.", no_args_is_help=True)


@app.command("seed")
def seed(
    incidents: int = typer.Option(
        5000, "--incidents", "-n", min=1, max=demo.MAX_INCIDENTS, help="How many synthetic incidents to generate."
    ),
    seed: int = typer.Option(1, "--seed", min=0, help="The same seed and count give the same incidents."),
    if_empty: bool = typer.Option(
        False,
        "--if-empty",
        help="Seed no incidents when the database already holds some (the demo registry and notices still load once).",
    ),
    batch_size: int = typer.Option(
        demo.DEFAULT_BATCH_SIZE, "--batch-size", min=1, max=50_000, help="Incidents per transaction."
    ),
) -> None:
    """Generate synthetic, deterministic incidents, marked synthetic everywhere; no real person is named. Load the
    synthetic protected-persons registry and notices of examples/notices too, unless they are loaded already."""
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
            loaded = _seed_notices(node)
        finally:
            node.close()
    if loaded is not None and (loaded.registry_added or loaded.notices_added):
        err.print(
            f"loaded {loaded.registry_added} synthetic protected persons and {loaded.notices_added} synthetic notices "
            "from examples/notices",
            highlight=False,
            markup=False,
        )
    elif loaded is not None:
        err.print("the demo registry and notices are already loaded", highlight=False, markup=False)
    if result.skipped:
        err.print("the database already holds incidents: nothing seeded (--if-empty)")
        return
    seconds = time.perf_counter() - started
    actors = f" and {result.actors_created} synthetic actors" if result.actors_created else ""
    err.print(
        f"seeded {result.written:,} synthetic incidents{actors} with seed {seed} in {seconds:.1f} s "
        f"({result.written / seconds:,.0f} incidents/s); every one is marked synthetic"
    )


def _seed_notices(node: Node) -> demo_notices.NoticesSeed | None:
    """The demo registry and notices of the checkout's examples/notices; None (said why) when there are none."""
    try:
        return demo_notices.seed_notices(node, Principal.operator())
    except NotFoundError as exc:
        err.print(f"{exc.message}: no demo registry or notices loaded", highlight=False, markup=False)
        return None


@app.command("credentials")
def credentials() -> None:
    """Create the demo accounts if needed (an API analyst; officers of DE and FR with recipient keys, an EU analyst,
    an auditor, a liaison who vets notices) and the demo partners (TAXII readers, a screening partner with its key),
    print their sign-in details and the notice-vetting walkthrough, and a new API token alone on stdout."""
    settings = load_settings()
    with handle_errors():
        node = Node.open(settings)
        try:
            created = demo.demo_credentials(node, Principal.operator())
            staff = demo.demo_staff(node, Principal.operator())
            sharing = demo_sharing.demo_sharing(node, Principal.operator())
            screening = demo_notices.demo_screening(node, Principal.operator())
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
    _print_notices_walkthrough(base, screening)
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


def _print_notices_walkthrough(base: str, screening: demo_notices.DemoScreening) -> None:
    """The done-when case of notice vetting: what the liaison enters, and the partner's two blind queries."""
    notice = demo_notices.DEMO_NOTICE
    (warrant,) = notice["arrest_warrants"]
    err.print(
        f"\nThe liaison (liaison.de) vets notices at {base}/app/notices, screened against the synthetic registry of\n"
        f"examples/notices. Enter this red notice at {base}/app/notices/new (or POST it to /api/v1/notices):\n"
        f"  type red notice, Interpol reference {notice['interpol_reference']}, requesting state "
        f"{notice['requesting_state']}, forename {notice['forename']}, name {notice['name']},\n"
        f"  date of birth {notice['date_of_birth']}, sex {notice['sex']}, nationality {notice['nationalities'][0]}, "
        f"charge {warrant['charge']!r} (original {warrant['charge_translation']!r}, {warrant['legal_provision']})\n"
        "  Its vetting sheet shows the registry entry that holds her in Cyrillic script, why it matches, the\n"
        "  Article 3 red flags and the recommended action. (The imported examples hold her notice under 2025/31842:\n"
        "  a red notice under a reference already here is refused, so change the reference to enter it once more.)",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    err.print(
        f"\nThe partner node {screening.partner} asks whether this node protects a person, sending only HMACs under "
        f"the screening key\n(key {screening.key_id} in {screening.key_file.resolve()}; partner token "
        f"{screening.token}):",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
    for query in demo_notices.DEMO_QUERIES:
        err.print(
            f"  {partner_query_command(base, screening, query)}\n    answers: {query.answer}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def partner_query_command(base: str, screening: demo_notices.DemoScreening, query: demo_notices.DemoQuery) -> str:
    """The shell line a partner runs: the query's body made from its key, POSTed with its token."""
    installed = Path(sys.executable).with_name("tnrwatch")
    tnrwatch = str(installed) if installed.exists() else "tnrwatch"
    digests = [tnrwatch, "screening", "digests", "--key-file", str(screening.key_file.resolve()), *query.options()]
    post = [
        "curl", "-sS", "-H", f"Authorization: Bearer {screening.token}", "-H", "Content-Type: application/json",
        "--data-binary", "@-", f"{base}/partner/v1/screening",
    ]  # fmt: skip
    return f"{shlex.join(digests)} | {shlex.join(post)}"
