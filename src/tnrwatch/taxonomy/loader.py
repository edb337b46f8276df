"""Load the taxonomy's YAML files, check their shape against the TypedDict specs and cross-check every
reference.

Every problem is collected and raised once as `TaxonomyError`, each line naming the file and the key path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from tnrwatch.errors import ConfigurationError, FieldError
from tnrwatch.taxonomy.model import VOCABULARY_NOUNS, Crosswalk, Taxonomy, Term, Vocabulary
from tnrwatch.taxonomy.specs import (
    ActorsFileSpec,
    AssessmentFileSpec,
    CrosswalkSpec,
    ManifestSpec,
    RolesFileSpec,
    TacticsFileSpec,
    TargetsFileSpec,
    TermSpec,
)

DEFAULT_DIRECTORY = Path(__file__).parent / "v1"
CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_+.-]*$")
FTM_SCHEMATA = frozenset({"Person", "Organization", "PublicBody", "Company", "LegalEntity"})

SpecT = TypeVar("SpecT")


class TaxonomyError(ConfigurationError):
    """The taxonomy files are inconsistent. `errors` holds one entry per problem; `loc` starts with the file
    name. `message` is the one-line summary; `str()` adds one line per problem, for tracebacks at start-up."""

    def __str__(self) -> str:
        lines = "\n".join(f"  {_format_loc(e.loc)}: {e.msg}" for e in self.errors)
        return f"{self.message}:\n{lines}" if lines else self.message


class _Problems:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, file: str, path: Iterable[str | int], msg: str) -> None:
        self.errors.append(FieldError((file, *path), msg))

    def raise_if_any(self) -> None:
        if self.errors:
            count = f"{len(self.errors)} problem{'s' if len(self.errors) > 1 else ''}"
            raise TaxonomyError(f"the taxonomy is invalid ({count})", self.errors)


def _format_loc(loc: tuple[str | int, ...]) -> str:
    file, *path = loc
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return f"{file}: {text}" if text else str(file)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that rejects duplicate keys: PyYAML keeps the last of two equal keys silently, which in a
    crosswalk `map` would drop a mapping unseen."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in keys:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            keys.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(directory: Path, name: str, spec: type[SpecT], problems: _Problems) -> SpecT | None:
    path = directory / name
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except FileNotFoundError:
        problems.add(name, (), "file is missing")
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(name, (), f"cannot be read: {exc}")
        return None
    except yaml.YAMLError as exc:
        # PyYAML's messages span several lines; one line per problem keeps the error list readable.
        problems.add(name, (), f"is not valid YAML: {' '.join(str(exc).split())}")
        return None
    try:
        return TypeAdapter(spec).validate_python(raw, strict=True)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(name, tuple(error["loc"]), error["msg"].lower())
        return None


def _terms(
    file: str,
    path: tuple[str | int, ...],
    specs: list[Any],
    problems: _Problems,
    seen: dict[str, str],
    **extra: str,
) -> tuple[Term, ...]:
    """Build terms from specs, reporting bad or duplicate codes and empty labels. `seen` maps code -> where
    first seen."""
    terms = []
    for index, spec in enumerate(specs):
        loc = (*path, index)
        code = spec["code"]
        if not CODE_PATTERN.match(code):
            problems.add(file, (*loc, "code"), f"code {code!r} must be letters, digits and _ + . - only")
        if code in seen:
            problems.add(file, (*loc, "code"), f"duplicate code {code!r} (first defined at {seen[code]})")
        seen.setdefault(code, _format_loc((file, *loc)))
        for key in ("label", "definition"):
            if not str(spec.get(key, "")).strip():
                problems.add(file, (*loc, key), f"missing {key}")
        examples = spec.get("examples", [])
        for ex_index, example in enumerate(examples):
            if not example.strip():
                problems.add(file, (*loc, "examples", ex_index), "empty example")
        terms.append(
            Term(
                code=code,
                label=spec["label"].strip(),
                definition=" ".join(spec["definition"].split()),
                examples=tuple(" ".join(e.split()) for e in examples),
                family=extra.get("family"),
                parent=spec.get("parent"),
                ftm_schema=spec.get("ftm_schema"),
                stix_id=spec.get("stix_id"),
            )
        )
    return tuple(terms)


def _vocabulary(name: str, file: str, specs: list[TermSpec], problems: _Problems) -> Vocabulary:
    return Vocabulary(name, _terms(file, (name,), list(specs), problems, {}))


def load_taxonomy(directory: Path = DEFAULT_DIRECTORY) -> Taxonomy:
    """Load and cross-check the taxonomy in `directory`; raise `TaxonomyError` listing every problem found."""
    problems = _Problems()
    manifest = _read(directory, "taxonomy.yaml", ManifestSpec, problems)
    tactics_file = _read(directory, "tactics.yaml", TacticsFileSpec, problems)
    targets_file = _read(directory, "targets.yaml", TargetsFileSpec, problems)
    actors_file = _read(directory, "actors.yaml", ActorsFileSpec, problems)
    assessment_file = _read(directory, "assessment.yaml", AssessmentFileSpec, problems)
    roles_file = _read(directory, "roles.yaml", RolesFileSpec, problems)
    problems.raise_if_any()
    # Narrowing only: raise_if_any() has raised when any file failed to read.
    assert manifest is not None
    assert tactics_file is not None
    assert targets_file is not None
    assert actors_file is not None
    assert assessment_file is not None
    assert roles_file is not None

    vocabularies: dict[str, Vocabulary] = {}
    # Families and tactics share one code space, so that a code never means both a family and a tactic.
    tactic_codes: dict[str, str] = {}
    families = tactics_file["tactic_families"]
    family_terms = _terms("tactics.yaml", ("tactic_families",), list(families), problems, tactic_codes)
    vocabularies["tactic_families"] = Vocabulary("tactic_families", family_terms)
    tactic_terms: list[Term] = []
    for index, family in enumerate(families):
        if not family["tactics"]:
            problems.add("tactics.yaml", ("tactic_families", index, "tactics"), "a family needs at least one tactic")
        tactic_terms.extend(
            _terms(
                "tactics.yaml",
                ("tactic_families", index, "tactics"),
                list(family["tactics"]),
                problems,
                tactic_codes,
                family=family["code"],
            )
        )
    vocabularies["tactics"] = Vocabulary("tactics", tuple(tactic_terms))
    for name in ("target_categories", "vulnerability_flags"):
        vocabularies[name] = _vocabulary(name, "targets.yaml", targets_file[name], problems)
    vocabularies["actor_types"] = Vocabulary(
        "actor_types", _terms("actors.yaml", ("actor_types",), list(actors_file["actor_types"]), problems, {})
    )
    for name in AssessmentFileSpec.__annotations__:
        specs = assessment_file[name]  # type: ignore[literal-required]
        vocabularies[name] = Vocabulary(name, _terms("assessment.yaml", (name,), list(specs), problems, {}))
    for name in ("person_roles", "actor_roles"):
        vocabularies[name] = _vocabulary(name, "roles.yaml", roles_file[name], problems)  # type: ignore[literal-required]
    _check_actor_types(vocabularies["actor_types"], problems)
    _check_tlp(vocabularies["tlp"], problems)
    missing = set(VOCABULARY_NOUNS) - set(vocabularies)
    if missing:  # pragma: no cover - a programming error, not a data error
        raise AssertionError(f"vocabularies without a loader: {sorted(missing)}")

    crosswalks = {}
    for index, name in enumerate(manifest["crosswalks"]):
        crosswalk = _crosswalk(directory, name, vocabularies, problems)
        if crosswalk is None:
            continue
        if crosswalk.code in crosswalks:
            problems.add("taxonomy.yaml", ("crosswalks", index), f"duplicate crosswalk code {crosswalk.code!r}")
        crosswalks[crosswalk.code] = crosswalk
    if not re.match(r"^\d+\.\d+\.\d+$", manifest["version"]):
        problems.add("taxonomy.yaml", ("version",), f"version {manifest['version']!r} must look like 1.2.3")
    problems.raise_if_any()
    return Taxonomy(
        version=manifest["version"],
        title=manifest["title"],
        released=manifest["released"],
        definition=" ".join(manifest["definition"].split()),
        vocabularies=vocabularies,
        crosswalks=crosswalks,
    )


def _check_actor_types(actor_types: Vocabulary, problems: _Problems) -> None:
    for index, term in enumerate(actor_types):
        if term.parent is not None and term.parent not in actor_types:
            problems.add("actors.yaml", ("actor_types", index, "parent"), f"unknown actor type {term.parent!r}")
        if term.ftm_schema not in FTM_SCHEMATA:
            problems.add(
                "actors.yaml",
                ("actor_types", index, "ftm_schema"),
                f"{term.ftm_schema!r} is not one of {', '.join(sorted(FTM_SCHEMATA))}",
            )


def _check_tlp(tlp: Vocabulary, problems: _Problems) -> None:
    for index, term in enumerate(tlp):
        if not re.match(r"^marking-definition--[0-9a-f-]{36}$", term.stix_id or ""):
            problems.add("assessment.yaml", ("tlp", index, "stix_id"), f"{term.stix_id!r} is not a STIX marking id")


def _crosswalk(
    directory: Path, name: str, vocabularies: Mapping[str, Vocabulary], problems: _Problems
) -> Crosswalk | None:
    spec = _read(directory, name, CrosswalkSpec, problems)
    if spec is None:
        return None
    categories = Vocabulary(spec["code"], _terms_of_categories(name, spec, problems))
    ours = vocabularies.get(spec["vocabulary"])
    if ours is None:
        valid = ", ".join(vocabularies)
        problems.add(name, ("vocabulary",), f"unknown vocabulary {spec['vocabulary']!r}; valid: {valid}")
        return None
    for our_code, their_code in spec["map"].items():
        if our_code not in ours:
            problems.add(name, ("map", our_code), f"unknown {ours.noun} code {our_code!r}")
        if their_code not in categories:
            problems.add(name, ("map", our_code), f"maps to {their_code!r}, which is not among this file's categories")
    unused = set(categories.codes) - set(spec["map"].values())
    for code in sorted(unused):
        problems.add(name, ("categories",), f"category {code!r} has no code of ours mapped onto it")
    return Crosswalk(
        code=spec["code"],
        label=spec["label"],
        publisher=spec["publisher"],
        reference=" ".join(spec["reference"].split()),
        vocabulary=spec["vocabulary"],
        categories=categories,
        map=dict(spec["map"]),
    )


def _terms_of_categories(file: str, spec: CrosswalkSpec, problems: _Problems) -> tuple[Term, ...]:
    seen: set[str] = set()
    terms = []
    for index, category in enumerate(spec["categories"]):
        if category["code"] in seen:
            problems.add(file, ("categories", index, "code"), f"duplicate code {category['code']!r}")
        seen.add(category["code"])
        if not category["label"].strip():
            problems.add(file, ("categories", index, "label"), "missing label")
        definition = " ".join(category.get("definition", "").split())
        terms.append(Term(category["code"], category["label"], definition))
    return tuple(terms)


@cache
def default_taxonomy() -> Taxonomy:
    """The taxonomy shipped with this version of tnrwatch, loaded once per process."""
    return load_taxonomy(DEFAULT_DIRECTORY)
