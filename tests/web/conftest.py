from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tnrwatch.services import accounts
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.settings import Settings
from tnrwatch.web.app import create_app


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
