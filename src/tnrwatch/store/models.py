"""The tables. Coded incident data lives here in the clear; person identities only as ciphertext (`PersonIdentity`).

Multi-valued codes of an incident (origins, tactics, target categories, vulnerability flags) sit in narrow link tables
keyed (incident_id, code), each with a (code, incident_id) index, so that filters and facet counts stay index-only.
Tactic families are not stored: the taxonomy derives them from tactics.

Child tables are keyed by their parent and position and, on SQLite, stored WITHOUT ROWID (clustered on that key): one
b-tree fewer per row, which imports feel, and a parent's children sit together on disk.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from tnrwatch.store.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Incident(Base):
    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    date_start: Mapped[dt.date] = mapped_column(Date)
    date_end: Mapped[dt.date] = mapped_column(Date)
    date_precision: Mapped[str] = mapped_column(String(16))
    host_state_role: Mapped[str] = mapped_column(String(32))
    target_count: Mapped[int | None] = mapped_column(Integer)
    mass_event: Mapped[bool] = mapped_column(Boolean)
    verification: Mapped[str] = mapped_column(String(32))
    tlp: Mapped[str] = mapped_column(String(16))
    taxonomy_version: Mapped[str] = mapped_column(String(16))
    provenance: Mapped[str | None] = mapped_column(String(300))
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    coded_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    # Who owns it (services/policy.py, ReadScope): the jurisdiction whose staff coded it, or None for the node's own.
    # No foreign key: adding one rebuilds the incident table on SQLite (its rows, its full-text triggers), and
    # jurisdictions are never deleted.
    jurisdiction_code: Mapped[str | None] = mapped_column(String(16))
    # Its owner shared it with the EU level (a server default: bulk writers that predate it need not name it).
    shared_with_eu: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    locations: Mapped[list[IncidentLocation]] = relationship(
        order_by="IncidentLocation.position", cascade="all, delete-orphan", passive_deletes=True
    )
    sources: Mapped[list[Source]] = relationship(
        order_by="Source.position", cascade="all, delete-orphan", passive_deletes=True
    )
    coded_by: Mapped[Account | None] = relationship()

    __table_args__ = (
        CheckConstraint("date_end >= date_start", name="date_order"),
        Index(None, "date_start", "id"),
        Index(None, "created_at", "id"),
        Index(None, "updated_at", "id"),
        # Facets over the whole table count these from their index instead of reading every row (1.5 s -> 0.05 s
        # at a million incidents).
        Index(None, "verification"),
        Index(None, "tlp"),
        Index(None, "host_state_role"),
        Index(None, "jurisdiction_code", "tlp"),
        # Only synthetic rows are indexed: "does this node hold demo data?" stays instant, and a real node pays nothing.
        Index(None, "synthetic", sqlite_where=text("synthetic"), postgresql_where=text("synthetic")),
    )


class IncidentLocation(Base):
    __tablename__ = "incident_location"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    country: Mapped[str] = mapped_column(String(2))
    geo_precision: Mapped[str] = mapped_column(String(16))
    admin1: Mapped[str | None] = mapped_column(String(120))
    place: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    obfuscated: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index(None, "country", "incident_id"),
        Index(None, "lat", "lon"),
        {"sqlite_with_rowid": False},
    )


class IncidentOrigin(Base):
    __tablename__ = "incident_origin"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)

    __table_args__ = (Index(None, "country", "incident_id"), {"sqlite_with_rowid": False})


class IncidentTactic(Base):
    __tablename__ = "incident_tactic"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    tactic: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index(None, "tactic", "incident_id"), {"sqlite_with_rowid": False})


class IncidentTarget(Base):
    __tablename__ = "incident_target"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index(None, "category", "incident_id"), {"sqlite_with_rowid": False})


class IncidentVulnerability(Base):
    __tablename__ = "incident_vulnerability"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    flag: Mapped[str] = mapped_column(String(40), primary_key=True)

    __table_args__ = (Index(None, "flag", "incident_id"), {"sqlite_with_rowid": False})


class IncidentChange(Base):
    """The last change to each incident or its codes, written in the changing transaction (migration 0012): the map's
    columnar copy (store/analytics.py) catches up from here. One row per incident ever changed, deleted ones included,
    so the table never outgrows the incidents.

    `seq` orders the changes. On PostgreSQL, `xid` is the writing transaction's id: sequence numbers of concurrent
    transactions become visible out of order, so the copy asks for the changes of every transaction that was still
    running when it last looked (see analytics.py); SQLite has one writer at a time and needs only `seq`. On SQLite the
    store's bulk writer notes inserts (store/bulk.py) and triggers note updates and deletes (migration 0012)."""

    __tablename__ = "incident_change"

    incident_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    xid: Mapped[int | None] = mapped_column(BigInteger)

    # Only PostgreSQL writes xid: SQLite keeps an empty index rather than one entry per note.
    __table_args__ = (
        Index(None, "xid", sqlite_where=text("xid IS NOT NULL"), postgresql_where=text("xid IS NOT NULL")),
    )


