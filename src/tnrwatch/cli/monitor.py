"""`tnrwatch monitor`: escalation signals over the node's incidents (services/monitoring.py, domain/escalation.py).

`signals` assesses every origin state, host state, origin -> host pair and tactic family for one month (default: the
last complete month) and lists the escalations with their evidence, as a table or as JSON (`--json`).
"""

from __future__ import annotations

import datetime as dt
import json

import typer
from rich.table import Table

from tnrwatch.cli.common import err, handle_errors, load_settings, out
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.services import monitoring
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal

app = typer.Typer(help="Monitoring: escalation signals per origin, host, pair and tactic family.", no_args_is_help=True)

_SPARK = " ▁▂▃▄▅▆▇█"


def parse_month(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise InvalidInputError(
            "the month is invalid", [FieldError(("as_of",), f"{text!r} is not a month like 2026-10 (YYYY-MM)")]
        ) from None


def sparkline(counts: list[int]) -> str:
    top = max(counts, default=0)
    if top == 0:
        return _SPARK[0] * len(counts)
    return "".join(_SPARK[round(count / top * (len(_SPARK) - 1))] for count in counts)


@app.command("signals")
def signals_command(
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="YYYY-MM", help="The month to assess (default: the last complete month)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per signal, with its series)."),
) -> None:
    """Escalations in one month against each series' own 24-month baseline (negative binomial, BH-corrected)."""
    with handle_errors():
        month = parse_month(as_of) if as_of is not None else monitoring.default_as_of()
        node = Node.open(load_settings())
        try:
            found = monitoring.signals(node, Principal.operator(), as_of=month)
        finally:
            node.close()
    if as_json:
        typer.echo(json.dumps([monitoring.signal_to_json(s) for s in found], ensure_ascii=False, indent=2))
        return
    if not found:
        err.print(f"no escalation signal for {month:%Y-%m}", highlight=False)
        return
    table = Table(
        "series",
        "value",
        "month",
        "span",
        "observed",
        "expected",
        "model",
        "alpha",
        "z",
        "p",
        "p (BH)",
        "last 25 months",
    )
    for signal in found:
        table.add_row(
            signal.key.kind,
            signal.key.value,
            f"{signal.month:%Y-%m}",
            f"{signal.span} mo",
            str(signal.observed),
            f"{signal.expected:.1f}",
            "NB" if signal.model == "negative_binomial" else "Poisson",
            f"{signal.dispersion:.2f}",
            f"{signal.statistic:.1f}",
            f"{signal.p_value:.2g}",
            f"{signal.adjusted_p_value:.2g}",
            sparkline([count for _, count in signal.series][-25:]),
        )
    out.print(table)
