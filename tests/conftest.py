"""Shared fixtures. Every store test runs on SQLite, and on PostgreSQL when TNRWATCH_TEST_DATABASE_URL is set.

PostgreSQL: each test session (each xdist worker) creates its own database next to the one the URL names, migrates it
once, empties it after every test and drops it at the end, so that runs never collide. SQLite: one migrated file per
session, copied for every test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.store import migrate
from tnrwatch.store.db import Store
from tnrwatch.store.jurisdictions import initial_jurisdictions
from tnrwatch.store.models import Base, Jurisdiction
from tnrwatch.taxonomy import default_taxonomy

PG_URL_VARIABLE = "TNRWATCH_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgresql_base_url() -> str | None:
    return os.environ.get(PG_URL_VARIABLE) or None


class PostgresDatabases:
    """Creates and drops throwaway databases on the server that TNRWATCH_TEST_DATABASE_URL points at."""

    def __init__(self, base_url: str) -> None:
        self.base = make_url(base_url)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def create(self, label: str) -> str:
        name = f"tnrwatch_{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    base = postgresql_base_url()
    if base is None:
        yield None
        return
    databases = PostgresDatabases(base)
    yield databases
    databases.drop_all()


def skip_without_postgres() -> None:
    reason = f"PostgreSQL tests need {PG_URL_VARIABLE} (CI sets it)"
    if os.environ.get("TNRWATCH_REQUIRE_POSTGRES"):
        pytest.fail(reason + ", and TNRWATCH_REQUIRE_POSTGRES is set")
    pytest.skip(reason)


def require_postgres(databases: PostgresDatabases | None) -> PostgresDatabases:
    if databases is None:
        skip_without_postgres()
    assert databases is not None
    return databases


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    store = Store(f"sqlite:///{path}")
    migrate.upgrade(store)
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_session_url(postgres_databases: PostgresDatabases | None) -> str | None:
    if postgres_databases is None:
        return None
    url = postgres_databases.create("tests")
    store = Store(url)
    migrate.upgrade(store)
    store.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_session_url: str | None
) -> Iterator[str]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "tnrwatch.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if postgres_session_url is None:
        skip_without_postgres()
    assert postgres_session_url is not None
    yield postgres_session_url
    _empty_postgres(postgres_session_url)


@pytest.fixture(scope="session")
def postgres_second_url(postgres_databases: PostgresDatabases | None) -> str | None:
    """A second migrated PostgreSQL database, for tests that run two nodes side by side (federation)."""
    if postgres_databases is None:
        return None
    url = postgres_databases.create("second")
    store = Store(url)
    migrate.upgrade(store)
    store.dispose()
    return url


@pytest.fixture
def second_database_url(
    database_url: str, tmp_path: Path, sqlite_template: Path, postgres_second_url: str | None
) -> Iterator[str]:
    """A second migrated, empty database on the same backend as `database_url`: a second node's."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "second.sqlite3"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    assert postgres_second_url is not None  # database_url is PostgreSQL, so the server is there
    yield postgres_second_url
    _empty_postgres(postgres_second_url)


def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # The jurisdictions every node starts with come from migration 0002; put them back as it left them.
        connection.execute(insert(Jurisdiction), initial_jurisdictions())
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # Light proof of work and key wrapping: the tests check the rules, not the cost.
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        sqlite_synchronous="NORMAL",
        report_pow_bits=4,
        key_wrap_strength="interactive",
    )


@pytest.fixture
def node(settings: Settings) -> Iterator[Node]:
    opened = Node.open(settings, default_taxonomy())
    yield opened
    opened.close()


@pytest.fixture
def operator() -> Principal:
    return Principal.operator()


_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (TNRWATCH_FORBID_SKIPS=1) every test must run: a skip there hides a missing browser, database or file."""
    if os.environ.get("TNRWATCH_FORBID_SKIPS") and _skipped and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"TNRWATCH_FORBID_SKIPS is set but {len(_skipped)} tests were skipped:", red=True)
            for nodeid in _skipped[:20]:
                reporter.write_line(f"  {nodeid}")
