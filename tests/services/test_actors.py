from __future__ import annotations

import uuid

import pytest

from tnrwatch.errors import InvalidInputError, NotFoundError, PreconditionFailedError
from tnrwatch.services import actors
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal


def test_actors_with_parents_and_ftm_schema(node: Node, operator: Principal) -> None:
    state = actors.create_actor(node, operator, {"name": "Republic of Example", "actor_type": "state", "country": "tj"})
    agency = actors.create_actor(
        node,
        operator,
        {
            "name": "State Committee for National Security",
            "actor_type": "intelligence_service",
            "country": "TJ",
            "parent_id": str(state.id),
            "aliases": ["GKNB"],
        },
    )
    assert agency.parent_id == state.id
    assert agency.country == "TJ"
    assert state.ftm_schema == "PublicBody"
    listed = actors.list_actors(node, operator, country="TJ", actor_type="intelligence_service")
    assert [actor.id for actor in listed] == [agency.id]


def test_update_and_versions(node: Node, operator: Principal) -> None:
    actor = actors.create_actor(node, operator, {"name": "A proxy group", "actor_type": "criminal_group"})
    updated = actors.update_actor(
        node, operator, actor.id, {"description": "Hired for surveillance"}, expected_version=1
    )
    assert updated.version == 2
    assert updated.description == "Hired for surveillance"
    with pytest.raises(PreconditionFailedError):
        actors.update_actor(node, operator, actor.id, {"name": "x"}, expected_version=1)
    with pytest.raises(InvalidInputError):
        actors.update_actor(node, operator, actor.id, {"parent_id": str(actor.id)})


def test_unknown_parent_type_and_actor(node: Node, operator: Principal) -> None:
    with pytest.raises(InvalidInputError) as caught:
        actors.create_actor(node, operator, {"name": "x", "actor_type": "gang", "parent_id": str(uuid.uuid4())})
    assert caught.value.errors[0].loc == ("actor_type",)
    with pytest.raises(InvalidInputError, match="unknown parent"):
        actors.create_actor(node, operator, {"name": "x", "actor_type": "police", "parent_id": str(uuid.uuid4())})
    with pytest.raises(NotFoundError):
        actors.get_actor(node, operator, uuid.uuid4())
