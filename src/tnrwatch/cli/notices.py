"""`tnrwatch notices`: notices under vetting (Interpol notices, diffusions, extradition and MLA requests): import a
batch, list them, show one. Each command opens the node and acts as the operator (audited: `show` records that the
subject was read); `screen` screens one notice or all undecided ones (services/screening.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from tnrwatch.cli.common import err, out, run_on_node
from tnrwatch.domain.notice import DECISIONS, NOTICE_TYPES, NoticeOut
from tnrwatch.services import notices, screening
from tnrwatch.services.policy import Principal

app = typer.Typer(
    help="Notices under vetting: Interpol notices, diffusions, extradition requests.", no_args_is_help=True
)


@app.command("import")
def import_notices(
    file: Path = typer.Argument(
        ..., help='A JSON file (a list, or Interpol\'s {"_embedded": {"notices": [...]}}) or CSV.'
    ),
    format: str | None = typer.Option(None, "--format", help="json or csv; default: from the file name."),
    notice_type: str | None = typer.Option(
        None, "--type", help=f"The type of records that do not say theirs: {', '.join(NOTICE_TYPES)}."
    ),
    synthetic: bool = typer.Option(False, "--synthetic", help="Mark every notice as made-up data (demo, training)."),
) -> None:
    """Import a batch of notices: all of them, or none and every bad record named by row and field."""
    result = run_on_node(
        lambda node: notices.import_notices(
            node, Principal.operator(), file, format=format, notice_type=notice_type, synthetic=synthetic,
            label=file.name,
        )
    )  # fmt: skip
    err.print(f"{result.imported} notices imported from {result.file} ({result.format})", highlight=False, markup=False)


@app.command("list")
def list_notices(
    decision: str | None = typer.Option(
        None, "--decision", help=f"Only those with this decision: {', '.join(DECISIONS)}."
    ),
    state: str | None = typer.Option(None, "--state", help="Only those from this requesting state (ISO alpha-2)."),
    limit: int = typer.Option(100, "--limit", min=1, max=10000, help="At most this many, newest received first."),
) -> None:
    """List notices (never their subjects)."""
    rows = run_on_node(
        lambda node: notices.list_notices(
            node, Principal.operator(), decision=decision, requesting_state=state, limit=limit
        )
    )
    table = Table("id", "type", "reference", "state", "charges", "received", "due", "decision")
    for notice in rows:
        table.add_row(
            str(notice.id),
            notice.notice_type + (" (synthetic)" if notice.synthetic else ""),
            notice.interpol_reference or "",
            notice.requesting_state,
            Text("; ".join(notice.charges)),
            notice.received.isoformat(),
            notice.decision_due.isoformat() if notice.decision_due else "",
            notice.decision,
        )
    out.print(table)


@app.command("show")
def show_notice(
    notice_id: uuid.UUID = typer.Argument(..., help="The notice's id, as `notices list` shows it."),
) -> None:
    """Show one notice with its subject (the read is recorded in the audit log)."""
    notice = run_on_node(lambda node: notices.get_notice(node, Principal.operator(), notice_id))
    out.print(_notice_table(notice))
    if notice.arrest_warrants:
        warrants = Table("issuing state", "charge", "original", "legal provision", title="arrest warrants")
        for warrant in notice.arrest_warrants:
            warrants.add_row(
                warrant.issuing_country_id,
                Text(warrant.charge),
                Text(warrant.charge_translation or ""),
                Text(warrant.legal_provision or ""),
            )
        out.print(warrants)


def _notice_table(notice: NoticeOut) -> Table:
    subject = notice.subject
    table = Table("field", "value", show_header=False, title=f"{notice.notice_type} {notice.interpol_reference or ''}")
    rows: list[tuple[str, str]] = [
        ("id", str(notice.id)),
        ("requesting state", notice.requesting_state),
        ("name", subject.name),
        ("forename", subject.forename or ""),
        ("other names", "; ".join(f"{n.name} ({n.script})" if n.script else n.name for n in subject.other_names)),
        (
            "date of birth",
            f"{subject.date_of_birth.isoformat()} ({subject.date_of_birth.precision})" if subject.date_of_birth else "",
        ),
        ("sex", subject.sex),
        ("nationalities", ", ".join(subject.nationalities)),
        ("place of birth", ", ".join(filter(None, [subject.place_of_birth, subject.country_of_birth]))),
        ("issued", notice.issued.isoformat() if notice.issued else ""),
        ("received", notice.received.isoformat()),
        ("decision due", notice.decision_due.isoformat() if notice.decision_due else ""),
        ("decision", notice.decision),
        ("reasons", notice.decision_reasons or ""),
        ("decided", f"{notice.decided_at:%Y-%m-%d %H:%M} by {notice.decided_by}" if notice.decided_at else ""),
        ("synthetic", "yes" if notice.synthetic else ""),
    ]
    for name, value in rows:
        table.add_row(name, Text(value))
    return table


# -- screening (services/screening.py) -------------------------------------------------------------------------------


@app.command("screen")
def screen_notices(
    notice_id: uuid.UUID | None = typer.Argument(None, help="The notice to screen, as `notices list` shows it."),
    all_notices: bool = typer.Option(False, "--all", help="Screen every notice not decided yet."),
) -> None:
    """Screen a notice (or --all) against the registry, incident targets and the requesting state's record: matches
    with their explanation, Article 3 red flags and the recommended action. Recorded in the audit log (counts)."""
    if (notice_id is None) == (not all_notices):
        err.print("give one notice id, or --all", highlight=False, markup=False)
        raise typer.Exit(2)
    if notice_id is not None:
        sheet = run_on_node(lambda node: screening.screen_notice(node, Principal.operator(), notice_id))
        _print_sheet(sheet)
        return
    with Progress(
        TextColumn("screening"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task("screen", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        sheets = run_on_node(lambda node: screening.screen_all(node, Principal.operator(), progress=advance))
    table = Table("id", "type", "state", "registry", "incidents", "red flags", "recommended action")
    for sheet in sheets:
        table.add_row(
            str(sheet.notice.id),
            sheet.notice.notice_type,
            sheet.notice.requesting_state,
            str(len(sheet.registry_matches)),
            str(len(sheet.incident_matches)),
            Text(", ".join(flag.id for flag in sheet.red_flags)),
            sheet.recommended_action,
        )
    out.print(table)
    err.print(f"{len(sheets)} notices screened", highlight=False, markup=False)


def _features(features: list[screening.FeatureOut]) -> Text:
    return Text("; ".join(f"{f.name} {f.outcome} ({f.weight:+.2f}): {f.detail}" for f in features))


def _print_sheet(sheet: screening.VettingSheet) -> None:
    notice = sheet.notice
    out.print(_notice_table(notice))
    matches = Table("pseudonym", "category", "protected from", "focal point", "score", "explanation", title="registry")
    for match in sheet.registry_matches:
        matches.add_row(
            match.pseudonym,
            match.category,
            match.origin_state or "any state",
            match.focal_point or "",
            f"{match.score:.2f}",
            _features(match.explanation),
        )
    out.print(matches)
    targets = Table("incident", "role", "date", "score", "explanation", title="incident targets (no identities)")
    for target in sheet.incident_matches:
        where = str(target.incident_id) if target.incident_id else f"an incident of {target.owner or 'this node'}"
        targets.add_row(where, target.role, target.incident_date.isoformat(), f"{target.score:.2f}",
                        _features(target.explanation))  # fmt: skip
    out.print(targets)
    record = sheet.state_record
    share = f"{record.abusive_share:.0%}" if record.abusive_share is not None else "none decided"
    out.print(
        Text(
            f"{record.requesting_state}: {record.notices} notices here, {record.decided} decided, "
            f"{record.do_not_act} do_not_act ({share}); {record.incidents} incidents; "
            f"{sheet.prior_refusals} earlier refusals of a matching subject"
        )
    )
    flags = Table(
        "red flag", "severity", "weight", "evidence", "sources", title=f"red flags (rules {sheet.rules_version})"
    )
    for flag in sheet.red_flags:
        flags.add_row(
            Text(flag.title),
            flag.severity,
            f"{flag.weight:g}",
            Text("; ".join(flag.evidence)),
            Text("; ".join(source.title for source in flag.sources)),
        )
    out.print(flags)
    out.print(Text(f"recommended action: {sheet.recommended_action}", style="bold"))
    for reason in sheet.reasons:
        out.print(Text(f"  - {reason}"))
