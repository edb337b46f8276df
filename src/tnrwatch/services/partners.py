"""Partner nodes: other tnrwatch nodes (or any TAXII 2.1 peer) this node shares with, and the tokens they present.

The node's operator registers a partner with a name (a slug, how audiences and collections name it), a clearance
(the most sensitive TLP it may ever receive), a client flag (AMBER received from elsewhere may be passed on to
clients only: domain/sharing.py), and optionally the partner's TAXII API root (to pull from) and its Ed25519
sharing key (to verify its bundles). A partner reads this node's TAXII server with a token: 256 random bits shown
once, of which only the SHA-256 is kept (with a short prefix, so the operator can tell tokens apart). Every act is
written to the audit log; a failed authentication says nothing about which partners or tokens exist.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tnrwatch.crypto import tokens
from tnrwatch.domain.sharing import TLP_ORDER, PartnerView
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Partner, PartnerToken
from tnrwatch.store.types import utcnow

NAME_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
TOKEN_PREFIX = tokens.PARTNER_TOKEN_PREFIX
PREFIX_LENGTH = 10
PUBLIC_KEY_BYTES = 32


@dataclass(frozen=True)
class PartnerOut:
    name: str
    clearance: str
    client: bool
    taxii_url: str | None
    public_key: str | None  # hex
    disabled: bool
    created_at: dt.datetime
    last_sync_at: dt.datetime | None
    active_tokens: int = 0

    def view(self) -> PartnerView:
        return PartnerView(name=self.name, clearance=self.clearance, client=self.client)


@dataclass(frozen=True)
class NewPartnerToken:
    partner: str
    token: str  # shown once; only its hash is stored
    prefix: str


# -- tokens ------------------------------------------------------------------------------------------------------------


# -- registering partners ----------------------------------------------------------------------------------------------


def add_partner(
    node: Node,
    principal: Principal,
    name: str,
    clearance: str,
    *,
    client: bool = False,
    taxii_url: str | None = None,
    public_key: str | None = None,
) -> PartnerOut:
    """Register a partner node. Every bad field is named at once: the name, the clearance, the URL, the key (64 hex
    characters, or the base64 `tnrwatch stix public-key` prints)."""
    require(principal, "partner:manage")
    errors: list[FieldError] = []
    if not NAME_PATTERN.match(name):
        errors.append(
            FieldError(
                ("name",), "use 1-64 lower-case letters, digits or '-', starting and ending with a letter or digit"
            )
        )
    if clearance not in TLP_ORDER:
        errors.append(FieldError(("clearance",), f"use one of: {', '.join(TLP_ORDER)}"))
    url = _checked_url(taxii_url, errors)
    key = _checked_public_key(public_key, errors)
    if errors:
        raise InvalidInputError("the partner is invalid", errors)
    with node.store.writing() as session:
        if session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
            raise ConflictError(f"a partner named {name!r} already exists")
        row = Partner(
            name=name,
            clearance=clearance,
            client=client,
            taxii_url=url,
            public_key=key,
            created_at=utcnow(),
            disabled=False,
        )
        session.add(row)
        session.flush()
        fields = (
            ["name", "clearance", "client"] + ["taxii_url"] * (url is not None) + ["public_key"] * (key is not None)
        )
        record_change(session, principal, "create", "partner", fields=fields, note=f"partner {row.id}")
        return _out(row, 0)


def _checked_url(url: str | None, errors: list[FieldError]) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        errors.append(
            FieldError(("taxii_url",), "give the partner's TAXII API root as an http(s) URL, at most 500 characters")
        )
        return None
    return url if url.endswith("/") else url + "/"


def _checked_public_key(text: str | None, errors: list[FieldError]) -> str | None:
    if not text:
        return None
    text = text.strip()
    raw: bytes | None = None
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        raw = bytes.fromhex(text)
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != PUBLIC_KEY_BYTES:
        errors.append(
            FieldError(
                ("public_key",), "give the partner's Ed25519 sharing key: 64 hex characters or 32 bytes in base64"
            )
        )
        return None
    return raw.hex()


def list_partners(node: Node) -> list[PartnerOut]:
    """Every partner, by name, with its number of tokens in force."""
    with node.store.reading() as session:
        counts: dict[int, int] = dict(
            session.execute(
                select(PartnerToken.partner_id, func.count())
                .where(PartnerToken.revoked_at.is_(None))
                .group_by(PartnerToken.partner_id)
            ).all()
        )
        rows = session.scalars(select(Partner).order_by(Partner.name)).all()
        return [_out(row, counts.get(row.id, 0)) for row in rows]


def get_partner(node: Node, name: str) -> PartnerOut:
    with node.store.reading() as session:
        row = _find(session, name)
        return _out(row, _active_tokens(session, row.id))


def set_disabled(node: Node, principal: Principal, name: str, *, disabled: bool = True) -> PartnerOut:
    """Disable a partner (its tokens stop working at once, and nothing more is routed to it) or enable it again."""
    require(principal, "partner:manage")
    with node.store.writing() as session:
        row = _find(session, name)
        row.disabled = disabled
        record_change(
            session,
            principal,
            "disable" if disabled else "enable",
            "partner",
            fields=["disabled"],
            note=f"partner {row.id}",
        )
        return _out(row, _active_tokens(session, row.id))


def create_token(node: Node, principal: Principal, name: str) -> NewPartnerToken:
    """A new token for the partner, returned once; only its SHA-256 is kept."""
    require(principal, "partner:manage")
    token = tokens.new_token(TOKEN_PREFIX)
    with node.store.writing() as session:
        row = _find(session, name)
        if row.disabled:
            raise ConflictError(f"the partner {name!r} is disabled: enable it first")
        session.add(
            PartnerToken(
                partner_id=row.id,
                token_hash=tokens.token_hash(token),
                prefix=token[:PREFIX_LENGTH],
                created_at=utcnow(),
            )
        )
        record_change(session, principal, "create", "partner_token", note=f"partner {row.id}")
    return NewPartnerToken(partner=name, token=token, prefix=token[:PREFIX_LENGTH])


def revoke_tokens(node: Node, principal: Principal, name: str, prefix: str | None = None) -> int:
    """Revoke the partner's token that starts with `prefix`, or all its tokens; how many were revoked. A prefix that
    matches no token in force is an error (so that a typo does not pass for a revocation)."""
    require(principal, "partner:manage")
    with node.store.writing() as session:
        row = _find(session, name)
        where = [PartnerToken.partner_id == row.id, PartnerToken.revoked_at.is_(None)]
        if prefix is not None:
            where.append(PartnerToken.prefix == prefix[:PREFIX_LENGTH])
        result = session.execute(update(PartnerToken).where(*where).values(revoked_at=utcnow()))
        revoked = int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE's CursorResult has rowcount
        if prefix is not None and revoked == 0:
            raise NotFoundError(f"the partner {name!r} has no token in force starting with {prefix[:PREFIX_LENGTH]!r}")
        record_change(session, principal, "revoke", "partner_token", count=revoked, note=f"partner {row.id}")
        return revoked


def authenticate(node: Node, token: str, name: str | None = None) -> PartnerView | None:
    """The partner a token stands for; None for a malformed, unknown or revoked token, a disabled partner, or (when
    `name` is given, as HTTP Basic sends it) a token of another partner. None tells the caller nothing more."""
    if not tokens.is_well_formed(token, TOKEN_PREFIX):
        return None
    with node.store.reading() as session:
        row = session.execute(
            select(Partner.name, Partner.clearance, Partner.client)
            .join(PartnerToken, PartnerToken.partner_id == Partner.id)
            .where(
                PartnerToken.token_hash == tokens.token_hash(token),
                PartnerToken.revoked_at.is_(None),
                Partner.disabled.is_(False),
            )
        ).first()
    if row is None or (name is not None and not hmac.compare_digest(name.encode(), row.name.encode())):
        return None
    return PartnerView(name=row.name, clearance=row.clearance, client=row.client)


def active_partners(session: Session) -> list[PartnerView]:
    """The partners objects may be routed to (not disabled), by name."""
    rows = session.execute(
        select(Partner.name, Partner.clearance, Partner.client)
        .where(Partner.disabled.is_(False))
        .order_by(Partner.name)
    ).all()
    return [PartnerView(name=name, clearance=clearance, client=client) for name, clearance, client in rows]


def _find(session: Session, name: str) -> Partner:
    row = session.scalar(select(Partner).where(Partner.name == name))
    if row is None:
        raise NotFoundError(f"no partner named {name!r}")
    return row


def _active_tokens(session: Session, partner_id: int) -> int:
    count = session.scalar(
        select(func.count()).where(PartnerToken.partner_id == partner_id, PartnerToken.revoked_at.is_(None))
    )
    return int(count or 0)


def _out(row: Partner, active_tokens: int) -> PartnerOut:
    return PartnerOut(
        name=row.name,
        clearance=row.clearance,
        client=row.client,
        taxii_url=row.taxii_url,
        public_key=row.public_key,
        disabled=row.disabled,
        created_at=row.created_at,
        last_sync_at=row.last_sync_at,
        active_tokens=active_tokens,
    )
