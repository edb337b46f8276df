from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tnrwatch.services import accounts, recipient_keys
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app

from .browser import CHROMIUM_FLAGS, chromium_or_skip


@pytest.fixture
def client(settings: Settings, node: Node) -> Iterator[TestClient]:
    with TestClient(create_app(settings, node)) as test_client:
        yield test_client


def token_for(node: Node, username: str, role: str) -> dict[str, str]:
    accounts.add_account(node, Principal.operator(), username, role)
    return {"Authorization": f"Bearer {accounts.create_token(node, Principal.operator(), username).token}"}


@pytest.fixture
def analyst(node: Node) -> dict[str, str]:
    """Authorization headers of an analyst."""
    return token_for(node, "ana", "analyst")


# -- browser tests -----------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a thread on a free loopback port while the block runs; its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=_free_port(), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """The app on a free loopback port, over SQLite: the pages do not depend on the database backend.

    One server per test module: browser tests only read pages and static files, and starting uvicorn per test would
    dominate their run time.
    """
    home = tmp_path_factory.mktemp("live")
    database = home / "browser.sqlite3"
    shutil.copyfile(sqlite_template, database)
    settings = Settings(home=home, database_url=f"sqlite:///{database}", sqlite_synchronous="NORMAL")
    node = Node.open(settings)
    _add_recipient_key(node, "DE")  # so that the report form opens
    with serving(create_app(settings, node)) as url:
        yield url
    node.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright, shared by the tests of one module (each test opens its own page).

    Module rather than session scope: the Playwright driver and its event loop then live only while browser tests run.
    """
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright  # only browser tests need Playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


def _add_recipient_key(node: Node, jurisdiction: str) -> None:
    recipient_keys.create_key(
        node,
        Principal.operator(),
        jurisdiction=jurisdiction,
        username=None,
        passphrase="a passphrase for tests",
        strength="interactive",
    )
