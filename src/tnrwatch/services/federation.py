"""Federation: this node pulls the TAXII collections its partners share with it, and imports what is new.

For each partner with a TAXII address and a pull token (the token that partner issued to this node, kept in the key
directory, never in the database), `sync_partner` lists the partner's collections with the OASIS client, reads every
readable one page by page from where the last sync stopped (`added_after` = the last `X-TAXII-Date-Added-Last` the
partner sent), and hands each page to the STIX importer (services/stix_import.py), which adds new objects, updates
newer versions, leaves known versions alone, and passes objects on to this node's own partners only as their
markings allow (domain/sharing.py, with the partner as the source). The cursor is saved after each imported page,
in its own transaction: a sync that dies mid-way re-reads at most one page, and re-reading is harmless because the
import is idempotent.

Authenticity: the partner is reached at the address the operator registered, over HTTPS in production, and this node
presents its token; objects come as the partner serves them. Bundles exchanged as files are signed with the node's
Ed25519 sharing key and verified against the pinned key (`tnrwatch stix import`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select
from taxii2client.common import _HTTPConnection  # the client's own connection: its session carries our auth
from taxii2client.v21 import ApiRoot, as_pages

from tnrwatch.errors import ConflictError, NotFoundError
from tnrwatch.services import stix_import
from tnrwatch.services.node import Node
from tnrwatch.store.models import Partner, PartnerCursor
from tnrwatch.store.types import utcnow

log = logging.getLogger(__name__)

PAGE_SIZE = 500
TOKEN_DIR = "partner-tokens"  # noqa: S105  # a folder name, not a secret
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@dataclass
class CollectionSync:
    collection_id: str
    title: str
    pages: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)  # "<stix id>: <reason>", never content


@dataclass
class SyncReport:
    partner: str
    collections: list[CollectionSync] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(c.added for c in self.collections)

    @property
    def failed(self) -> int:
        return sum(len(c.failed) for c in self.collections)


def token_path(node: Node, partner: str) -> Path:
    return node.settings.resolved_key_dir / TOKEN_DIR / partner


def set_pull_token(node: Node, partner: str, token: str) -> None:
    """Keep the token `partner` issued to this node, readable by the node's user only."""
    token = token.strip()
    if not _NAME.match(partner):
        raise NotFoundError(f"no partner named {partner!r}")
    if not token or any(ch.isspace() for ch in token):
        raise ConflictError("a token is one word without spaces")
    with_partner(node, partner)
    path = token_path(node, partner)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(token)


def with_partner(node: Node, name: str) -> Partner:
    with node.store.reading() as session:
        partner = session.scalar(select(Partner).where(Partner.name == name))
    if partner is None:
        raise NotFoundError(f"no partner named {name!r}")
    return partner


def sync_partner(node: Node, name: str, *, progress: Callable[[str, int], None] | None = None) -> SyncReport:
    """Pull every collection `name` lets this node read, from where the last sync stopped."""
    partner = with_partner(node, name)
    if partner.disabled:
        raise ConflictError(f"the partner {name!r} is disabled")
    if not partner.taxii_url:
        raise ConflictError(f"the partner {name!r} has no TAXII address to pull from (partners add --url)")
    path = token_path(node, name)
    if not path.exists():
        raise ConflictError(f"no pull token for {name!r} yet (tnrwatch partners pull-token {name})")
    token = path.read_text().strip()
    report = SyncReport(name)
    seen_last: dict[str, str] = {}

    def remember(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        last = response.headers.get("X-TAXII-Date-Added-Last")
        if last:
            seen_last["value"] = last

    connection = _HTTPConnection(auth=_Bearer(token), version="2.1", verify=node.settings.federation_verify_tls)
    connection.session.hooks["response"].append(remember)
    try:
        root = ApiRoot(partner.taxii_url, conn=connection)
        for collection in root.collections:
            if not collection.can_read:
                continue
            done = CollectionSync(collection.id, collection.title)
            report.collections.append(done)
            for objects in _pages(node, partner.id, collection, seen_last):
                done.pages += 1
                imported = stix_import.import_objects(node, objects, source_partner=name)
                done.added += imported.count("added")
                done.updated += imported.count("updated")
                done.unchanged += imported.count("unchanged")
                done.failed.extend(f"{o.id}: {o.message}" for o in imported.outcomes if o.outcome == "failed")
                if "value" in seen_last:
                    _save_cursor(node, partner.id, collection.id, seen_last["value"])
                if progress is not None:
                    progress(collection.title, len(objects))
    finally:
        connection.close()
    with node.store.writing() as session:
        row = session.get(Partner, partner.id)
        if row is not None:
            row.last_sync_at = utcnow()
    log.info("partner %s: %d object(s) added, %d failed", name, report.added, report.failed)
    return report


def pullable(node: Node) -> list[str]:
    """The partners this node can pull from: enabled, with a TAXII address and a pull token."""
    with node.store.reading() as session:
        rows = session.scalars(select(Partner).where(Partner.disabled.is_(False)).order_by(Partner.name)).all()
    return [p.name for p in rows if p.taxii_url and token_path(node, p.name).exists()]


def sync_due(node: Node) -> list[SyncReport]:
    """The scheduled job: sync every partner with an address and a token whose last sync is older than
    `federation_sync_minutes`. A partner that cannot be reached is logged (by name) and tried next time."""
    every = dt.timedelta(minutes=node.settings.federation_sync_minutes)
    now = utcnow()
    with node.store.reading() as session:
        rows = session.execute(select(Partner.name, Partner.last_sync_at)).all()
        last: dict[str, dt.datetime | None] = dict(rows)
    due = []
    for name in pullable(node):
        synced = last.get(name)
        if synced is None or synced + every <= now:
            due.append(name)
    reports = []
    for name in due:
        try:
            reports.append(sync_partner(node, name))
        except (requests.RequestException, ConflictError) as error:
            log.warning("partner %s: sync failed (%s); retried at the next run", name, type(error).__name__)
    return reports


def _pages(node: Node, partner_id: int, collection: Any, seen_last: dict[str, str]) -> Iterator[list[dict[str, Any]]]:
    with node.store.reading() as session:
        cursor = session.get(PartnerCursor, (partner_id, collection.id))
    filters = {"added_after": cursor.added_after} if cursor is not None else {}
    seen_last.pop("value", None)
    for envelope in as_pages(collection.get_objects, per_request=PAGE_SIZE, **filters):
        objects = envelope.get("objects", [])
        if objects:
            yield objects


def _save_cursor(node: Node, partner_id: int, collection_id: str, added_after: str) -> None:
    with node.store.writing() as session:
        row = session.get(PartnerCursor, (partner_id, collection_id))
        if row is None:
            session.add(PartnerCursor(partner_id=partner_id, collection_id=collection_id, added_after=added_after))
        else:
            row.added_after = added_after