class Source(Base):
    __tablename__ = "source"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(2000))
    publisher: Mapped[str | None] = mapped_column(String(120))
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    reliability: Mapped[str] = mapped_column(String(1))
    credibility: Mapped[str] = mapped_column(String(1))

    __table_args__ = ({"sqlite_with_rowid": False},)


class IncidentIndicator(Base):
    """A technical indicator of an incident (domain/incident.py `Indicator`), in canonical form: the (kind, value)
    index answers "was this domain seen before?" (services/indicators.py)."""

    __tablename__ = "incident_indicator"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(String(300))
    first_seen: Mapped[dt.date | None] = mapped_column(Date)
    last_seen: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (Index(None, "kind", "value"), {"sqlite_with_rowid": False})


class Person(Base):
    """A target, relative or witness, known by a pseudonym. Who they are lives only in `PersonIdentity`, encrypted."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    pseudonym: Mapped[str] = mapped_column(String(120), unique=True)
    at_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_to_share: Mapped[bool] = mapped_column(Boolean, default=False)
    # The jurisdiction whose staff recorded the person (None: the node's own); only its caseworkers read the identity.
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdiction.code", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    identity: Mapped[PersonIdentity | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )


class PersonIdentity(Base):
    """A person's identity fields as one AEAD ciphertext, bound to the person's uuid; `key_id` names the vault key."""

    __tablename__ = "person_identity"

    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IncidentPerson(Base):
    __tablename__ = "incident_person"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index(None, "person_id", "incident_id"), {"sqlite_with_rowid": False})


class Actor(Base):
    """Someone on the perpetrator side: a state, an agency, a proxy or an official (FollowTheMoney-compatible)."""

    __tablename__ = "actor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    name: Mapped[str] = mapped_column(String(300))
    actor_type: Mapped[str] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id", ondelete="RESTRICT"))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Actor | None] = relationship(remote_side=[id])

    __table_args__ = (Index(None, "country", "actor_type"), Index(None, "name"))


class IncidentActor(Base):
    __tablename__ = "incident_actor"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="RESTRICT"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index(None, "actor_id", "incident_id"), {"sqlite_with_rowid": False})


class Account(Base):
    """A staff member or machine client. The focal-point work grows this (passwords, 2FA, jurisdictions)."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(120), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Argon2id (argon2-cffi) hash for signing in to the staff pages; None: API tokens only.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # The focal point the account works for (officers and supervisors); None for EU-level and node-wide roles.
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdiction.code", ondelete="RESTRICT"))
    # The TOTP secret (RFC 6238), sealed with the node's vault key; None until a second factor is enrolled.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The last time step a code was accepted for: a code is good once (no replay within its 30 s window).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Failed sign-ins in a row, and until when sign-in is refused (backoff doubles with each lockout).
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A personal API token. Only its SHA-256 is kept: tokens carry 256 random bits, so a fast hash is enough."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), default="")
    # What the token may do on top of its account's role: "read" (GET only) or "write".
    scope: Mapped[str] = mapped_column(String(16), default="write", server_default="write")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    account: Mapped[Account] = relationship()


