"""Article 3 red flags as data (`v1/red_flags.yaml`): the loader, its checks, and the evaluation of the rules
against the facts screening gathered about one notice.

Loading collects every problem and raises once (`RedFlagRulesError`), each problem naming the rule (by id, or its
position when the id is missing) and the field. Evaluation is pure: `evaluate(rules, facts)` returns the flags
raised, each with the evidence that raised it (which charge and keyword, which registry category, which counts), and
`recommend` turns them into proceed / consult_focal_point / do_not_act_pending_review with the reasons.

This module imports nothing of tnrwatch but `errors` and the taxonomy: the screening service gathers the facts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tnrwatch.errors import ConfigurationError, FieldError
from tnrwatch.taxonomy.loader import DEFAULT_DIRECTORY, default_taxonomy

DEFAULT_FILE = DEFAULT_DIRECTORY / "red_flags.yaml"
FILE_LABEL = "red_flags.yaml"
# The registry's categories (domain/notice.py REGISTRY_CATEGORIES; the taxonomy layer cannot import the domain, a
# test keeps the two equal).
SUBJECT_CATEGORIES = frozenset({"hrd", "journalist", "refugee", "asylum_seeker", "incident_target", "other"})
KINDS = (
    "charge_keywords",
    "subject_in_registry",
    "prior_refusal",
    "requesting_state_pattern",
    "subject_in_incident",
    "charge_follows_incident",
)
RuleKind = Literal[
    "charge_keywords",
    "subject_in_registry",
    "prior_refusal",
    "requesting_state_pattern",
    "subject_in_incident",
    "charge_follows_incident",
]
Severity = Literal["high", "medium", "low"]
Action = Literal["proceed", "consult_focal_point", "do_not_act_pending_review"]
_ID = r"^[a-z][a-z0-9_]*$"
# Which optional fields each kind needs; any other optional field is refused, so that a misplaced one never
# silently does nothing.
_KIND_FIELDS: dict[str, frozenset[str]] = {
    "charge_keywords": frozenset({"keywords", "subject_categories"}),
    "subject_in_registry": frozenset({"categories"}),
    "prior_refusal": frozenset(),
    "requesting_state_pattern": frozenset({"threshold", "min_decided"}),
    "subject_in_incident": frozenset({"roles"}),
    "charge_follows_incident": frozenset({"keywords", "days"}),
}
_REQUIRED: dict[str, frozenset[str]] = {
    "charge_keywords": frozenset({"keywords"}),
    "subject_in_registry": frozenset({"categories"}),
    "requesting_state_pattern": frozenset({"threshold", "min_decided"}),
    "subject_in_incident": frozenset({"roles"}),
    "charge_follows_incident": frozenset({"keywords", "days"}),
}
_OPTIONAL = frozenset({"keywords", "subject_categories", "categories", "roles", "threshold", "min_decided", "days"})

NonBlank = Annotated[str, Field(min_length=1)]


class RedFlagRulesError(ConfigurationError):
    """The red-flag rules are invalid; `errors` has one entry per problem, `loc` starting with the file name."""

    def __str__(self) -> str:
        lines = "\n".join(f"  {e.where()}: {e.msg}" for e in self.errors)
        return f"{self.message}:\n{lines}" if lines else self.message


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: NonBlank
    note: str = ""


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=_ID, max_length=64)]
    title: NonBlank
    kind: RuleKind
    severity: Severity
    weight: Annotated[float, Field(ge=0, le=10)]
    sources: Annotated[list[NonBlank], Field(min_length=1)]
    explanation: NonBlank
    keywords: (
        dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], Annotated[list[NonBlank], Field(min_length=1)]] | None
    ) = None
    subject_categories: list[str] | None = None
    categories: Annotated[list[str], Field(min_length=1)] | None = None
    roles: Annotated[list[str], Field(min_length=1)] | None = None
    threshold: Annotated[float, Field(gt=0, le=1)] | None = None
    min_decided: Annotated[int, Field(ge=1)] | None = None
    days: Annotated[int, Field(ge=1, le=3650)] | None = None


class RecommendationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    do_not_act_pending_review_from: Annotated[float, Field(gt=0)]
    consult_focal_point_from: Annotated[float, Field(gt=0)]


@dataclass(frozen=True)
class Keyword:
    language: str
    text: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    kind: RuleKind
    severity: Severity
    weight: float
    sources: tuple[str, ...]
    explanation: str
    keywords: tuple[Keyword, ...] = ()
    subject_categories: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    threshold: float = 0.0
    min_decided: int = 0
    days: int = 0

    def find_keyword(self, text: str) -> Keyword | None:
        """The first of the rule's keywords found in `text` (case-insensitive), or None."""
        folded = text.casefold()
        for keyword in self.keywords:
            if keyword.pattern.search(folded):
                return keyword
        return None


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    note: str


