"""The node's scheduled jobs, run by the server every `scheduled_minutes` (and by `tnrwatch retention run`): retention,
overdue acknowledgements, and pulling partners' collections when `federation_sync_minutes` have passed.

Each job is idempotent and safe to run in several processes at once (every web worker runs them): a report shredded
or a notice sent by one run is skipped by the next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tnrwatch.services import federation, notifications, retention
from tnrwatch.services.node import Node

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobsRun:
    shredded: int
    orphan_keys: int
    overdue_notices: int
    partners_synced: int = 0


def run_due_jobs(node: Node) -> JobsRun:
    """Run every scheduled job once. Logs counts only: never which report."""
    shredding = retention.run(node)
    if shredding.shredded or shredding.orphan_keys:
        log.info(
            "retention: %d report(s) shredded, %d orphaned key(s) forgotten",
            len(shredding.shredded),
            shredding.orphan_keys,
        )
    overdue = notifications.notify_overdue(node)
    if overdue:
        log.info("overdue acknowledgements: %d supervisor notification(s)", overdue)
    synced = federation.sync_due(node)
    return JobsRun(len(shredding.shredded), shredding.orphan_keys, overdue, len(synced))