class AuditEntry(Base):
    """One step in the tamper-evident audit log: who changed or read what, when. Written only by `services.changes`.
    Field names only, never values, and no identity, report content or IP address: values may hold names. Each row's
    `hash` covers its fields, its id and `prev_hash` (the hash of the row before it; see `store.audit_chain`), so ids
    run 1, 2, 3 ... without gaps and the application sets them itself, under the append lock."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))  # who, as they were called at the time
    role: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_uuid: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    count: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(300), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index(None, "entity", "entity_uuid"), Index(None, "at"))


class AuditSeal(Base):
    """The audit chain's head signed with the node's Ed25519 key: an exported seal lets another party check later
    that nothing up to `last_id` was rewritten."""

    __tablename__ = "audit_seal"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class Meta(Base):
    """Node-wide key/value facts (e.g. whether the node holds synthetic demo data)."""

    __tablename__ = "node_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class StaffSession(Base):
    """A signed-in staff browser. Only the SHA-256 of the session secret is kept; the cookie holds the secret."""

    __tablename__ = "staff_session"

    secret_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# -- secure reporting -------------------------------------------------------------------------------------------------
# The server holds ciphertext only. Timestamps of reports and messages are rounded down to the hour; no table holds
# an IP address, a receipt or anything a reporter wrote.


class Jurisdiction(Base):
    """Who receives reports: a Member State's focal point, an EU body or a partner NGO."""

    __tablename__ = "jurisdiction"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))  # member_state | eu_body | ngo
    country: Mapped[str | None] = mapped_column(String(2))  # the host country a Member State's focal point serves
    # Days after a case closes before its raw report is shredded (services/retention.py); None keeps it.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecipientKey(Base):
    """An officer's X25519 key pair: the public key, and the private key wrapped with their passphrase."""

    __tablename__ = "recipient_key"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code", ondelete="RESTRICT"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    wrapped_private_key: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | retired | revoked
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "jurisdiction_code", "status"),
        CheckConstraint("status IN ('active', 'retired', 'revoked')", name="status"),
    )


class Report(Base):
    __tablename__ = "report"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the reporter's browser
    jurisdiction_code: Mapped[str] = mapped_column(ForeignKey("jurisdiction.code", ondelete="RESTRICT"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # rounded down to the hour
    acknowledge_by: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(24), default="received")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # the reporter's own answer, kept in the clear
    mode: Mapped[str] = mapped_column(String(8))  # browser | plain (sealed by the server, the weaker mode)
    lookup_hash: Mapped[str] = mapped_column(String(64), unique=True)  # HMAC(pepper, lookup token)
    reporter_key: Mapped[bytes] = mapped_column(LargeBinary)  # the report key sealed to the reporter's key
    answers: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)  # bytes of ciphertext, attachments included
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # rounded to the hour, moves with each message
    # Staff times (exact: they say when the focal point acted, not when the reporter wrote).
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    first_action_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))  # the officer on it
    # Retention (crypto/shred.py): whether the sealed copies of its key are wrapped with the report's shredding key
    # (every report since migration 0009; older ones once `tnrwatch retention wrap-existing` ran), and when its
    # content was shredded.
    key_wrapped: Mapped[bool] = mapped_column(Boolean, default=True)
    shredded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "jurisdiction_code", "received_at"),
        Index(None, "received_at"),
        CheckConstraint("mode IN ('browser', 'plain')", name="mode"),
    )


class CaseEvent(Base):
    """One move of a report's case (domain/cases.py): who moved it, when, from which state to which."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))


class Referral(Base):
    """A case referred to the police, a protection programme, legal aid or another jurisdiction's focal point (which
    then sees the report: `to_jurisdiction`)."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    to_jurisdiction: Mapped[str | None] = mapped_column(
        ForeignKey("jurisdiction.code", ondelete="RESTRICT"), index=True
    )

    __table_args__ = (CheckConstraint("kind IN ('police', 'protection', 'legal_aid', 'focal_point')", name="kind"),)


