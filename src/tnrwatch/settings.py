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

    @field_validator("database_url")
    @classmethod
    def _empty_is_default(cls, value: str | None) -> str | None:
        return value or None

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
