"""The keyed blind index: partner nodes ask "is this person protected?" without this node showing its registry, and
without the partner showing every name it screens in the clear.

Both sides derive the same blocking keys from a person (`domain.names.blocking_keys`: name-part pairs, a name part
with the birth year, a name part with a nationality; the same keys whatever the script or spelling) and hash each one
with HMAC-SHA256 under the node's screening key (crypto/blind_index.py). The node keeps, in memory, for each key it
holds, the hashes of every registry entry's keys; a partner sends the hashes of its subject's keys and gets one of two
answers: "possible match, contact focal point X" or "no match". Never which entry, nor how many.

The index lives in memory only, in each process that answers partners, and is rebuilt from the registry (opened
from the vault) when the registry has changed since it was built: no table, no file of hashes to steal with a
backup. Rebuilding opens every identity, and is written to the audit log.

Minimum overlap (`is_possible_match`): one registry entry must share a *name pair* (two name parts of one name) AND
a name part with the birth year (one year either way) or with a nationality. A common surname alone, even with the
right birth year and nationality, is "no match"; so is a full name with neither a matching year nor nationality.

Each partner may ask `screening_queries_per_hour` and `screening_queries_per_day` questions (over all its tokens:
issuing a partner a second token does not double its budget). The count is read from the audit log, in the same
transaction that appends the query's entry, so it holds across all the node's processes. The entry holds counts only
(how many hashes, which key, the one-bit answer), never a hash.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tnrwatch.crypto import blind_index as keys
from tnrwatch.crypto.blind_index import ScreeningKey
from tnrwatch.domain.names import blocking_keys
from tnrwatch.domain.notice import ProtectedIdentity
from tnrwatch.domain.sharing import PartnerView
from tnrwatch.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    TnrwatchError,
    TooManyRequestsError,
)
from tnrwatch.services import federation
from tnrwatch.services.changes import hold_append_lock, record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import OPERATOR_ROLE, Principal, require
from tnrwatch.services.registry import open_registry
from tnrwatch.services.screening_cache import RegistryStamp, registry_stamp
from tnrwatch.store.models import AuditEntry, Jurisdiction
from tnrwatch.store.types import utcnow

MAX_DIGESTS = 256  # a subject with many names and spellings stays far below; a batch of many subjects does not
YEAR_SLACK = 1
INDEXED_KINDS = ("pp", "py", "pn")  # the only kinds the overlap rule reads: partners send no others
QUERY_ACTION = "screen"
INDEX_ENTITY = "blind_index"
ENDPOINT_PATH = "partner/v1/screening"
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_NATIONALITY = re.compile(r"^[A-Z]{2}$")

log = logging.getLogger("tnrwatch.services.blind_index")


def is_possible_match(kinds: set[str]) -> bool:
    """The minimum overlap between a query and one entry: a name pair, and a name part with the birth year or with
    a nationality."""
    return "pp" in kinds and bool(kinds & {"py", "pn"})


def _kind(blocking_key: str) -> str:
    return blocking_key.split(":", 1)[0]


def entry_keys(identity: ProtectedIdentity) -> set[str]:
    """The blocking keys of a registry entry that the index keeps (exact birth year: the query side adds slack)."""
    names = [identity.full_name, *(other.name for other in identity.other_names)]
    year = identity.date_of_birth.year if identity.date_of_birth else None
    return {key for key in blocking_keys(names, year, identity.nationalities) if _kind(key) in INDEXED_KINDS}


def subject_keys(names: Sequence[str], birth_year: int | None, nationalities: Sequence[str]) -> set[str]:
    """The blocking keys a partner hashes for its subject: the birth year one either way."""
    found = {key for key in blocking_keys(names, birth_year, nationalities) if _kind(key) in INDEXED_KINDS}
    if birth_year is not None:
        for offset in range(-YEAR_SLACK, YEAR_SLACK + 1):
            found |= {key for key in blocking_keys(names, birth_year + offset) if _kind(key) == "py"}
    return found


def subject_digests(
    key: ScreeningKey, names: Sequence[str], birth_year: int | None, nationalities: Sequence[str]
) -> list[str]:
    """What a partner sends: the hex HMACs of its subject's keys, sorted (their order says nothing). Every bad field
    is named at once."""
    errors: list[FieldError] = []
    cleaned = [name.strip() for name in names if name.strip()]
    if not cleaned:
        errors.append(FieldError(("name",), "give the subject's name"))
    if birth_year is not None and not 1900 <= birth_year <= utcnow().year:
        errors.append(FieldError(("birth",), f"a birth year from 1900 to {utcnow().year}"))
    codes = [code.strip().upper() for code in nationalities]
    for position, code in enumerate(codes):
        if not _NATIONALITY.match(code):
            errors.append(FieldError(("nationality", position), "an ISO 3166-1 alpha-2 code such as UZ"))
    if birth_year is None and not codes:
        errors.append(FieldError(("birth",), "give the birth year or a nationality: a name alone never matches"))
    if errors:
        raise InvalidInputError("the screening query is invalid", errors)
    found = subject_keys(cleaned, birth_year, codes)
    if not any(_kind(key) == "pp" for key in found):
        raise InvalidInputError(
            "the screening query is invalid",
            [FieldError(("name",), "give at least two name parts (forename and name): one part alone never matches")],
        )
    digests = sorted(digest.hex() for digest in key.digests(found))
    if len(digests) > MAX_DIGESTS:
        raise InvalidInputError(
            "the screening query is invalid",
            [FieldError(("name",), f"too many names: {len(digests)} keys, at most {MAX_DIGESTS}")],
        )
    return digests


# -- the node's side -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningAnswer:
    possible_match: bool
    contact: str | None = None  # the focal point's jurisdiction code
    contact_name: str | None = None

    def as_json(self) -> dict[str, Any]:
        if not self.possible_match:
            return {"answer": "no match"}
        return {"answer": "possible match", "contact": self.contact, "contact_name": self.contact_name}

    @classmethod
    def from_json(cls, body: object) -> ScreeningAnswer:
        if not isinstance(body, dict) or body.get("answer") not in ("possible match", "no match"):
            raise ConflictError("the node's answer is not a screening answer")
        if body["answer"] == "no match":
            return cls(False)
        contact, name = body.get("contact"), body.get("contact_name")
        return cls(True, contact if isinstance(contact, str) else None, name if isinstance(name, str) else None)

    def sentence(self) -> str:
        if not self.possible_match:
            return "no match"
        if self.contact is None:
            return "possible match: contact the node's operator"
        return f"possible match: contact focal point {self.contact}" + (
            f" ({self.contact_name})" if self.contact_name else ""
        )


@dataclass(frozen=True)
class BlindIndex:
    """Hashes of every registry entry's keys under one screening key: hash -> (kind, entries holding it)."""

    key_id: str
    stamp: RegistryStamp
    postings: dict[bytes, tuple[str, tuple[int, ...]]]
    contacts: tuple[str | None, ...]  # per entry: its focal point

    def possible_matches(self, digests: Iterable[bytes]) -> list[int]:
        """The entries (positions) that meet the minimum overlap with a query's hashes."""
        found: defaultdict[int, set[str]] = defaultdict(set)
        for digest in digests:
            posting = self.postings.get(digest)
            if posting is None:
                continue
            kind, held = posting
            for position in held:
                found[position].add(kind)
        return sorted(position for position, kinds in found.items() if is_possible_match(kinds))


