"""The loaded taxonomy: immutable vocabularies of terms, and crosswalks to other datasets' categories."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from tnrwatch.errors import FieldError

# Each vocabulary's name, as used in error messages, the API and crosswalk files, with the singular noun for
# messages.
VOCABULARY_NOUNS: Mapping[str, str] = {
    "tactic_families": "tactic family",
    "tactics": "tactic",
    "target_categories": "target category",
    "vulnerability_flags": "vulnerability flag",
    "actor_types": "actor type",
    "host_state_roles": "host-state role",
    "verification_levels": "verification level",
    "source_reliability": "source reliability grade",
    "source_credibility": "source credibility grade",
    "date_precision": "date precision",
    "geo_precision": "geo precision",
    "tlp": "TLP marking",
    "person_roles": "person role",
    "actor_roles": "actor role",
}


@dataclass(frozen=True)
class Term:
    code: str
    label: str
    definition: str
    examples: tuple[str, ...] = ()
    family: str | None = None  # tactics: the code of their family
    parent: str | None = None  # actor types: the code of the broader type
    ftm_schema: str | None = None  # actor types: the FollowTheMoney schema
    stix_id: str | None = None  # TLP: the marking-definition id


@dataclass(frozen=True)
class Vocabulary:
    """An ordered set of terms. Order is meaningful where the YAML says so (precision from fine to coarse,
    grades)."""

    name: str
    terms: tuple[Term, ...]
    _by_code: Mapping[str, Term] = field(init=False, repr=False, compare=False)
    _rank: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_code", {term.code: term for term in self.terms})
        object.__setattr__(self, "_rank", {term.code: index for index, term in enumerate(self.terms)})

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def noun(self) -> str:
        return VOCABULARY_NOUNS.get(self.name, self.name)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self._by_code)

    def get(self, code: str) -> Term | None:
        return self._by_code.get(code)

    def label(self, code: str) -> str:
        term = self._by_code.get(code)
        return term.label if term else code

    def rank(self, code: str) -> int:
        """Position of `code` in the vocabulary's order (0 is first); raises ValueError for an unknown
        code."""
        try:
            return self._rank[code]  # a dict, not codes.index(): imports rank every code of every incident
        except KeyError:
            raise ValueError(f"{code!r} is not a {self.noun} code") from None

    def check(self, code: str, loc: tuple[str | int, ...]) -> FieldError | None:
        """Return `None` for a known code, else an error that names the valid codes."""
        if code in self._by_code:
            return None
        return FieldError(loc, f"unknown {self.noun} code {code!r}; valid codes: {', '.join(self.codes)}")


@dataclass(frozen=True)
class Crosswalk:
    """Maps our codes in one vocabulary onto another dataset's categories (many of ours onto one of
    theirs)."""

    code: str
    label: str
    publisher: str
    reference: str
    vocabulary: str
    categories: Vocabulary
    map: Mapping[str, str]

    def translate(self, our_code: str) -> str | None:
        return self.map.get(our_code)

    def reverse(self, their_code: str) -> tuple[str, ...]:
        """Our codes that map onto `their_code`, in our vocabulary's order of appearance in the map."""
        return tuple(ours for ours, theirs in self.map.items() if theirs == their_code)


@dataclass(frozen=True)
class Taxonomy:
    version: str
    title: str
    released: str
    definition: str
    vocabularies: Mapping[str, Vocabulary]
    crosswalks: Mapping[str, Crosswalk]

    def vocabulary(self, name: str) -> Vocabulary:
        return self.vocabularies[name]

    @property
    def tactic_families(self) -> Vocabulary:
        return self.vocabularies["tactic_families"]

    @property
    def tactics(self) -> Vocabulary:
        return self.vocabularies["tactics"]

    @property
    def target_categories(self) -> Vocabulary:
        return self.vocabularies["target_categories"]

    @property
    def vulnerability_flags(self) -> Vocabulary:
        return self.vocabularies["vulnerability_flags"]

    @property
    def actor_types(self) -> Vocabulary:
        return self.vocabularies["actor_types"]

    @property
    def host_state_roles(self) -> Vocabulary:
        return self.vocabularies["host_state_roles"]

    @property
    def verification_levels(self) -> Vocabulary:
        return self.vocabularies["verification_levels"]

    @property
    def source_reliability(self) -> Vocabulary:
        return self.vocabularies["source_reliability"]

    @property
    def source_credibility(self) -> Vocabulary:
        return self.vocabularies["source_credibility"]

    @property
    def date_precision(self) -> Vocabulary:
        return self.vocabularies["date_precision"]

    @property
    def geo_precision(self) -> Vocabulary:
        return self.vocabularies["geo_precision"]

    @property
    def tlp(self) -> Vocabulary:
        return self.vocabularies["tlp"]

    @property
    def person_roles(self) -> Vocabulary:
        return self.vocabularies["person_roles"]

    @property
    def actor_roles(self) -> Vocabulary:
        return self.vocabularies["actor_roles"]

    def tactics_of_family(self, family: str) -> tuple[str, ...]:
        return tuple(term.code for term in self.tactics if term.family == family)

    def family_of(self, tactic: str) -> str:
        term = self.tactics.get(tactic)
        if term is None or term.family is None:
            raise KeyError(tactic)
        return term.family
