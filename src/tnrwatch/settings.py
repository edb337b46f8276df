"""One typed, frozen settings object, read from TNRWATCH_* environment variables.

Every setting has a default and a help line (its `description`); `tests/test_settings.py` fails when the README
does not document one. Pass the object down (`create_app(settings)`, `Node.open(settings)`); never read the
environment elsewhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TNRWATCH_", frozen=True, extra="ignore")

    home: Path = Field(
        Path("var"),
        description="Folder for the node's state: the SQLite database (by default) and the key directory.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the store, e.g. postgresql+psycopg://user@host/db. "
        "Empty: a SQLite file `tnrwatch.sqlite3` under TNRWATCH_HOME.",
    )
    key_dir: Path | None = Field(
        None,
        description="Folder holding the node's secret keys (the vault key that encrypts person identities). "
        "Empty: `keys/` under TNRWATCH_HOME. Keep it out of database backups.",
    )
    host: str = Field("127.0.0.1", description="Address `tnrwatch serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `tnrwatch serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="Web worker processes started by `tnrwatch serve`.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info",
        description="Lowest level written to the log. Logs never hold IP addresses, names or report content.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL",
        description="SQLite `synchronous` pragma. FULL survives power loss after every commit; NORMAL (WAL) survives a "
        "process crash but may lose the last commits on power loss, and writes faster.",
    )
    page_size: int = Field(50, ge=1, le=1000, description="Incidents per page when a request names no `limit`.")
    max_page_size: int = Field(1000, ge=1, le=10000, description="Largest `limit` a request may ask for.")
    db_pool_size: int = Field(5, ge=1, le=100, description="Connections each process keeps open to PostgreSQL.")
    api_docs: bool = Field(True, description="Serve the interactive API documentation at /api/v1/docs.")
    attachment_dir: Path | None = Field(
        None,
        description="Folder for the encrypted attachments of reports (ciphertext only). "
        "Empty: `attachments/` under TNRWATCH_HOME.",
    )
    max_attachment_mb: int = Field(500, ge=1, le=10_000, description="Largest file a reporter may attach, in MiB.")
    evidence_dir: Path | None = Field(
        None,
        description="Folder for evidence files staff add to a report (ciphertext only, encrypted in their browser). "
        "Empty: `evidence/` under TNRWATCH_HOME, next to the attachment folder.",
    )
    max_evidence_mb: int = Field(500, ge=1, le=10_000, description="Largest evidence file staff may add, in MiB.")
    max_attachments: int = Field(20, ge=0, le=200, description="Most files one report or message may carry.")
    report_pow_bits: int = Field(
        18,
        ge=0,
        le=28,
        description="Difficulty of the proof of work a browser solves before sending a report or a file "
        "(leading zero bits; each step doubles the work; 18 takes about a second on a phone).",
    )
    report_ceiling_per_hour: int = Field(
        600, ge=1, description="Most reports the node accepts in one clock hour, over all jurisdictions."
    )
    report_ceiling_per_jurisdiction_per_hour: int = Field(
        120, ge=1, description="Most reports one jurisdiction accepts in one clock hour."
    )
    acknowledge_days: int = Field(7, ge=1, le=90, description="Days a focal point has to acknowledge a report.")
    audit_seal_minutes: int = Field(
        60,
        ge=0,
        le=10_080,
        description="Minutes between signed seals of the audit log's head: a write after that long seals the log "
        "again with the node's key (0: seal at every write).",
    )
    scheduled_minutes: int = Field(
        60,
        ge=0,
        le=1440,
        description="Minutes between runs of the server's scheduled jobs (retention's shredding of raw reports, "
        "overdue acknowledgements); 0 runs none (run `tnrwatch retention run` from cron instead).",
    )
    node_name: str = Field(
        "tnrwatch node",
        min_length=1,
        max_length=200,
        description="This node's name as its partners see it: the author of the STIX objects it exports.",
    )
    federation_sync_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        description="Minutes between pulls of each partner's TAXII collections (run with the scheduled jobs; "
        "`tnrwatch partners sync` pulls at once).",
    )
    federation_verify_tls: bool = Field(
        True,
        description="Check partners' TLS certificates when pulling from them; turn off only for loopback tests.",
    )
    map_copy: bool = Field(
        True,
        description="Answer the map from an in-memory columnar copy (DuckDB) of the incident tables it counts, kept "
        "in step with the database; false: read the database itself (slower beyond 100,000 incidents).",
    )
    key_wrap_strength: Literal["interactive", "moderate", "sensitive"] = Field(
        "moderate",
        description="Argon2id level for wrapping new recipient private keys with a passphrase "
        "(libsodium's named levels: about 0.2 s, 1 s and 6 s to unlock).",
    )
    staff_session_hours: int = Field(8, ge=1, le=24, description="Hours a staff sign-in lasts.")
    cookie_secure: bool = Field(
        True,
        description="Mark the staff session cookie Secure (sent over HTTPS only; browsers also accept it on "
        "http://127.0.0.1 and http://localhost).",
    )
    # -- delivery of subscriptions (services/delivery.py) ------------------------------------------------------------
    worker: Literal["embedded", "off"] = Field(
        "embedded",
        description="`embedded`: `tnrwatch serve` also runs the delivery worker (subscriptions' inbox, e-mail and "
        "webhooks) in-process; `off`: it does not, and `tnrwatch worker` processes do the delivering.",
    )
    worker_poll_seconds: float = Field(
        0.5,
        gt=0,
        le=60,
        description="Seconds the delivery worker waits between looks for new events and due deliveries when "
        "nothing wakes it sooner (changes in the same process, and PostgreSQL's NOTIFY, wake it at once).",
    )
    delivery_max_attempts: int = Field(
        8, ge=1, le=100, description="Attempts at one e-mail or webhook delivery before it is dead-lettered."
    )
    delivery_retry_seconds: float = Field(
        30.0,
        gt=0,
        le=86_400,
        description="Wait before the first retry of a failed delivery; each further retry waits twice as long "
        "(with random jitter), up to TNRWATCH_DELIVERY_RETRY_MAX_SECONDS.",
    )
    delivery_retry_max_seconds: float = Field(
        3600.0, gt=0, le=604_800, description="Longest wait between two attempts at one delivery."
    )
    delivery_lease_seconds: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="Seconds a worker holds a delivery it is sending; when the worker dies, another one sends it "
        "again after that (the receiver sees the same delivery id twice).",
    )
    delivery_timeout_seconds: float = Field(
        10.0,
        gt=0,
        le=120,
        description="Seconds a webhook receiver or the mail relay has to answer before the attempt counts as failed.",
    )
    smtp_host: str | None = Field(
        None,
        description="Mail relay the e-mail channel sends through. Empty: no e-mail channel (subscriptions asking "
        "for e-mail are refused).",
    )
    smtp_port: int = Field(25, ge=1, le=65535, description="Port of the mail relay.")
    smtp_starttls: bool = Field(False, description="Upgrade the connection to the mail relay with STARTTLS.")
    smtp_from: str = Field(
        "tnrwatch@localhost", min_length=3, max_length=254, description="Sender address of the e-mail channel."
    )
    public_url: str | None = Field(
        None,
        description="This node's address as staff reach it (e.g. https://tnr.example.eu): e-mails and webhooks "
        "link to the incident or alert there. Empty: they carry the path only.",
    )

    # -- the TAXII 2.1 server (web/taxii/, services/taxii.py) ----------------------------------------------------------
    taxii_page_size: int = Field(
        1000, ge=1, le=100_000, description="STIX objects per TAXII page when a partner's request names no `limit`."
    )
    taxii_max_page_size: int = Field(
        5000,
        ge=1,
        le=100_000,
        description="Most STIX objects one TAXII page holds, whatever `limit` a partner asks for.",
    )
    taxii_max_content_mb: int = Field(
        10, ge=1, le=1000, description="Largest body a partner may POST to the TAXII server, in MiB."
    )

    # -- partners' blind-index screening queries (services/blind_index.py) ---------------------------------------------
    screening_queries_per_hour: int = Field(
        60,
        ge=1,
        le=100_000,
        description="Most blind-index screening queries (is this person protected?) one partner may send in an "
        "hour, over all its tokens: a dictionary attack needs many.",
    )
    screening_queries_per_day: int = Field(
        300, ge=1, le=1_000_000, description="Most blind-index screening queries one partner may send in a day."
    )
    screening_cache_minutes: int = Field(
        30,
        ge=0,
        le=1440,
        description="Minutes a process may keep the registry and persons' identities it opened from the vault to "
        "screen notices (in memory, rebuilt sooner when they change); 0: open them again for every screening.",
    )

    @field_validator("database_url")
    @classmethod
    def _empty_is_default(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("smtp_host", "public_url")
    @classmethod
    def _empty_is_off(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'tnrwatch.sqlite3').as_posix()}"

    @property
    def resolved_key_dir(self) -> Path:
        return self.key_dir or self.home / "keys"

    @property
    def resolved_attachment_dir(self) -> Path:
        return self.attachment_dir or self.home / "attachments"

    @property
    def resolved_evidence_dir(self) -> Path:
        return self.evidence_dir or self.home / "evidence"


def settings_reference() -> str:
    """The settings as a Markdown table (variable, default, meaning), as the README shows it."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(empty)" if default is None else str(default).lower() if isinstance(default, bool) else str(default)
        rows.append(f"| `TNRWATCH_{name.upper()}` | `{shown}` | {field.description} |")
    return "\n".join(rows) + "\n"