class ReportKey(Base):
    """One sealed copy of a report's key for one recipient key."""

    __tablename__ = "report_key"

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    recipient_key_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("recipient_key.id", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index(None, "recipient_key_id", "report_id"), {"sqlite_with_rowid": False})


class ReportMessage(Base):
    """A message in a report's thread, either way, encrypted with the report key."""

    __tablename__ = "report_message"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)  # order within the node; sent_at is coarse
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(8))  # reporter | officer
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # rounded down to the hour
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (CheckConstraint("author IN ('reporter', 'officer')", name="author"),)


class Attachment(Base):
    """An encrypted file of a report; the bytes live in the attachment folder under the attachment's id."""

    __tablename__ = "attachment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # None: sent with the report itself
    size: Mapped[int] = mapped_column(Integer)  # bytes of ciphertext


class Upload(Base):
    """An attachment on its way in, before the report or message that carries it arrives."""

    __tablename__ = "upload"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # the attachment id
    report_id: Mapped[uuid.UUID] = mapped_column(Uuid)  # no foreign key: the report usually does not exist yet
    size: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)  # rounded down to the hour


class SpentChallenge(Base):
    """A proof-of-work challenge already used, remembered until it expires so that it works once."""

    __tablename__ = "spent_challenge"

    nonce: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class ReportHourCount(Base):
    """Reports received per hour and jurisdiction, kept by the intake in the transaction that stores them, so that
    the hourly ceilings read one row instead of counting the hour's reports (which grew with every report). It says
    nothing the report table does not: received times are rounded to the hour there too. Kept for a day."""

    __tablename__ = "report_hour_count"

    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    jurisdiction_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


# -- coding: incidents coded from a report (migration 0006) -----------------------------------------------------------


class ReportIncident(Base):
    """An incident coded from a report, or linked to it later: a report may give several incidents, and an incident
    may rest on several reports (of one or more jurisdictions)."""

    __tablename__ = "report_incident"

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    linked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created: Mapped[bool] = mapped_column(Boolean, default=False)  # coded from this report, rather than linked to it

    __table_args__ = (Index(None, "incident_id", "report_id"), {"sqlite_with_rowid": False})


# -- case notes, tasks and notifications (migration 0007) -------------------------------------------------------------
# Notes and task titles are encrypted in the officer's browser with the report key; the server keeps ciphertext, who
# and when (exact: staff times). Notifications say only that something happened to which report: never any content.


class CaseNote(Base):
    """A note on a report's case, encrypted with the report key (context `note/<report>/<note id>`). Append-only: a
    correction is a new note."""

    __tablename__ = "case_note"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the browser: it is in the context
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))  # the author
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = (Index(None, "report_id", "created_at"),)


