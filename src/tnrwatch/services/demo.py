"""Synthetic demo data: `tnrwatch demo seed --incidents N --seed S` and `tnrwatch demo credentials`.

Every incident is marked `synthetic=True` with provenance "synthetic demo data (seed S)", so that exports, pages and
the status endpoint can say so. Nobody in the data is real: targets are described generically ("a Tajik journalist")
and named only by a made-up pseudonym ("Person P-7Q3K9M"); sources are fictional publishers at example.org, .com and
.net; actors are generic state bodies whose names end in "(synthetic)". How the incidents are drawn, and why, is in
`demo_generator.py` and `demo_data.py`.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tnrwatch.domain.actor import ActorIn
from tnrwatch.domain.incident import IncidentIn
from tnrwatch.domain.validation import validate
from tnrwatch.errors import ConflictError, InvalidInputError
from tnrwatch.services import accounts, recipient_keys, staff_auth
from tnrwatch.services import demo_data as data
from tnrwatch.services.changes import record_change
from tnrwatch.services.demo_generator import DemoGenerator, actor_uuid
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.incidents import LinkIds, Stamp, existing_incident_uuids, insert_incidents
from tnrwatch.store.models import Actor, Incident
from tnrwatch.store.types import utcnow
from tnrwatch.taxonomy import Taxonomy

DEFAULT_BATCH_SIZE = 5000
MAX_INCIDENTS = 10_000_000


def synthetic_actors(taxonomy: Taxonomy) -> list[ActorIn]:
    """The synthetic actors of every origin: its state first, then the state's bodies (children of the state)."""
    actors = []
    for origin in data.ORIGINS:
        state = actor_uuid(origin.code, "state")
        for actor_type, pattern in data.ACTOR_TYPES:
            raw = {
                "id": actor_uuid(origin.code, actor_type),
                "name": pattern.format(country=origin.name),
                "actor_type": actor_type,
                "country": origin.code,
                "parent_id": None if actor_type == "state" else state,
                "description": "A generic actor made up for synthetic demo data; it describes no real body.",
            }
            actors.append(validate(ActorIn, raw, taxonomy, what="synthetic actor"))
    return actors


@dataclass(frozen=True)
class SeedResult:
    seed: int
    requested: int
    written: int
    actors_created: int
    skipped: bool  # `if_empty` was set and the store already held incidents


def seed_demo(
    node: Node,
    principal: Principal,
    incidents: int,
    seed: int,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    if_empty: bool = False,
    progress: Callable[[int], None] | None = None,
) -> SeedResult:
    """Write `incidents` synthetic incidents made from `seed`, in transactions of `batch_size` incidents.

    Each batch commits on its own, so memory stays flat and a failure never leaves part of a batch; the incidents of
    batches committed before a failure stay. The change record (one per run) commits with the last batch, or, after a
    failure, on its own with the number actually written. With `if_empty`, do nothing when any incident exists.
    Raise `ConflictError` when the store already holds this seed's incidents. `progress` is called with each batch's
    size.
    """
    require(principal, "incident:write")
    if not 1 <= incidents <= MAX_INCIDENTS:
        raise InvalidInputError(f"the number of incidents must be between 1 and {MAX_INCIDENTS:,}")
    if not 1 <= batch_size <= 50_000:
        raise InvalidInputError("the batch size must be between 1 and 50,000")
    if if_empty:
        with node.store.reading() as session:
            if session.scalar(select(Incident.id).limit(1)) is not None:
                return SeedResult(seed, incidents, 0, 0, skipped=True)

    generator = DemoGenerator(seed)
    actors = synthetic_actors(node.taxonomy)
    note = f"synthetic demo data, seed {seed}"
    written = actors_created = 0
    links = LinkIds(persons={}, actors={})

    def make_batch(size: int) -> list[IncidentIn]:
        return [
            validate(IncidentIn, raw, node.taxonomy, what="synthetic incident") for raw in generator.incidents(size)
        ]

    # One worker thread makes the next batch while this thread writes the current one: the database drivers release
    # the GIL while the database works, so generating overlaps writing. Batches are still made one after the other
    # from one random stream, so the output does not depend on timing.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-generator") as pool:
        pending = pool.submit(make_batch, min(batch_size, incidents))
        try:
            while written < incidents:
                batch = pending.result()
                after = written + len(batch)
                if after < incidents:
                    pending = pool.submit(make_batch, min(batch_size, incidents - after))
                with node.store.writing() as session:
                    if written == 0:
                        if existing_incident_uuids(session, [batch[0].id] if batch[0].id else []):
                            raise ConflictError(
                                f"the database already holds the demo data of seed {seed}; use another --seed"
                            )
                        actors_created = _ensure_actors(session, principal, actors)
                        links = LinkIds(persons={}, actors=_actor_ids(session, actors))
                    stamp = Stamp(at=utcnow(), taxonomy_version=node.taxonomy.version, account_id=principal.account_id)
                    insert_incidents(session, batch, stamp, links)
                    if after == incidents:
                        record_change(session, principal, "seed", "incident", count=incidents, note=note)
                written = after
                if progress is not None:
                    progress(len(batch))
        except BaseException:
            pending.cancel()
            if written:  # record what did land, so that no committed write goes unrecorded
                with node.store.writing() as session:
                    record_change(
                        session, principal, "seed", "incident", count=written,
                        note=f"{note} (interrupted after {written:,} of {incidents:,})",
                    )  # fmt: skip
            raise
    return SeedResult(seed, incidents, written, actors_created, skipped=False)


