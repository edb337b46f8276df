"""core incident store

Revision ID: 0001
Revises:
Create Date: 2026-11-28

Full-text search over incident titles and summaries is dialect-specific and not declared in the models:
SQLite gets an external-content FTS5 table, filled by the bulk writer on insert and kept in step by triggers on
update and delete; PostgreSQL a generated tsvector column with a GIN
index. Both use language-neutral tokenising ('simple' / unicode61), since incidents are coded in many languages.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("username", name=op.f("uq_account_username")),
    )
    op.create_table(
        "actor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("actor_type", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["actor.id"], name=op.f("fk_actor_parent_id_actor"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actor")),
        sa.UniqueConstraint("uuid", name=op.f("uq_actor_uuid")),
    )
    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_actor_country_actor_type"), ["country", "actor_type"], unique=False)
        batch_op.create_index(batch_op.f("ix_actor_name"), ["name"], unique=False)

    op.create_table(
        "node_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_node_meta")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("pseudonym", sa.String(length=120), nullable=False),
        sa.Column("at_risk", sa.Boolean(), nullable=False),
        sa.Column("consent_to_share", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_person_pseudonym")),
        sa.UniqueConstraint("uuid", name=op.f("uq_person_uuid")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_api_token_account_id_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_uuid", sa.Uuid(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_change_account_id_account"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change")),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_change_entity_entity_uuid"), ["entity", "entity_uuid"], unique=False)

    op.create_table(
        "incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("date_start", sa.Date(), nullable=False),
        sa.Column("date_end", sa.Date(), nullable=False),
        sa.Column("date_precision", sa.String(length=16), nullable=False),
        sa.Column("host_state_role", sa.String(length=32), nullable=False),
        sa.Column("target_count", sa.Integer(), nullable=True),
        sa.Column("mass_event", sa.Boolean(), nullable=False),
        sa.Column("verification", sa.String(length=32), nullable=False),
        sa.Column("tlp", sa.String(length=16), nullable=False),
        sa.Column("taxonomy_version", sa.String(length=16), nullable=False),
        sa.Column("provenance", sa.String(length=300), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("coded_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("date_end >= date_start", name=op.f("ck_incident_date_order")),
        sa.ForeignKeyConstraint(["coded_by_id"], ["account.id"], name=op.f("fk_incident_coded_by_id_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("uuid", name=op.f("uq_incident_uuid")),
    )
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incident_created_at_id"), ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_date_start_id"), ["date_start", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_host_state_role"), ["host_state_role"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_incident_synthetic"),
            ["synthetic"],
            unique=False,
            sqlite_where=sa.text("synthetic"),
            postgresql_where=sa.text("synthetic"),
        )
        batch_op.create_index(batch_op.f("ix_incident_tlp"), ["tlp"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_updated_at_id"), ["updated_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_incident_verification"), ["verification"], unique=False)

    op.create_table(
        "person_identity",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_identity_person_id_person"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_identity")),
    )
    op.create_table(
        "incident_actor",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["actor.id"], name=op.f("fk_incident_actor_actor_id_actor"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_actor_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("incident_id", "actor_id", name=op.f("pk_incident_actor")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_actor", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_actor_actor_id_incident_id"), ["actor_id", "incident_id"], unique=False
        )

    op.create_table(
        "incident_location",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("geo_precision", sa.String(length=16), nullable=False),
        sa.Column("admin1", sa.String(length=120), nullable=True),
        sa.Column("place", sa.String(length=120), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("obfuscated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_location_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("incident_id", "position", name=op.f("pk_incident_location")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_location", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_location_country_incident_id"), ["country", "incident_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incident_location_lat_lon"), ["lat", "lon"], unique=False)

    op.create_table(
        "incident_origin",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_origin_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("incident_id", "country", name=op.f("pk_incident_origin")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_origin", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_origin_country_incident_id"), ["country", "incident_id"], unique=False
        )

    op.create_table(
        "incident_person",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_person_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_incident_person_person_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("incident_id", "person_id", name=op.f("pk_incident_person")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_person_person_id_incident_id"), ["person_id", "incident_id"], unique=False
        )

    op.create_table(
        "incident_tactic",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("tactic", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_tactic_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("incident_id", "tactic", name=op.f("pk_incident_tactic")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_tactic", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_tactic_tactic_incident_id"), ["tactic", "incident_id"], unique=False
        )

    op.create_table(
        "incident_target",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_target_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("incident_id", "category", name=op.f("pk_incident_target")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_target", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_target_category_incident_id"), ["category", "incident_id"], unique=False
        )

    op.create_table(
        "incident_vulnerability",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_vulnerability_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "flag", name=op.f("pk_incident_vulnerability")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("incident_vulnerability", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incident_vulnerability_flag_incident_id"), ["flag", "incident_id"], unique=False
        )

    op.create_table(
        "source",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("publisher", sa.String(length=120), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("reliability", sa.String(length=1), nullable=False),
        sa.Column("credibility", sa.String(length=1), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_source_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("incident_id", "position", name=op.f("pk_source")),
        sqlite_with_rowid=False,
    )
    _create_full_text_search()


def downgrade() -> None:
    _drop_full_text_search()
    op.drop_table("source")
    with op.batch_alter_table("incident_vulnerability", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_vulnerability_flag_incident_id"))

    op.drop_table("incident_vulnerability")
    with op.batch_alter_table("incident_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_target_category_incident_id"))

    op.drop_table("incident_target")
    with op.batch_alter_table("incident_tactic", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_tactic_tactic_incident_id"))

    op.drop_table("incident_tactic")
    with op.batch_alter_table("incident_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_person_person_id_incident_id"))

    op.drop_table("incident_person")
    with op.batch_alter_table("incident_origin", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_origin_country_incident_id"))

    op.drop_table("incident_origin")
    with op.batch_alter_table("incident_location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_location_lat_lon"))
        batch_op.drop_index(batch_op.f("ix_incident_location_country_incident_id"))

    op.drop_table("incident_location")
    with op.batch_alter_table("incident_actor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_actor_actor_id_incident_id"))

    op.drop_table("incident_actor")
    op.drop_table("person_identity")
    with op.batch_alter_table("incident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_verification"))
        batch_op.drop_index(batch_op.f("ix_incident_updated_at_id"))
        batch_op.drop_index(batch_op.f("ix_incident_tlp"))
        batch_op.drop_index(
            batch_op.f("ix_incident_synthetic"),
            sqlite_where=sa.text("synthetic"),
            postgresql_where=sa.text("synthetic"),
        )
        batch_op.drop_index(batch_op.f("ix_incident_host_state_role"))
        batch_op.drop_index(batch_op.f("ix_incident_date_start_id"))
        batch_op.drop_index(batch_op.f("ix_incident_created_at_id"))

    op.drop_table("incident")
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_entity_entity_uuid"))
        batch_op.drop_index(batch_op.f("ix_change_at"))

    op.drop_table("change")
    op.drop_table("api_token")
    op.drop_table("person")
    op.drop_table("node_meta")
    with op.batch_alter_table("actor", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_actor_name"))
        batch_op.drop_index(batch_op.f("ix_actor_country_actor_type"))

    op.drop_table("actor")
    op.drop_table("account")


def _create_full_text_search() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE incident ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(summary, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_incident_search_vector ON incident USING gin (search_vector)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE incident_fts USING fts5(title, summary, content='incident', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    # No insert trigger: new incidents are indexed in one statement per batch by `tnrwatch.store.bulk`, which is how
    # every incident is inserted; a trigger firing per row halved import speed.
    op.execute(
        "CREATE TRIGGER incident_fts_delete AFTER DELETE ON incident BEGIN "
        "INSERT INTO incident_fts(incident_fts, rowid, title, summary) "
        "VALUES ('delete', old.id, old.title, old.summary); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER incident_fts_update AFTER UPDATE OF title, summary ON incident BEGIN "
        "INSERT INTO incident_fts(incident_fts, rowid, title, summary) "
        "VALUES ('delete', old.id, old.title, old.summary); "
        "INSERT INTO incident_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END"
    )


def _drop_full_text_search() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_incident_search_vector")
        op.execute("ALTER TABLE incident DROP COLUMN search_vector")
        return
    for trigger in ("incident_fts_delete", "incident_fts_update"):
        op.execute(f"DROP TRIGGER {trigger}")
    op.execute("DROP TABLE incident_fts")