class CaseTask(Base):
    """A task on a report's case: its title encrypted like a note (context `task/<report>/<task id>`); who is on it,
    when it is due and whether it is done in the clear, for lists and reminders."""

    __tablename__ = "case_task"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the browser: it is in the context
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    title: Mapped[bytes] = mapped_column(LargeBinary)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"), index=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who last marked it done or not done, and when (None: nobody yet).
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    marked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """An in-app notice to one account: which kind of thing happened to which report, and whether it was read."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    # An urgent report's notice carries the report's own hour: an exact time would date the reporter's submission.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("kind IN ('urgent', 'referral', 'task', 'overdue')", name="kind"),
        Index(None, "account_id", "id"),
        # The nav bar counts the unread ones on every staff page: only those are indexed for it.
        Index(
            "ix_notification_unread",
            "account_id",
            sqlite_where=text("read_at IS NULL"),
            postgresql_where=text("read_at IS NULL"),
        ),
        # An overdue acknowledgement is announced once per report and account, however often the job runs.
        Index(
            "ix_notification_overdue_once",
            "report_id",
            "account_id",
            unique=True,
            sqlite_where=text("kind = 'overdue'"),
            postgresql_where=text("kind = 'overdue'"),
        ),
    )


# -- evidence and its custody log (migration 0008) --------------------------------------------------------------------


class EvidenceItem(Base):
    """A file kept as evidence for a report: one of the report's attachments, or a document, screenshot or capture of
    a web page that staff added, encrypted in their browser with the report key (the bytes live in the evidence
    folder under the item's id). `sha256` and `size` are the plaintext's, taken in the browser at capture; the
    server never sees the plaintext. `meta` (label, file name and type, a captured page's address and time) is
    encrypted with the report key too. `head_hash` is the hash of the last row of the item's custody log."""

    __tablename__ = "evidence_item"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)  # made by the officer's browser
    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # attachment | document | screenshot | url_capture
    attachment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="CASCADE"), unique=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    ciphertext_sha256: Mapped[str] = mapped_column(String(64))
    ciphertext_size: Mapped[int] = mapped_column(BigInteger)
    meta: Mapped[bytes] = mapped_column(LargeBinary)
    captured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    head_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("kind IN ('attachment', 'document', 'screenshot', 'url_capture')", name="kind"),)


class CustodyEvent(Base):
    """One step in an evidence item's custody log (hash-chained per item; see `store.custody_chain`): received,
    decrypted, viewed, exported, shared or transferred, by whom, when, with hashes or a recipient in `detail`."""

    __tablename__ = "custody_event"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("evidence_item.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # 1, 2, 3 ... per item
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    username: Mapped[str] = mapped_column(String(64))  # who, as they were called at the time
    action: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, object]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (
        CheckConstraint(
            "action IN ('received', 'decrypted', 'viewed', 'exported', 'shared', 'transferred')", name="action"
        ),
        {"sqlite_with_rowid": False},
    )


# -- retention by crypto-shredding (migration 0009) -------------------------------------------------------------------


# -- alerts (migration 0013) ------------------------------------------------------------------------------------------


class Alert(Base):
    """An alert to recipients (domain/alert.py): a draft until a person publishes it, then published or withdrawn."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(16))
    tlp: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    source_signal: Mapped[str | None] = mapped_column(String(200))
    jurisdiction_code: Mapped[str | None] = mapped_column(String(16))  # the owner; None: the node's own (EU level)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # An alert received from a partner node (federation): the partner's name, and the STIX report's or grouping's id
    # and `modified`, so that importing the same version again changes nothing. None for the node's own alerts.
    source_partner: Mapped[str | None] = mapped_column(String(100))
    stix_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    stix_modified: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("level IN ('information', 'warning', 'urgent')", name="level"),
        CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name="status"),
    )


class AlertAudience(Base):
    __tablename__ = "alert_audience"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)  # "" for the EU level

    __table_args__ = (
        CheckConstraint("kind IN ('jurisdiction', 'eu', 'partner')", name="kind"),
        Index(None, "kind", "value"),
    )


class AlertIncident(Base):
    __tablename__ = "alert_incident"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class AlertActor(Base):
    __tablename__ = "alert_actor"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actor.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class AlertComment(Base):
    """A recipient's corroboration note or opinion on an alert."""

    __tablename__ = "alert_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    opinion: Mapped[str | None] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(64))  # who, as they were called at the time
    jurisdiction_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # A sighting (corroborations only): which of the alert's actors the recipient saw act, and in which country.
    sighted_actor_id: Mapped[int | None] = mapped_column(ForeignKey("actor.id", ondelete="SET NULL"))
    sighted_country: Mapped[str | None] = mapped_column(String(2))

    __table_args__ = (
        CheckConstraint("kind IN ('corroboration', 'opinion')", name="kind"),
        CheckConstraint("opinion IS NULL OR opinion IN ('agree', 'disagree', 'unsure')", name="opinion"),
    )


# -- alert sharing: subscriptions, the outbox, deliveries, the inbox --------------------------------------------