def _ensure_actors(session: Session, principal: Principal, actors: list[ActorIn]) -> int:
    """Insert the synthetic actors that are missing (states before their bodies); return how many were added."""
    existing = set(session.scalars(select(Actor.uuid).where(Actor.uuid.in_([a.id for a in actors if a.id]))))
    missing = [actor for actor in actors if actor.id not in existing]
    if not missing:
        return 0
    now = utcnow()
    for is_state in (True, False):
        parents = _actor_ids(session, actors) if not is_state else {}
        rows: list[dict[str, Any]] = [
            {
                "uuid": actor.id,
                "name": actor.name,
                "actor_type": actor.actor_type,
                "country": actor.country,
                "parent_id": parents[actor.parent_id] if actor.parent_id else None,
                "aliases": [],
                "description": actor.description,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for actor in missing
            if (actor.actor_type == "state") == is_state
        ]
        if rows:
            session.execute(insert(Actor), rows)
    record_change(session, principal, "seed", "actor", count=len(missing), note="synthetic demo actors")
    return len(missing)


def _actor_ids(session: Session, actors: list[ActorIn]) -> dict[uuid.UUID, int]:
    uuids = [actor.id for actor in actors if actor.id]
    return dict(session.execute(select(Actor.uuid, Actor.id).where(Actor.uuid.in_(uuids))).all())


DEMO_USERNAME = "demo-analyst"


def demo_credentials(node: Node, principal: Principal) -> accounts.NewToken:
    """Create the demo analyst account unless it exists, and a new API token for it (shown once)."""
    with contextlib.suppress(ConflictError):  # made by an earlier `make demo`: a new token is all that is needed
        accounts.add_account(node, principal, DEMO_USERNAME, "analyst", "Demo analyst")
    return accounts.create_token(node, principal, DEMO_USERNAME, name="demo")


@dataclass(frozen=True)
class DemoStaff:
    username: str
    role: str
    jurisdiction: str | None
    password: str
    passphrase: str | None  # unlocks the officer's recipient key
    totp_secret: str  # the second factor, for an authenticator app
    totp_uri: str


DEMO_STAFF: tuple[tuple[str, str, str | None], ...] = (
    ("officer.de", "officer", "DE"),
    ("officer.fr", "officer", "FR"),
    ("supervisor.de", "supervisor", "DE"),
    ("analyst.eu", "analyst", None),
    ("auditor", "auditor", None),
    ("liaison.de", "liaison", "DE"),  # vets notices (services/demo_notices.py: the registry and notices it screens)
)


def demo_staff(node: Node, principal: Principal) -> list[DemoStaff]:
    """Staff accounts to try the pages with: officers of two Member States (each with a recipient key), the German
    officer's supervisor (the dashboard; no key), an EU analyst, an auditor and a law-enforcement liaison of DE (the
    notices). Passwords, passphrases and TOTP
    secrets are random on first use and kept in `demo-staff.json` under the node's home (mode 0600), so that a second
    `make demo` prints the same ones. Demo nodes only: a real node never keeps a second factor in the clear."""
    path = node.settings.home / "demo-staff.json"
    known: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}
    staff = []
    for username, role, jurisdiction in DEMO_STAFF:
        entry = known.get(username)
        changed = entry is None or not entry.get("totp_secret")
        if entry is None:
            entry = {"password": _words(4), "passphrase": _words(5) if role == "officer" else None}
            with contextlib.suppress(ConflictError):
                accounts.add_account(node, principal, username, role, f"Demo {role}", jurisdiction=jurisdiction)
            staff_auth.set_password(node, principal, username, entry["password"])
            if entry["passphrase"] and jurisdiction:
                recipient_keys.create_key(
                    node,
                    principal,
                    jurisdiction=jurisdiction,
                    username=username,
                    passphrase=entry["passphrase"],
                    label="demo key",
                )
        if not entry.get("totp_secret"):  # new, or kept by a version of the demo without a second factor
            enrolment = staff_auth.reset_totp(node, principal, username)
            entry |= {"totp_secret": enrolment.secret, "totp_uri": enrolment.uri}
        if changed:
            known[username] = entry
            _keep(path, known)
        staff.append(
            DemoStaff(
                username,
                role,
                jurisdiction,
                entry["password"],
                entry["passphrase"],
                entry["totp_secret"],
                entry["totp_uri"],
            )
        )
    return staff


def _keep(path: Path, known: dict[str, dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(known, handle, indent=1)


def _words(count: int) -> str:
    """Random words from a short fixed list, easy to type (about 6.7 bits each), plus a 4-digit number."""
    return "-".join(secrets.choice(data.PASSWORD_WORDS) for _ in range(count)) + f"-{secrets.randbelow(10_000):04d}"
