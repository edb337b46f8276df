"""Reading the TAXII object store: one page of a collection as a partner may see it, and the signed `next` cursor.

What a partner sees of a collection: rows within its clearance (checked at every read, so a lowered clearance
holds at once), never, in the community, what it sent itself; of each object the versions `match[version]` asks
for (default: the last one it may see). Rows come back as stored JSON text, unparsed, in `date_added` order.

The `next` cursor is stateless: it carries the partner, the collection, a digest of the query (filters, not page
size) and the position (last `date_added` and row id), signed with the node's cursor key (crypto/signed_cursor.py).
Any process of the node continues any page; a cursor that was altered, or made for another query, partner,
collection or node, is refused with a clear error. TAXII 2.1 asks clients to send `next` "along with the same
original query options", which is what binding the cursor to the query enforces.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, FromClause, Table, exists, or_, select, tuple_

from tnrwatch.crypto import signed_cursor
from tnrwatch.domain.sharing import TLP_ORDER, PartnerView, within_clearance
from tnrwatch.errors import FieldError, ForbiddenError, InvalidInputError
from tnrwatch.services.node import Node
from tnrwatch.services.taxii import (
    COMMUNITY,
    ID_PATTERN,
    STIX_MEDIA_TYPE,
    TYPE_PATTERN,
    CollectionInfo,
    parse_timestamp,
    stix_timestamp,
)
from tnrwatch.store.models import StixObject

Endpoint = Literal["objects", "object", "manifest", "versions"]
VERSION_WORDS = ("first", "last", "all")
# Which filters each endpoint takes (TAXII 2.1, sections 5.3-5.7).
FILTERS: Mapping[Endpoint, frozenset[str]] = {
    "objects": frozenset({"match[id]", "match[type]", "match[version]", "match[spec_version]"}),
    "manifest": frozenset({"match[id]", "match[type]", "match[version]", "match[spec_version]"}),
    "object": frozenset({"match[version]", "match[spec_version]"}),
    "versions": frozenset({"match[spec_version]"}),
}


@dataclass(frozen=True)
class Query:
    """A parsed request: filters, page size and where to continue."""

    endpoint: Endpoint
    added_after: dt.datetime | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)  # words (first, last, all) and timestamps as given
    spec_versions: tuple[str, ...] = ()
    limit: int | None = None
    next: str | None = None

    def digest(self) -> str:
        """What the query asks for (not its page size or position): a `next` cursor is bound to it."""
        shape = [self.endpoint, self.added_after.isoformat() if self.added_after else "", self.ids, self.types]
        shape += [self.versions, self.spec_versions]
        return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:32]


def parse_query(endpoint: Endpoint, params: Mapping[str, str], object_id: str | None = None) -> Query:
    """The query parameters of a TAXII request; InvalidInputError naming every bad one (unknown filters too)."""
    errors: list[FieldError] = []
    allowed = FILTERS[endpoint] | {"added_after", "limit", "next"}
    for name in params:
        if name not in allowed:
            errors.append(FieldError((name,), "not a filter this endpoint takes"))
    added_after = None
    if "added_after" in params:
        try:
            added_after = parse_timestamp(params["added_after"], "added_after")
        except ValueError as exc:
            errors.append(FieldError(("added_after",), str(exc)))
    limit = None
    if "limit" in params:
        raw = params["limit"]
        if not raw.isdigit() or int(raw) < 1:
            errors.append(FieldError(("limit",), "must be a whole number of at least 1"))
        else:
            limit = int(raw)
    ids = _listed(params, "match[id]", errors, lambda value: ID_PATTERN.fullmatch(value) is not None, "STIX ids")
    types = _listed(params, "match[type]", errors, lambda value: TYPE_PATTERN.fullmatch(value) is not None, "types")
    versions: tuple[str, ...] = ("all",) if endpoint == "versions" else ("last",)
    if "match[version]" in params:
        versions = _listed(params, "match[version]", errors, _is_version, "first, last, all or timestamps")
    spec_versions = _listed(params, "match[spec_version]", errors, lambda value: value in ("2.0", "2.1"), "2.0 or 2.1")
    if object_id is not None:
        if not ID_PATTERN.fullmatch(object_id):
            errors.append(FieldError(("object_id",), "not a STIX id"))
        ids = (object_id,)
    if errors:
        raise InvalidInputError("the request's filters are invalid", errors)
    return Query(endpoint, added_after, ids, types, versions, spec_versions, limit, params.get("next") or None)


def _listed(params: Mapping[str, str], name: str, errors: list[FieldError], check: Any, what: str) -> tuple[str, ...]:
    if name not in params:
        return ()
    values = tuple(value.strip() for value in params[name].split(","))
    bad = [value for value in values if not check(value)]
    if bad:
        errors.append(FieldError((name,), f"expected comma-separated {what}; not {bad[0][:80]!r}"))
    return tuple(sorted(set(values)))


def _is_version(value: str) -> bool:
    if value in VERSION_WORDS:
        return True
    try:
        parse_timestamp(value, "match[version]")
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Entry:
    """A version of an object as the manifest and the versions endpoint list it."""

    stix_id: str
    modified: dt.datetime
    date_added: dt.datetime


@dataclass(frozen=True)
class Page:
    """A page: the stored JSON texts (objects endpoints) or the entries (manifest, versions), the `more` flag, the
    cursor for the next page, and the `date_added` of its first and last rows (for the X-TAXII-Date-Added headers)."""

    bodies: list[str]
    entries: list[Entry]
    more: bool
    next: str | None
    first_added: dt.datetime | None
    last_added: dt.datetime | None


# The table itself (SQLAlchemy Core): the objects endpoint reads many rows, and ORM attribute adaptation costs more
# per request than the query does.
STIX: Table = cast(Table, StixObject.__table__)


def read_page(node: Node, partner: PartnerView, collection: CollectionInfo, query: Query) -> Page:
    """One page of rows of a readable collection that the partner may see, in `date_added` order: never above its
    clearance, never what it sent itself (the community), versions as `match[version]` asks (default: the last).
    ForbiddenError for a collection it may not read; InvalidInputError for a cursor that is not this query's."""
    if not collection.can_read:
        raise ForbiddenError("this collection cannot be read")
    limit = min(query.limit or node.settings.taxii_page_size, node.settings.taxii_max_page_size)
    after = _continue_from(node, partner, collection, query) if query.next else None
    where = [*_visible(partner, collection.key, STIX), *_filters(partner, collection.key, query)]
    if after is not None:
        where.append(tuple_(STIX.c.date_added, STIX.c.id) > tuple_(after[0], after[1]))
    with_bodies = query.endpoint in ("objects", "object")
    columns = (
        [STIX.c.id, STIX.c.body] if with_bodies else [STIX.c.id, STIX.c.stix_id, STIX.c.modified, STIX.c.date_added]
    )
    statement = select(*columns).where(*where).order_by(STIX.c.date_added, STIX.c.id).limit(limit + 1)
    with node.store.reading() as session:
        found = session.execute(statement).all()
        more = len(found) > limit
        found = found[:limit]
        if with_bodies:  # only the first and last rows' dates are needed: not converted for every row
            ends = {found[0].id, found[-1].id} if found else set()
            added = dict(session.execute(select(STIX.c.id, STIX.c.date_added).where(STIX.c.id.in_(ends))).all())
        else:
            added = {row.id: row.date_added for row in found}
    bodies = [row.body for row in found] if with_bodies else []
    entries = [] if with_bodies else [Entry(row.stix_id, row.modified, row.date_added) for row in found]
    first, last = (added[found[0].id], added[found[-1].id]) if found else (None, None)
    cursor = None
    if more and last is not None:
        cursor = _cursor(node, partner, collection, query, last, found[-1].id)
    return Page(bodies, entries, more, cursor, first, last)