@dataclass(frozen=True)
class RedFlagRules:
    version: str
    sources: dict[str, Source]
    rules: tuple[Rule, ...]
    do_not_act_pending_review_from: float
    consult_focal_point_from: float

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def _keyword_pattern(text: str) -> re.Pattern[str]:
    folded = text.casefold()
    escaped = re.escape(folded)
    if folded.isascii():
        # At a word start only: "extremis" finds "extremism" and "anti-extremism" (a hyphen starts a word), never
        # a keyword inside an unrelated word ("treason" in "pretreasonous" is not a charge of treason).
        return re.compile(r"(?<![a-z0-9])" + escaped)
    return re.compile(escaped)


def load_red_flags(path: Path = DEFAULT_FILE) -> RedFlagRules:
    """Read and check the rules file; raise `RedFlagRulesError` listing every problem (rule id and field)."""
    label = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RedFlagRulesError("the red-flag rules are missing", [FieldError((label,), "file is missing")]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise RedFlagRulesError(
            "the red-flag rules cannot be read", [FieldError((label,), " ".join(str(exc).split()))]
        ) from None
    return parse_red_flags(raw, label)


def parse_red_flags(raw: Any, label: str = FILE_LABEL) -> RedFlagRules:
    """Check an already parsed rules document (see `load_red_flags`)."""
    problems: list[FieldError] = []
    if not isinstance(raw, dict):
        raise RedFlagRulesError("the red-flag rules are invalid", [FieldError((label,), "expected a mapping")])
    for key in sorted(set(raw) - {"version", "sources", "recommendation", "rules"}):
        problems.append(FieldError((label, str(key)), "unknown field"))
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        problems.append(FieldError((label, "version"), 'a version string is required, e.g. "2025.1"'))
    sources: dict[str, Source] = {}
    raw_sources = raw.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        problems.append(FieldError((label, "sources"), "a mapping of source ids to {title, note} is required"))
    else:
        for source_id, body in raw_sources.items():
            try:
                spec = SourceSpec.model_validate(body)
            except ValidationError as exc:
                problems += _errors(exc, (label, "sources", str(source_id)))
                continue
            sources[str(source_id)] = Source(str(source_id), spec.title, spec.note)
    recommendation: RecommendationSpec | None = None
    try:
        recommendation = RecommendationSpec.model_validate(raw.get("recommendation"))
        if recommendation.consult_focal_point_from > recommendation.do_not_act_pending_review_from:
            problems.append(
                FieldError(
                    (label, "recommendation", "consult_focal_point_from"),
                    "must not be above do_not_act_pending_review_from",
                )
            )
    except ValidationError as exc:
        problems += _errors(exc, (label, "recommendation"))
    rules = _rules(raw.get("rules"), label, sources, problems)
    if problems or recommendation is None or not isinstance(version, str):
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        raise RedFlagRulesError(f"the red-flag rules are invalid ({count})", problems)
    return RedFlagRules(
        version=version.strip(),
        sources=sources,
        rules=tuple(rules),
        do_not_act_pending_review_from=recommendation.do_not_act_pending_review_from,
        consult_focal_point_from=recommendation.consult_focal_point_from,
    )


def _rules(raw: Any, label: str, sources: dict[str, Source], problems: list[FieldError]) -> list[Rule]:
    if not isinstance(raw, list) or not raw:
        problems.append(FieldError((label, "rules"), "a list of rules is required"))
        return []
    roles = set(default_taxonomy().vocabulary("person_roles").codes)
    seen: set[str] = set()
    rules: list[Rule] = []
    for position, body in enumerate(raw):
        rule_id = body.get("id") if isinstance(body, dict) else None
        where: tuple[str | int, ...] = (label, "rules", rule_id if isinstance(rule_id, str) and rule_id else position)
        try:
            spec = RuleSpec.model_validate(body)
        except ValidationError as exc:
            problems += _errors(exc, where)
            continue
        before = len(problems)
        if spec.id in seen:
            problems.append(FieldError((*where, "id"), "appears earlier in the file"))
        seen.add(spec.id)
        given = {name for name in _OPTIONAL if getattr(spec, name) is not None}
        for name in sorted(given - _KIND_FIELDS[spec.kind]):
            problems.append(FieldError((*where, name), f"is not read by a rule of kind {spec.kind}"))
        for name in sorted(_REQUIRED.get(spec.kind, frozenset()) - given):
            problems.append(FieldError((*where, name), f"is required by a rule of kind {spec.kind}"))
        for source in spec.sources:
            if source not in sources:
                problems.append(FieldError((*where, "sources"), f"{source!r} is not one of the file's sources"))
        for name in ("categories", "subject_categories"):
            unknown = sorted(set(getattr(spec, name) or ()) - SUBJECT_CATEGORIES)
            if unknown:
                known = ", ".join(sorted(SUBJECT_CATEGORIES))
                problems.append(FieldError((*where, name), f"unknown {', '.join(unknown)} (known: {known})"))
        unknown_roles = sorted(set(spec.roles or ()) - roles)
        if unknown_roles:
            problems.append(FieldError((*where, "roles"), f"unknown person role {', '.join(unknown_roles)}"))
        if len(problems) > before:
            continue
        keywords = tuple(
            Keyword(language, text, _keyword_pattern(text))
            for language, texts in (spec.keywords or {}).items()
            for text in texts
        )
        rules.append(
            Rule(
                id=spec.id,
                title=spec.title,
                kind=spec.kind,
                severity=spec.severity,
                weight=spec.weight,
                sources=tuple(spec.sources),
                explanation=" ".join(spec.explanation.split()),
                keywords=keywords,
                subject_categories=frozenset(spec.subject_categories or ()),
                categories=frozenset(spec.categories or ()),
                roles=frozenset(spec.roles or ()),
                threshold=spec.threshold or 0.0,
                min_decided=spec.min_decided or 0,
                days=spec.days or 0,
            )
        )
    return rules


def _errors(exc: ValidationError, where: tuple[str | int, ...]) -> list[FieldError]:
    return [FieldError((*where, *(str(p) for p in error["loc"])), error["msg"].lower()) for error in exc.errors()]


@cache
def default_red_flags() -> RedFlagRules:
    """The rules shipped with this version of tnrwatch, loaded once per process."""
    return load_red_flags(DEFAULT_FILE)


# -- evaluation ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charge:
    charge: str
    charge_translation: str | None = None
    legal_provision: str | None = None


@dataclass(frozen=True)
class ProtectedMatch:
    """A registry entry the subject matches: its category and whether it is protected from the requesting state."""

    pseudonym: str
    category: str
    from_requesting_state: bool


@dataclass(frozen=True)
class IncidentMatch:
    """A person linked to an incident of the requesting state whom the subject matches (no identity)."""

    incident: str  # a label: the incident's id, or "an incident of jurisdiction X" when the reader may not see it
    role: str
    incident_date: dt.date | None


@dataclass(frozen=True)
class StateRecord:
    notices: int
    decided: int
    do_not_act: int
    incidents: int

    @property
    def abusive_share(self) -> float | None:
        return self.do_not_act / self.decided if self.decided else None


@dataclass(frozen=True)
class Facts:
    """What screening found about one notice; the rules read only this."""

    requesting_state: str
    charges: Sequence[Charge]
    issued: dt.date | None
    registry: Sequence[ProtectedMatch] = ()
    incidents: Sequence[IncidentMatch] = ()
    prior_refusals: int = 0
    state: StateRecord = field(default_factory=lambda: StateRecord(0, 0, 0, 0))


@dataclass(frozen=True)
class RaisedFlag:
    rule: Rule
    evidence: tuple[str, ...]


def evaluate(rules: RedFlagRules, facts: Facts) -> list[RaisedFlag]:
    """The flags `facts` raise, in the file's order, each with what raised it."""
    raised: list[RaisedFlag] = []
    for rule in rules.rules:
        evidence = _EVALUATORS[rule.kind](rule, facts)
        if evidence:
            raised.append(RaisedFlag(rule, tuple(evidence)))
    return raised


def _charge_hits(rule: Rule, charges: Sequence[Charge]) -> list[str]:
    hits: list[str] = []
    for number, charge in enumerate(charges, start=1):
        for what, text in (
            ("charge", charge.charge),
            ("original-language charge", charge.charge_translation),
            ("legal provision", charge.legal_provision),
        ):
            keyword = rule.find_keyword(text) if text else None
            if keyword is not None:
                hits.append(f"warrant {number}: the {what} contains {keyword.text!r} ({keyword.language})")
                break
    return hits


def _charge_keywords(rule: Rule, facts: Facts) -> list[str]:
    if rule.subject_categories:
        held = sorted(
            {m.category for m in facts.registry if m.from_requesting_state and m.category in rule.subject_categories}
        )
        if not held:
            return []
        hits = _charge_hits(rule, facts.charges)
        return [*hits, f"the registry holds the subject as {', '.join(held)}"] if hits else []
    return _charge_hits(rule, facts.charges)


def _subject_in_registry(rule: Rule, facts: Facts) -> list[str]:
    return [
        f"registry entry {m.pseudonym} ({m.category}), protected from {facts.requesting_state}"
        for m in facts.registry
        if m.from_requesting_state and m.category in rule.categories
    ]


def _prior_refusal(rule: Rule, facts: Facts) -> list[str]:
    if not facts.prior_refusals:
        return []
    return [f"{facts.prior_refusals} earlier notice(s) about a matching subject decided do_not_act"]


def _state_pattern(rule: Rule, facts: Facts) -> list[str]:
    share = facts.state.abusive_share
    if share is None or facts.state.decided < rule.min_decided or share < rule.threshold:
        return []
    return [
        f"{facts.state.do_not_act} of {facts.state.decided} decided notices from {facts.requesting_state} "
        f"were decided do_not_act ({share:.0%}; threshold {rule.threshold:.0%})"
    ]


def _subject_in_incident(rule: Rule, facts: Facts) -> list[str]:
    return [f"{m.role} of {m.incident}" for m in facts.incidents if m.role in rule.roles]


def _charge_follows_incident(rule: Rule, facts: Facts) -> list[str]:
    if facts.issued is None:
        return []
    hits = _charge_hits(rule, facts.charges)
    if not hits:
        return []
    found = [
        f"issued {(facts.issued - m.incident_date).days} days after {m.incident} ({m.role})"
        for m in facts.incidents
        if m.incident_date is not None and 0 <= (facts.issued - m.incident_date).days <= rule.days
    ]
    return [*hits, *found] if found else []


_EVALUATORS = {
    "charge_keywords": _charge_keywords,
    "subject_in_registry": _subject_in_registry,
    "prior_refusal": _prior_refusal,
    "requesting_state_pattern": _state_pattern,
    "subject_in_incident": _subject_in_incident,
    "charge_follows_incident": _charge_follows_incident,
}


@dataclass(frozen=True)
class Recommendation:
    action: Action
    weight: float
    reasons: tuple[str, ...]


def recommend(rules: RedFlagRules, flags: Sequence[RaisedFlag], *, matched: bool) -> Recommendation:
    """The recommended action from the flags' summed weight; a match in the registry or in an incident (`matched`)
    asks for the focal point at least."""
    weight = sum(flag.rule.weight for flag in flags)
    reasons = [f"{flag.rule.title} ({flag.rule.severity}, weight {flag.rule.weight:g})" for flag in flags]
    if weight >= rules.do_not_act_pending_review_from:
        action: Action = "do_not_act_pending_review"
        reasons.insert(0, f"red flags weigh {weight:g}, from {rules.do_not_act_pending_review_from:g} on: do not act")
    elif weight >= rules.consult_focal_point_from or matched:
        action = "consult_focal_point"
        if matched:
            reasons.insert(0, "the subject matches a protected person or an incident target: ask the focal point")
        if weight >= rules.consult_focal_point_from:
            reasons.insert(0, f"red flags weigh {weight:g}, from {rules.consult_focal_point_from:g} on: consult")
    else:
        action = "proceed"
        reasons.insert(0, "no match and no red flag above the consultation threshold")
    return Recommendation(action, weight, tuple(reasons))
