"""The shape of the taxonomy's YAML files, as TypedDicts. The loader validates each file against these with
pydantic, so an error names the file and the key path.

Every spec forbids unknown keys, so that a misspelt optional key (`exampels:`, `parnet:`) is reported instead
of being ignored. `with_config` is applied to each class: a TypedDict does not inherit its base's config.
TypedDict comes from typing_extensions because pydantic refuses `typing.TypedDict` before Python 3.12.
"""

from __future__ import annotations

from typing import NotRequired

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

_STRICT_KEYS = ConfigDict(extra="forbid")


@with_config(_STRICT_KEYS)
class TermSpec(TypedDict):
    code: str
    label: str
    definition: str
    examples: NotRequired[list[str]]


@with_config(_STRICT_KEYS)
class TacticSpec(TermSpec):
    pass


@with_config(_STRICT_KEYS)
class TacticFamilySpec(TermSpec):
    tactics: list[TacticSpec]


@with_config(_STRICT_KEYS)
class ActorTypeSpec(TermSpec):
    # the FollowTheMoney schema an actor of this type becomes (Person, Organization, PublicBody, Company, ...)
    ftm_schema: str
    parent: NotRequired[str]  # code of a broader actor type, e.g. "proxy" for "criminal_group"


@with_config(_STRICT_KEYS)
class TlpSpec(TermSpec):
    stix_id: str  # the TLP 2.0 marking-definition id published by OASIS


@with_config(_STRICT_KEYS)
class ManifestSpec(TypedDict):
    version: str
    title: str
    released: str
    definition: str
    crosswalks: list[str]


@with_config(_STRICT_KEYS)
class TacticsFileSpec(TypedDict):
    tactic_families: list[TacticFamilySpec]


@with_config(_STRICT_KEYS)
class TargetsFileSpec(TypedDict):
    target_categories: list[TermSpec]
    vulnerability_flags: list[TermSpec]


@with_config(_STRICT_KEYS)
class ActorsFileSpec(TypedDict):
    actor_types: list[ActorTypeSpec]


@with_config(_STRICT_KEYS)
class AssessmentFileSpec(TypedDict):
    host_state_roles: list[TermSpec]
    verification_levels: list[TermSpec]
    source_reliability: list[TermSpec]
    source_credibility: list[TermSpec]
    date_precision: list[TermSpec]
    geo_precision: list[TermSpec]
    tlp: list[TlpSpec]


@with_config(_STRICT_KEYS)
class RolesFileSpec(TypedDict):
    person_roles: list[TermSpec]
    actor_roles: list[TermSpec]


@with_config(_STRICT_KEYS)
class CrosswalkCategorySpec(TypedDict):
    code: str
    label: str
    definition: NotRequired[str]


@with_config(_STRICT_KEYS)
class CrosswalkSpec(TypedDict):
    code: str
    label: str
    publisher: str
    reference: str
    vocabulary: str  # which of our vocabularies the map's keys come from, e.g. "tactics"
    categories: list[CrosswalkCategorySpec]
    map: dict[str, str]  # our code -> their category code; our codes without an entry have no equivalent