def _build_index(
    key: ScreeningKey, stamp: RegistryStamp, entries: Iterable[tuple[ProtectedIdentity, str | None]]
) -> BlindIndex:
    members: defaultdict[bytes, list[int]] = defaultdict(list)
    kinds: dict[bytes, str] = {}
    contacts: list[str | None] = []
    for position, (identity, focal_point) in enumerate(entries):
        contacts.append(focal_point)
        for digest, blocking_key in key.digests(entry_keys(identity)).items():
            members[digest].append(position)
            kinds[digest] = _kind(blocking_key)
    postings = {digest: (kinds[digest], tuple(held)) for digest, held in members.items()}
    return BlindIndex(key.key_id, stamp, postings, tuple(contacts))


_INDEX_BUILDER = Principal(account_id=None, username="blind-index", role=OPERATOR_ROLE)


def partner_principal(partner: PartnerView) -> Principal:
    """Who a partner's query is recorded as in the audit log."""
    return Principal(account_id=None, username=f"partner:{partner.name}"[:64], role=OPERATOR_ROLE)


class ScreeningDesk:
    """Answers partners' screening queries for one node. Keeps one index per screening key the node holds, in this
    process's memory, and rebuilds it when the registry has changed. Safe to share between request threads."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self._indexes: dict[str, BlindIndex] = {}
        self._lock = threading.Lock()

    def index(self, key: ScreeningKey) -> BlindIndex:
        """The index under `key`, built or rebuilt when the registry changed since."""
        with self._lock:
            with self.node.store.reading() as session:
                stamp = registry_stamp(session)
                cached = self._indexes.get(key.key_id)
                if cached is not None and cached.stamp == stamp:
                    return cached
                opened = ((entry.identity, entry.focal_point) for entry in open_registry(self.node, session))
                built = _build_index(key, stamp, opened)
            with self.node.store.writing() as session:
                record_access(session, len(built.contacts), key.key_id)
            self._indexes[key.key_id] = built
            return built

    def query(self, partner: PartnerView, key_id: str, digests: Sequence[str]) -> ScreeningAnswer:
        """The answer to one partner query: hex HMACs of its subject's keys under the screening key `key_id`.
        InvalidInputError for malformed hashes, ConflictError for a key this node does not hold (or no longer),
        TooManyRequestsError past the partner's budget. Never logs or records a hash."""
        parsed = _parse_digests(digests)
        held = {item.key_id: item.key for item in keys.node_keys(self.node.settings.resolved_key_dir)}
        key = held.get(key_id)
        if key is None:
            raise ConflictError(
                "this node holds no screening key with that id (any more): ask its operator for the current one"
            )
        index = self.index(key)
        with self.node.store.writing() as session:
            principal = partner_principal(partner)
            hold_append_lock(session)  # count and append as one step, across processes
            _check_budget(session, self.node, principal)
            matches = index.possible_matches(parsed)
            answer = _answer(session, [index.contacts[position] for position in matches])
            record_change(
                session,
                principal,
                QUERY_ACTION,
                INDEX_ENTITY,
                count=len(parsed),
                note=f"key {key.key_id}: {'possible match' if answer.possible_match else 'no match'}",
            )
        return answer