def _visible(partner: PartnerView, key: str, table: FromClause) -> list[ColumnElement[bool]]:
    """What the partner may see of the collection at all."""
    where: list[ColumnElement[bool]] = [
        table.c.collection == key,
        table.c.tlp.in_([tlp for tlp in TLP_ORDER if within_clearance(tlp, partner.clearance)]),
    ]
    if key == COMMUNITY:
        where.append(table.c.source != partner.name)  # never back to the partner it came from (it has it)
    return where


def _filters(partner: PartnerView, key: str, query: Query) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.added_after is not None:
        where.append(STIX.c.date_added > query.added_after)
    if query.ids:
        where.append(STIX.c.stix_id.in_(query.ids))
    if query.types:
        where.append(STIX.c.stix_type.in_(query.types))
    if query.spec_versions:
        where.append(STIX.c.spec_version.in_(query.spec_versions))
    if "all" not in query.versions:
        other = STIX.alias("other")
        same = [*_visible(partner, key, other), other.c.stix_id == STIX.c.stix_id]
        if query.spec_versions:
            same.append(other.c.spec_version.in_(query.spec_versions))
        wanted: list[ColumnElement[bool]] = []
        if "last" in query.versions:
            wanted.append(~exists().where(*same, other.c.modified > STIX.c.modified))
        if "first" in query.versions:
            wanted.append(~exists().where(*same, other.c.modified < STIX.c.modified))
        stamps = [parse_timestamp(value, "match[version]") for value in query.versions if value not in VERSION_WORDS]
        if stamps:
            wanted.append(STIX.c.modified.in_(stamps))
        where.append(or_(*wanted))
    return where


def _cursor(
    node: Node, partner: PartnerView, collection: CollectionInfo, query: Query, added: dt.datetime, row_id: int
) -> str:
    stamp = int(added.timestamp()) * 1_000_000 + added.microsecond
    payload = json.dumps([1, partner.name, collection.key, query.digest(), stamp, row_id], separators=(",", ":"))
    return signed_cursor.sign(signed_cursor.cursor_key(node.settings.resolved_key_dir), payload.encode())


def _continue_from(
    node: Node, partner: PartnerView, collection: CollectionInfo, query: Query
) -> tuple[dt.datetime, int]:
    assert query.next is not None
    payload = signed_cursor.open_cursor(signed_cursor.cursor_key(node.settings.resolved_key_dir), query.next)
    bad = InvalidInputError(
        "the `next` cursor is not valid here",
        [FieldError(("next",), "not a cursor this server gave for this collection and these filters")],
    )
    if payload is None:
        raise bad
    try:
        version, name, key, digest, stamp, row_id = json.loads(payload)
    except (ValueError, TypeError):
        raise bad from None
    if version != 1 or name != partner.name or key != collection.key or digest != query.digest():
        raise bad
    seconds, micro = divmod(int(stamp), 1_000_000)
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(microsecond=micro), int(row_id)


def manifest_record(row: Entry) -> str:
    """A manifest entry (TAXII 2.1, 5.6.1) as JSON text."""
    return json.dumps(
        {
            "id": row.stix_id,
            "date_added": stix_timestamp(row.date_added, micro=True),
            "version": stix_timestamp(row.modified),
            "media_type": STIX_MEDIA_TYPE,
        },
        separators=(",", ":"),
    )
