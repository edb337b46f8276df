"""Actors on the perpetrator side."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tnrwatch.domain.actor import ActorIn, ActorOut
from tnrwatch.domain.validation import validate
from tnrwatch.errors import ConflictError, FieldError, InvalidInputError, NotFoundError, PreconditionFailedError
from tnrwatch.services.changes import record_change
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Actor
from tnrwatch.store.types import utcnow
from tnrwatch.taxonomy import Taxonomy

_EDITABLE: set[str] = set(ActorIn.model_fields) - {"id"}


def create_actor(node: Node, principal: Principal, raw: Mapping[str, Any] | ActorIn) -> ActorOut:
    require(principal, "actor:write")
    actor = raw if isinstance(raw, ActorIn) else validate(ActorIn, raw, node.taxonomy, what="actor")
    with node.store.writing() as session:
        return add_actor(session, node, principal, actor)


def add_actor(session: Session, node: Node, principal: Principal, actor: ActorIn) -> ActorOut:
    """Store a validated actor in the caller's write transaction and record the change (the caller has checked the
    permission; imports add actors along with other records)."""
    actor_uuid = actor.id or uuid.uuid4()
    if session.scalar(select(Actor.id).where(Actor.uuid == actor_uuid)) is not None:
        raise ConflictError(f"an actor with id {actor_uuid} already exists")
    now = utcnow()
    row = Actor(uuid=actor_uuid, version=1, created_at=now, updated_at=now)
    _apply(session, row, actor)
    session.add(row)
    session.flush()
    record_change(session, principal, "create", "actor", actor_uuid, actor.model_fields_set)
    return _out(row, actor.parent_id, node.taxonomy)


def replace_actor(session: Session, node: Node, principal: Principal, actor: ActorIn) -> ActorOut:
    """Overwrite the stored actor `actor.id` whole in the caller's write transaction, and record the change (the
    caller has checked the permission)."""
    if actor.id is None:
        raise ValueError("replace_actor needs the actor's id")
    row, _ = _find(session, actor.id)
    if actor.parent_id == actor.id:
        raise InvalidInputError("an actor cannot be its own parent", [FieldError(("parent_id",), "names this actor")])
    _apply(session, row, actor)
    row.version += 1
    row.updated_at = utcnow()
    record_change(session, principal, "update", "actor", actor.id, sorted(_EDITABLE))
    return _out(row, actor.parent_id, node.taxonomy)


def update_actor(
    node: Node,
    principal: Principal,
    actor_uuid: uuid.UUID,
    patch: Mapping[str, Any],
    expected_version: int | None = None,
) -> ActorOut:
    require(principal, "actor:write")
    unknown = [FieldError((name,), "unknown field") for name in patch if name not in _EDITABLE]
    if unknown:
        raise InvalidInputError("the update names fields an actor does not have", unknown)
    with node.store.writing() as session:
        row, parent_uuid = _find(session, actor_uuid)
        if expected_version is not None and row.version != expected_version:
            raise PreconditionFailedError(f"the actor is at version {row.version}, not {expected_version}")
        current = _out(row, parent_uuid, node.taxonomy).model_dump(include=_EDITABLE)
        actor = validate(ActorIn, {**current, **patch}, node.taxonomy, what="actor")
        if actor.parent_id == actor_uuid:
            raise InvalidInputError(
                "an actor cannot be its own parent", [FieldError(("parent_id",), "names this actor")]
            )
        _apply(session, row, actor)
        row.version += 1
        row.updated_at = utcnow()
        record_change(session, principal, "update", "actor", actor_uuid, patch.keys())
        return _out(row, actor.parent_id, node.taxonomy)


def get_actor(node: Node, principal: Principal, actor_uuid: uuid.UUID) -> ActorOut:
    require(principal, "actor:read")
    with node.store.reading() as session:
        row, parent_uuid = _find(session, actor_uuid)
        return _out(row, parent_uuid, node.taxonomy)


def list_actors(
    node: Node,
    principal: Principal,
    *,
    country: str | None = None,
    actor_type: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ActorOut]:
    require(principal, "actor:read")
    parent = aliased(Actor)
    statement = select(Actor, parent.uuid).outerjoin(parent, Actor.parent_id == parent.id)
    if country:
        statement = statement.where(Actor.country == country.upper())
    if actor_type:
        statement = statement.where(Actor.actor_type == actor_type)
    statement = statement.order_by(Actor.name, Actor.id).limit(limit).offset(offset)
    with node.store.reading() as session:
        return [_out(row, parent_uuid, node.taxonomy) for row, parent_uuid in session.execute(statement)]


def _apply(session: Session, row: Actor, actor: ActorIn) -> None:
    row.name = actor.name
    row.actor_type = actor.actor_type
    row.country = actor.country
    row.aliases = list(actor.aliases)
    row.description = actor.description
    row.parent_id = None
    if actor.parent_id is not None:
        parent_id = session.scalar(select(Actor.id).where(Actor.uuid == actor.parent_id))
        if parent_id is None:
            raise InvalidInputError(
                "the actor names an unknown parent",
                [FieldError(("parent_id",), f"no actor with id {actor.parent_id}")],
            )
        row.parent_id = parent_id


def _find(session: Session, actor_uuid: uuid.UUID) -> tuple[Actor, uuid.UUID | None]:
    parent = aliased(Actor)
    found = session.execute(
        select(Actor, parent.uuid).outerjoin(parent, Actor.parent_id == parent.id).where(Actor.uuid == actor_uuid)
    ).first()
    if found is None:
        raise NotFoundError(f"no actor with id {actor_uuid}")
    return found[0], found[1]


def _out(row: Actor, parent_uuid: uuid.UUID | None, taxonomy: Taxonomy) -> ActorOut:
    term = taxonomy.actor_types.get(row.actor_type)
    return ActorOut(
        id=row.uuid,
        name=row.name,
        actor_type=row.actor_type,
        country=row.country,
        parent_id=parent_uuid,
        aliases=list(row.aliases),
        description=row.description,
        ftm_schema=(term.ftm_schema if term and term.ftm_schema else "LegalEntity"),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