class Subscription(Base):
    """A staff account's saved search (domain/sharing.py `SubscriptionFilter`, as JSON) and the channels through
    which it is told when a new or changed incident, or a published alert, matches and is readable by it."""

    __tablename__ = "subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    filter: Mapped[dict[str, object]] = mapped_column(JSON)
    inbox: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(254))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    # The HMAC-SHA256 key the receiver checks webhook bodies with (shown once, when the subscription is made).
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutboxEvent(Base):
    """Something subscribers may need to hear of, written in the same transaction as the change itself: an incident
    created, changed or verified, an alert published or withdrawn. The worker fans each event out into deliveries
    (and marks it done) in one transaction, so an event is neither lost nor fanned out twice."""

    __tablename__ = "outbox_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(16))  # "incident" | "alert"
    event: Mapped[str] = mapped_column(String(16))  # "created" | "updated" | "verified" | "published" | "withdrawn"
    subject_uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("topic IN ('incident', 'alert')", name="topic"),
        Index(None, "done_at", "id"),
    )


class Delivery(Base):
    """One message to one subscription through one channel; the delivery log. `uuid` is the idempotency key a
    receiver sees (webhook header, e-mail Message-ID), so a message re-sent after a crash is recognisable. Holds no
    content: what was said is rebuilt from the event; an error is kept as its class and status, never a body."""

    __tablename__ = "delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_event.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # "inbox" | "email" | "webhook"
    status: Mapped[str] = mapped_column(String(16), default="pending")  # "pending" | "sent" | "dead"
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # a worker holds it until then
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("channel IN ('inbox', 'email', 'webhook')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'dead')", name="status"),
        UniqueConstraint("event_id", "subscription_id", "channel"),
        Index(None, "status", "next_attempt_at"),
    )


class InboxItem(Base):
    """A line in an account's in-app inbox: which incident or alert, what happened, through which subscription.
    One per delivery (the unique key), so a retried delivery never shows twice."""

    __tablename__ = "inbox_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id", ondelete="SET NULL"), unique=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscription.id", ondelete="SET NULL"))
    topic: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(16))
    subject_uuid: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# -- partner nodes, TAXII 2.1 and federation -------------------------------------------------------------------


class Partner(Base):
    """Another node this one shares with (domain/sharing.py decides what each may receive). `clearance` is the
    most sensitive TLP it may ever receive; `client` marks a partner this node serves (AMBER received from
    elsewhere may be passed on to clients, never to the rest of the community). `taxii_url` is the partner's API
    root this node pulls from; `public_key` pins its Ed25519 sharing key (hex) for verifying its bundles."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    clearance: Mapped[str] = mapped_column(String(16))
    client: Mapped[bool] = mapped_column(Boolean, default=False)
    taxii_url: Mapped[str | None] = mapped_column(String(500))
    public_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PartnerToken(Base):
    """A token a partner presents to this node's TAXII server. Only its SHA-256 is kept."""

    __tablename__ = "partner_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PartnerCursor(Base):
    """How far this node has pulled one of a partner's collections: the last `X-TAXII-Date-Added-Last` it saw."""

    __tablename__ = "partner_cursor"

    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True)
    collection_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_after: Mapped[str] = mapped_column(String(40))


class StixObject(Base):
    """One version of one STIX object in one TAXII collection, as it is served (already masked for that
    collection's audience): `body` is its JSON. `date_added` orders the collection (with `id` to break ties) and is
    what `added_after` and the paging cursor compare. `source` is "local" or the partner it came from."""

    __tablename__ = "stix_object"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection: Mapped[str] = mapped_column(String(120))
    stix_id: Mapped[str] = mapped_column(String(100))
    stix_type: Mapped[str] = mapped_column(String(64))
    spec_version: Mapped[str] = mapped_column(String(8), default="2.1")
    modified: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    date_added: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    tlp: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(100), default="local")
    body: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("collection", "stix_id", "modified"),
        Index(None, "collection", "date_added", "id"),
        Index(None, "collection", "stix_type", "date_added"),
    )


