"""What a node says about itself: versions, the database it runs on, and whether it holds synthetic demo data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

import tnrwatch
from tnrwatch.services.node import Node
from tnrwatch.store.models import Incident


@dataclass(frozen=True)
class NodeStatus:
    version: str
    taxonomy_version: str
    database: str
    holds_synthetic_data: bool
    map_copy: str  # the map's columnar copy (store/analytics.py): "ready", "building", "on first use" or "off"


def node_status(node: Node) -> NodeStatus:
    with node.store.reading() as session:
        synthetic = session.scalar(select(Incident.id).where(Incident.synthetic.is_(True)).limit(1)) is not None
    return NodeStatus(
        version=tnrwatch.__version__,
        taxonomy_version=node.taxonomy.version,
        database=node.store.dialect,
        holds_synthetic_data=synthetic,
        map_copy=_map_copy(node),
    )


def _map_copy(node: Node) -> str:
    copy = node.analytics
    if copy is None:
        return "off"
    if copy.ready:
        return "ready"
    return "building" if copy.building else "on first use"