def record_access(session: Session, entries: int, key_id: str) -> None:
    record_change(session, _INDEX_BUILDER, "build", INDEX_ENTITY, count=entries, note=f"key {key_id}")


def _parse_digests(digests: Sequence[str]) -> set[bytes]:
    if not digests:
        raise InvalidInputError("the screening query is invalid", [FieldError(("digests",), "send at least one")])
    if len(digests) > MAX_DIGESTS:
        raise InvalidInputError(
            "the screening query is invalid", [FieldError(("digests",), f"at most {MAX_DIGESTS} in one query")]
        )
    bad = [
        FieldError(("digests", position), "expected 64 lower-case hex characters (an HMAC-SHA256)")
        for position, digest in enumerate(digests)
        if not _HEX_DIGEST.match(digest)
    ]
    if bad:
        raise InvalidInputError("the screening query is invalid", bad[:20])
    return {bytes.fromhex(digest) for digest in digests}


def _check_budget(session: Session, node: Node, principal: Principal) -> None:
    now = utcnow()
    for window, limit in (
        (dt.timedelta(hours=1), node.settings.screening_queries_per_hour),
        (dt.timedelta(days=1), node.settings.screening_queries_per_day),
    ):
        asked = session.scalar(
            select(func.count()).where(
                AuditEntry.action == QUERY_ACTION,
                AuditEntry.entity == INDEX_ENTITY,
                AuditEntry.username == principal.username,
                AuditEntry.at >= now - window,
            )
        )
        if int(asked or 0) >= limit:
            # The partner's name only: never what it asked.
            log.warning("screening budget reached for %s (%d per %s)", principal.username, limit, window)
            raise TooManyRequestsError(
                f"this partner has asked {limit} screening questions in the last {_window_text(window)}: try later"
            )


def _window_text(window: dt.timedelta) -> str:
    return "hour" if window == dt.timedelta(hours=1) else "day"


def _answer(session: Session, focal_points: list[str | None]) -> ScreeningAnswer:
    """One answer for any number of matching entries: the first focal point by code (so the answer does not tell
    one match from several)."""
    if not focal_points:
        return ScreeningAnswer(False)
    named = sorted(code for code in focal_points if code is not None)
    if not named:
        return ScreeningAnswer(True)
    name = session.scalar(select(Jurisdiction.name).where(Jurisdiction.code == named[0]))
    return ScreeningAnswer(True, named[0], name)