class TaxiiStatus(Base):
    """A TAXII status resource: what became of the objects a partner POSTed to a collection."""

    __tablename__ = "taxii_status"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id", ondelete="SET NULL"))
    collection: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16))  # "pending" | "complete"
    request_timestamp: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    successes: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    failures: Mapped[list[dict[str, object]]] = mapped_column(JSON)
    pendings: Mapped[list[dict[str, object]]] = mapped_column(JSON)


class IdentityShare(Base):
    """A focal point letting another read one person's identity, for that person's protection, with the person's
    consent on record: a separate, logged act (services/identity_shares.py), never part of an alert or bundle."""

    __tablename__ = "identity_share"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    from_jurisdiction: Mapped[str] = mapped_column(String(16))
    to_jurisdiction: Mapped[str] = mapped_column(String(16))
    consent: Mapped[str] = mapped_column(String(300))  # how the person consented (never their words or name)
    purpose: Mapped[str] = mapped_column(String(300))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# -- notices under vetting and the protected-persons registry (domain/notice.py) ----------------------------------


class Notice(Base):
    """An Interpol notice, diffusion or extradition/MLA request under vetting. Type, reference, requesting state,
    dates, charges and the decision are in the clear (lists and red-flag rules need them); the subject's identity is
    one AEAD ciphertext from the vault, bound to the notice's uuid (services/notices.py)."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    notice_type: Mapped[str] = mapped_column(String(32))
    interpol_reference: Mapped[str | None] = mapped_column(String(16))
    requesting_state: Mapped[str] = mapped_column(String(2), index=True)
    issued: Mapped[dt.date | None] = mapped_column(Date)
    received: Mapped[dt.date] = mapped_column(Date)
    decision_due: Mapped[dt.date | None] = mapped_column(Date)
    decision: Mapped[str] = mapped_column(String(24), default="none")
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    decided_by: Mapped[str | None] = mapped_column(String(64))  # who, as they were called at the time
    subject_key_id: Mapped[str] = mapped_column(String(64))
    subject_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    warrants: Mapped[list[NoticeWarrant]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise", order_by="NoticeWarrant.position"
    )

    __table_args__ = (
        CheckConstraint(
            "notice_type IN ('red_notice', 'blue_notice', 'diffusion', 'extradition_request', "
            "'mutual_legal_assistance')",
            name="notice_type",
        ),
        CheckConstraint("decision IN ('none', 'proceed', 'consult_focal_point', 'do_not_act')", name="decision"),
        # One record per reference and type (NULL references, e.g. most extradition requests, never clash).
        UniqueConstraint("notice_type", "interpol_reference"),
        Index(None, "decision", "received"),
    )


class NoticeWarrant(Base):
    """One arrest warrant of a notice: the charges, in the clear (they are not names; red-flag rules read them)."""

    __tablename__ = "notice_warrant"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuing_country: Mapped[str] = mapped_column(String(2))
    charge: Mapped[str] = mapped_column(Text)
    charge_translation: Mapped[str | None] = mapped_column(Text)
    legal_provision: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = ({"sqlite_with_rowid": False},)


class ProtectedPerson(Base):
    """An entry of the protected-persons registry: someone the node knows to be at risk from `origin_state`. The
    category, origin state and focal point are in the clear (counts, blocking by origin, "contact focal point X");
    the identity (names in every script, birth date, nationalities, sex, note) is one AEAD ciphertext, bound to the
    entry's uuid, that screening opens into memory (services/registry.py)."""

    __tablename__ = "protected_person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    pseudonym: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[str] = mapped_column(String(24))
    origin_state: Mapped[str | None] = mapped_column(String(2), index=True)
    focal_point: Mapped[str | None] = mapped_column(ForeignKey("jurisdiction.code", ondelete="RESTRICT"))
    identity_key_id: Mapped[str] = mapped_column(String(64))
    identity_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint(
            "category IN ('hrd', 'journalist', 'refugee', 'asylum_seeker', 'incident_target', 'other')",
            name="category",
        ),
    )
