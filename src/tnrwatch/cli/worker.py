"""`tnrwatch worker`: deliver subscriptions (inbox, e-mail, signed webhooks) from the outbox, in a process of its own.

Run one or more next to `tnrwatch serve` (with TNRWATCH_WORKER=off there) against PostgreSQL; they share the work
(services/worker.py). `--once` fans out and sends what is due now, prints the counts and exits (for cron, tests).
SIGTERM and Ctrl-C stop it between two rounds; a delivery it was sending is sent again by the next worker once its
lease runs out, with the same delivery id.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import typer

from tnrwatch.cli.common import err, handle_errors, load_settings, out
from tnrwatch.services import outbox
from tnrwatch.services import worker as delivery_worker
from tnrwatch.services.node import Node


def worker(
    once: bool = typer.Option(False, "--once", help="Do what is due now, print the counts and exit."),
    poll: float | None = typer.Option(
        None,
        "--poll",
        min=0.01,
        max=60.0,
        help="Seconds between looks for work (TNRWATCH_WORKER_POLL_SECONDS).",
    ),
) -> None:
    """Deliver subscriptions: fan out new events, send e-mails and webhooks, retry, dead-letter."""
    with handle_errors():
        settings = load_settings()
        logging.getLogger("tnrwatch").setLevel(settings.log_level.upper())
        node = Node.open(settings)
        try:
            if once:
                result = delivery_worker.run_once(node)
                out.print(
                    f"{result.events} event(s) fanned out into {result.deliveries} delivery(ies); "
                    f"{result.sent} sent, {result.failed} to retry, {result.dead} dead",
                    highlight=False,
                )
                return
            stop = threading.Event()

            def _stop(signum: int, _frame: FrameType | None) -> None:
                stop.set()
                outbox.WAKEUP.set()

            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            err.print(f"tnrwatch worker delivering ({node.store.dialect}); stop with Ctrl-C or SIGTERM")
            delivery_worker.run_forever(node, stop, poll)
        finally:
            node.close()