# -- the partner's side ----------------------------------------------------------------------------------------------


def screening_url(taxii_url: str) -> str:
    """The screening endpoint of the node whose TAXII API root is `taxii_url` (both live under the same base)."""
    parts = urlsplit(taxii_url)
    base = parts.path.split("/taxii2/", 1)[0].rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, f"{base}/{ENDPOINT_PATH}", "", ""))


def ask_node(
    node: Node,
    partner: str,
    names: Sequence[str],
    birth_year: int | None,
    nationalities: Sequence[str],
    *,
    url: str | None = None,
    timeout: float = 30.0,
) -> ScreeningAnswer:
    """Ask the node `partner` (registered here, with the token it issued this node: `tnrwatch partners pull-token`)
    whether it protects a person: the names never leave this node, only HMACs under the key it gave
    (`tnrwatch screening-key import`)."""
    registered = federation.with_partner(node, partner)
    key = keys.partner_key(node.settings.resolved_key_dir, partner)
    digests = subject_digests(key, names, birth_year, nationalities)
    target = url or (screening_url(registered.taxii_url) if registered.taxii_url else None)
    if target is None:
        raise InvalidInputError(
            "no address for the partner", [FieldError(("url",), "register its TAXII URL or give --url")]
        )
    token_file = federation.token_path(node, partner)
    if not token_file.exists():
        raise NotFoundError(f"no token from {partner!r}: store the one it issued (`tnrwatch partners pull-token`)")
    response = requests.post(
        target,
        json={"key_id": key.key_id, "digests": digests},
        headers={"Authorization": f"Bearer {token_file.read_text().strip()}"},
        timeout=timeout,
        verify=node.settings.federation_verify_tls,
    )
    if response.status_code != 200:
        raise _remote_error(response)
    return ScreeningAnswer.from_json(response.json())


def _remote_error(response: requests.Response) -> TnrwatchError:
    try:
        message = str(response.json().get("error", ""))[:300]
    except ValueError:
        message = ""
    text = f"the partner answered {response.status_code}" + (f": {message}" if message else "")
    if response.status_code == 429:
        return TooManyRequestsError(text)
    return ConflictError(text)


# -- the operator's key management (audited) -------------------------------------------------------------------------


def new_key(node: Node, principal: Principal) -> keys.HeldKey:
    """Make a new current screening key: partners need it (export) before the old one is retired."""
    require(principal, "partner:manage")
    held = keys.new_node_key(node.settings.resolved_key_dir)
    with node.store.writing() as session:
        record_change(session, principal, "create", "screening_key", note=f"key {held.key_id}")
    return held


def export_key(node: Node, principal: Principal, partner: str) -> str:
    """The current screening key as one line, for the registered, enabled partner `partner`: the audit log records
    who got which key. Made on first use."""
    require(principal, "partner:manage")
    registered = federation.with_partner(node, partner)
    if registered.disabled:
        raise ConflictError(f"the partner {partner!r} is disabled")
    held = keys.current_key(node.settings.resolved_key_dir) or keys.new_node_key(node.settings.resolved_key_dir)
    with node.store.writing() as session:
        record_change(
            session, principal, "export", "screening_key", note=f"key {held.key_id} to partner {registered.id}"
        )
    return held.key.export()


def import_key(node: Node, principal: Principal, partner: str, text: str) -> str:
    """Keep the screening key the node `partner` exported for this node; its key id."""
    require(principal, "partner:manage")
    registered = federation.with_partner(node, partner)
    key = keys.parse_export(text)
    keys.save_partner_key(node.settings.resolved_key_dir, partner, key)
    with node.store.writing() as session:
        record_change(
            session, principal, "import", "screening_key", note=f"key {key.key_id} from partner {registered.id}"
        )
    return key.key_id


def retire_key(node: Node, principal: Principal, key_id: str) -> None:
    require(principal, "partner:manage")
    keys.retire_node_key(node.settings.resolved_key_dir, key_id)
    with node.store.writing() as session:
        record_change(session, principal, "retire", "screening_key", note=f"key {key_id}")
