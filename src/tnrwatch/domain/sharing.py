"""What may leave the node, to whom, and in what shape: TLP 2.0 as a rule, not a label.

One function, `may_share`, decides whether an object with a marking may go to a partner node; every route that hands
objects to partners (TAXII collections, federation re-sharing, webhooks, exports for a partner) asks it. The rules,
from FIRST's TLP 2.0 read at the level of nodes (an organisation here is a node):

- CLEAR: anyone.
- GREEN: the community, that is every partner node this one has registered (not the public).
- AMBER: the recipients the originator named, and their clients. An object this node wrote goes to the partners its
  audience names; one it received at AMBER goes on only to this node's own clients.
- AMBER+STRICT: the recipient organisation only. Named partners of an object this node wrote; never passed on.
- RED: named recipients only. Named partners of an object this node wrote; never passed on.

And never beyond a partner's clearance: a partner registered as GREEN-only receives nothing above GREEN, named or not.

Field masking: a collection or message below AMBER carries no free text (summaries, descriptions, notes), since free
text is where names and places slip through coding. `mask_free_text` says when.

Subscriptions: `SubscriptionFilter` is a saved search (origin, host, tactic, target category, level, topic);
`Facts` are what an incident or alert offers to match against, and `SubscriptionFilter.matches` decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tnrwatch.domain.codes import CountryCode, TacticCode, TargetCategoryCode

TLP_ORDER: tuple[str, ...] = ("clear", "green", "amber", "amber+strict", "red")  # least to most restrictive
_RANK = {tlp: rank for rank, tlp in enumerate(TLP_ORDER)}
LOCAL = "local"  # the source of an object this node wrote

Topic = Literal["incident", "alert"]
TOPICS: tuple[Topic, ...] = ("incident", "alert")


def tlp_rank(tlp: str) -> int:
    """0 for CLEAR up to 4 for RED; an unknown marking is a programming error (markings are validated on entry)."""
    try:
        return _RANK[tlp]
    except KeyError:
        raise ValueError(f"unknown TLP marking {tlp!r}") from None


def stricter(first: str, second: str) -> str:
    return first if tlp_rank(first) >= tlp_rank(second) else second


def within_clearance(tlp: str, clearance: str) -> bool:
    return tlp_rank(tlp) <= tlp_rank(clearance)


def mask_free_text(tlp: str) -> bool:
    """Whether free text is dropped for an audience reading at this marking (below AMBER)."""
    return tlp_rank(tlp) < _RANK["amber"]


INDICATOR_FLOOR = "amber"


def indicator_tlp(tlp: str) -> str:
    """The marking an incident's technical indicators (domain/indicators.py) travel at: the incident's own, never
    below AMBER. An indicator can point at a victim as easily as at an attacker (a target's own address or phone
    mistaken for the attacker's), so indicators go only to named recipients: never to the community collection, never
    in an export masked for an audience below AMBER, never in a MISP event below AMBER (docs/threat-model.md)."""
    return stricter(tlp, INDICATOR_FLOOR)


def carries_indicators(tlp: str) -> bool:
    """Whether something shared at marking `tlp` (a MISP event, a masked bundle) may hold indicators."""
    return tlp_rank(tlp) >= _RANK[INDICATOR_FLOOR]


@dataclass(frozen=True)
class PartnerView:
    """What the rule needs to know of a partner node."""

    name: str
    clearance: str
    client: bool = False


def may_share(tlp: str, *, source: str, named: frozenset[str], partner: PartnerView) -> bool:
    """Whether an object marked `tlp`, written here (`source` == LOCAL) or received from the partner `source`,
    whose audience names the partners `named`, may go to `partner`. Never back to the partner it came from (it has
    it), never above the partner's clearance."""
    if partner.name == source or not within_clearance(tlp, partner.clearance):
        return False
    if tlp in ("clear", "green"):
        return True
    if source == LOCAL:
        return partner.name in named
    return tlp == "amber" and partner.client


class SubscriptionFilter(BaseModel):
    """A saved search. Each list narrows (an empty list matches anything); within a list any value matches.
    `levels` apply to alerts only (incidents have none); `topics` choose incidents, alerts or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: list[Topic] = Field(default_factory=lambda: list(TOPICS), min_length=1)
    origins: list[CountryCode] = Field(default_factory=list, max_length=300)
    hosts: list[CountryCode] = Field(default_factory=list, max_length=300)
    tactics: list[TacticCode] = Field(default_factory=list, max_length=200)
    target_categories: list[TargetCategoryCode] = Field(default_factory=list, max_length=200)
    levels: list[Literal["information", "warning", "urgent"]] = Field(default_factory=list)

    @field_validator("topics", "origins", "hosts", "tactics", "target_categories", "levels")
    @classmethod
    def _once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each value once")
        return value

    def matches(self, facts: Facts) -> bool:
        if facts.topic not in self.topics:
            return False
        if self.levels and (facts.level is None or facts.level not in self.levels):
            return False
        return all(
            not wanted or not wanted.isdisjoint(offered)
            for wanted, offered in (
                (frozenset(self.origins), facts.origins),
                (frozenset(self.hosts), facts.hosts),
                (frozenset(self.tactics), facts.tactics),
                (frozenset(self.target_categories), facts.target_categories),
            )
        )


@dataclass(frozen=True)
class Facts:
    """What an incident or an alert offers a subscription: an alert offers the union of its incidents' codes."""

    topic: Topic
    origins: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()
    tactics: frozenset[str] = frozenset()
    target_categories: frozenset[str] = frozenset()
    level: str | None = None
