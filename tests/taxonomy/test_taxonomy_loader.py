"""The shipped taxonomy loads and holds every fixed code; broken copies fail with every problem named."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tnrwatch.errors import ConfigurationError
from tnrwatch.taxonomy import DEFAULT_DIRECTORY, Taxonomy, TaxonomyError, default_taxonomy, load_taxonomy

# The fixed codes, in order: other code (domain rules, store, interop mappings) depends on them.
FAMILIES = {
    "physical": [
        "assassination",
        "attempted_assassination",
        "assault",
        "abduction",
        "third_country_detention",
        "enforced_disappearance",
        "forced_return",
    ],
    "legal": [
        "interpol_red_notice",
        "interpol_blue_notice",
        "interpol_diffusion",
        "extradition_request",
        "in_absentia_prosecution",
        "asset_freeze",
        "document_denial",
        "mobility_control",
    ],
    "proxy_coercion": ["family_threats", "family_detention", "family_pressure"],
    "digital": [
        "spyware",
        "account_compromise",
        "digital_surveillance",
        "doxxing",
        "online_harassment",
        "smear_campaign",
        "ai_manipulation",
    ],
    "intimidation": ["threats", "blackmail", "stalking", "informants", "police_stations"],
    "economic": ["employer_pressure", "business_pressure", "property_pressure"],
}
FIXED_CODES = {
    "target_categories": [
        "hrd",
        "journalist",
        "dissident",
        "lawyer",
        "academic",
        "religious",
        "minority",
        "activist",
        "former_insider",
        "diaspora_member",
        "family_member",
    ],
    "vulnerability_flags": [
        "woman",
        "child",
        "ethnic_minority",
        "religious_minority",
        "lgbtqi",
        "socioeconomic",
        "refugee",
        "stateless",
    ],
    "host_state_roles": ["protective", "passive", "cooperating", "complicit", "unknown"],
    "verification_levels": ["reported", "corroborated", "verified", "disputed", "refuted"],
    "source_reliability": ["A", "B", "C", "D", "E", "F"],
    "source_credibility": ["1", "2", "3", "4", "5", "6"],
    "date_precision": ["day", "month", "year", "estimate"],
    "geo_precision": ["point", "place", "admin1", "country"],
}
ACTOR_TYPES = {  # code: (FollowTheMoney schema, parent)
    "state": ("PublicBody", None),
    "intelligence_service": ("PublicBody", None),
    "police": ("PublicBody", None),
    "diplomatic_mission": ("PublicBody", None),
    "judiciary": ("PublicBody", None),
    "state_media": ("Organization", None),
    "proxy": ("LegalEntity", None),
    "criminal_group": ("Organization", "proxy"),
    "diaspora_association": ("Organization", "proxy"),
    "private_company": ("Company", "proxy"),
    "hired_individual": ("Person", "proxy"),
    "official": ("Person", None),
}
TLP_STIX_IDS = {  # the TLP 2.0 marking definitions published by OASIS
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return default_taxonomy()


def test_the_shipped_taxonomy_loads(tax: Taxonomy) -> None:
    assert tax.version == "1.0.0"
    assert tax.released == "2026-11-28"
    assert "2025/2048(INI)" in tax.definition
    assert "Freedom House" in tax.definition
    assert list(tax.crosswalks) == ["freedom_house", "aaad", "cvt"]


def test_tactic_families_and_tactics_have_the_fixed_codes_in_order(tax: Taxonomy) -> None:
    assert list(tax.tactic_families.codes) == list(FAMILIES)
    for family, tactics in FAMILIES.items():
        assert list(tax.tactics_of_family(family)) == tactics
    assert list(tax.tactics.codes) == [tactic for tactics in FAMILIES.values() for tactic in tactics]
    assert tax.family_of("police_stations") == "intimidation"


@pytest.mark.parametrize("name", list(FIXED_CODES))
def test_vocabularies_have_the_fixed_codes_in_order(tax: Taxonomy, name: str) -> None:
    assert list(tax.vocabulary(name).codes) == FIXED_CODES[name]


def test_actor_types_have_their_schema_and_parent(tax: Taxonomy) -> None:
    assert list(tax.actor_types.codes) == list(ACTOR_TYPES)
    for term in tax.actor_types:
        assert (term.ftm_schema, term.parent) == ACTOR_TYPES[term.code], term.code


def test_tlp_markings_carry_the_oasis_marking_ids(tax: Taxonomy) -> None:
    assert {term.code: term.stix_id for term in tax.tlp} == TLP_STIX_IDS
    assert list(tax.tlp.codes) == list(TLP_STIX_IDS)


def test_every_term_is_defined_for_coders(tax: Taxonomy) -> None:
    """A definition is 2-4 sentences; a tactic has 1-3 examples; labels are unique within a vocabulary."""
    for vocabulary in tax.vocabularies.values():
        labels = [term.label for term in vocabulary]
        assert len(labels) == len(set(labels)), vocabulary.name
        for term in vocabulary:
            assert len(term.definition) >= 40, f"{vocabulary.name}.{term.code}"
            sentences = re.findall(r"[.!?](?:\s|$)", term.definition)
            # roles.yaml (person_roles, actor_roles) is maintained elsewhere and not yet held to this rule.
            if vocabulary.name not in ("person_roles", "actor_roles"):
                assert 2 <= len(sentences) <= 4, f"{vocabulary.name}.{term.code}: {len(sentences)} sentences"
            if vocabulary.name == "tactics":
                assert 1 <= len(term.examples) <= 3, term.code
            else:
                assert term.examples == (), term.code


def test_every_crosswalk_maps_known_codes_onto_known_categories(tax: Taxonomy) -> None:
    for crosswalk in tax.crosswalks.values():
        ours = tax.vocabulary(crosswalk.vocabulary)
        assert crosswalk.map, crosswalk.code
        for our_code, their_code in crosswalk.map.items():
            assert our_code in ours, (crosswalk.code, our_code)
            assert their_code in crosswalk.categories, (crosswalk.code, their_code)
        for category in crosswalk.categories:
            assert crosswalk.reverse(category.code), (crosswalk.code, category.code)
            assert category.definition, (crosswalk.code, category.code)
        assert "http" in crosswalk.reference, crosswalk.code


def test_crosswalks_have_the_published_number_of_categories(tax: Taxonomy) -> None:
    assert len(tax.crosswalks["freedom_house"].categories) == 6
    assert len(tax.crosswalks["aaad"].categories) == 6
    assert len(tax.crosswalks["cvt"].categories) == 6
    assert tax.crosswalks["freedom_house"].translate("stalking") == "physical_intimidation"
    assert tax.crosswalks["freedom_house"].translate("third_country_detention") == "detention"
    assert tax.crosswalks["aaad"].translate("family_detention") == "family_harassment"


# --- broken copies ---------------------------------------------------------------------------------------


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped v1 directory."""
    target = tmp_path / "v1"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


def _edit(directory: Path, name: str, change: Callable[[Any], None]) -> None:
    path = directory / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _problems(directory: Path) -> TaxonomyError:
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(directory)
    return info.value


def _unknown_parent(d: Path) -> None:
    _edit(d, "actors.yaml", lambda data: data["actor_types"][7].update(parent="mafia"))


def _duplicate_code_across_families(d: Path) -> None:
    # employer_pressure, which no crosswalk maps, becomes a second "assault"
    _edit(d, "tactics.yaml", lambda data: data["tactic_families"][5]["tactics"][0].update(code="assault"))


def _missing_label(d: Path) -> None:
    _edit(d, "targets.yaml", lambda data: data["target_categories"][1].pop("label"))


def _empty_definition(d: Path) -> None:
    _edit(d, "assessment.yaml", lambda data: data["geo_precision"][2].update(definition="   "))


def _crosswalk_to_unknown_category(d: Path) -> None:
    _edit(d, "crosswalks/aaad.yaml", lambda data: data["map"].update(stalking="surveillance"))


def _crosswalk_from_unknown_code(d: Path) -> None:
    _edit(d, "crosswalks/cvt.yaml", lambda data: data["map"].update(carrier_pigeon="monitoring_surveillance"))


def _wrong_type(d: Path) -> None:
    _edit(d, "tactics.yaml", lambda data: data["tactic_families"][0]["tactics"][1].update(examples="one"))


def _misspelt_key(d: Path) -> None:
    _edit(d, "actors.yaml", lambda data: data["actor_types"][8].update(parnet="proxy"))


def _invalid_yaml(d: Path) -> None:
    (d / "targets.yaml").write_text("target_categories: [\n  - code: hrd\n", encoding="utf-8")


def _duplicate_yaml_key(d: Path) -> None:
    path = d / "crosswalks" / "freedom_house.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "  assault: assassination\n", encoding="utf-8")


def _missing_file(d: Path) -> None:
    (d / "assessment.yaml").unlink()


def _missing_crosswalk_file(d: Path) -> None:
    (d / "crosswalks" / "cvt.yaml").unlink()


def _bad_stix_id(d: Path) -> None:
    _edit(d, "assessment.yaml", lambda data: data["tlp"][4].update(stix_id="TLP:RED"))


BROKEN = [
    (_unknown_parent, "actors.yaml: actor_types[7].parent", "unknown actor type 'mafia'"),
    (
        _duplicate_code_across_families,
        "tactics.yaml: tactic_families[5].tactics[0].code",
        "duplicate code 'assault' (first defined at tactics.yaml: tactic_families[0].tactics[2])",
    ),
    (_missing_label, "targets.yaml: target_categories[1].label", "field required"),
    (_empty_definition, "assessment.yaml: geo_precision[2].definition", "missing definition"),
    (_crosswalk_to_unknown_category, "crosswalks/aaad.yaml: map.stalking", "maps to 'surveillance'"),
    (_crosswalk_from_unknown_code, "crosswalks/cvt.yaml: map.carrier_pigeon", "unknown tactic code"),
    (_wrong_type, "tactics.yaml: tactic_families[0].tactics[1].examples", "valid list"),
    (_misspelt_key, "actors.yaml: actor_types[8].parnet", "extra inputs are not permitted"),
    (_invalid_yaml, "targets.yaml", "is not valid YAML"),
    (_duplicate_yaml_key, "crosswalks/freedom_house.yaml", "found duplicate key 'assault'"),
    (_missing_file, "assessment.yaml", "file is missing"),
    (_missing_crosswalk_file, "crosswalks/cvt.yaml", "file is missing"),
    (_bad_stix_id, "assessment.yaml: tlp[4].stix_id", "is not a STIX marking id"),
]


@pytest.mark.parametrize(("breakage", "where", "what"), BROKEN, ids=[b[0].__name__[1:] for b in BROKEN])
def test_a_broken_file_is_reported_with_file_and_key_path(
    copy: Path, breakage: Callable[[Path], None], where: str, what: str
) -> None:
    breakage(copy)
    error = _problems(copy)
    assert isinstance(error, ConfigurationError)
    line = next((line for line in str(error).splitlines() if line.strip().startswith(where)), None)
    assert line is not None, f"no line for {where!r} in:\n{error}"
    assert what in line
    assert len(error.errors) == 1, str(error)
    assert error.errors[0].loc[0] == where.split(":")[0]


def test_every_shape_problem_across_files_is_reported_at_once(copy: Path) -> None:
    _missing_file(copy)
    _invalid_yaml(copy)
    _wrong_type(copy)
    error = _problems(copy)
    assert [e.loc[0] for e in error.errors] == ["tactics.yaml", "targets.yaml", "assessment.yaml"]
    assert "(3 problems)" in error.message


def test_every_reference_problem_is_reported_at_once(copy: Path) -> None:
    _unknown_parent(copy)
    _duplicate_code_across_families(copy)
    _empty_definition(copy)
    _crosswalk_to_unknown_category(copy)
    _crosswalk_from_unknown_code(copy)
    _bad_stix_id(copy)
    error = _problems(copy)
    where = [":".join(str(part) for part in e.loc[:2]) for e in error.errors]
    assert where == [
        "tactics.yaml:tactic_families",
        "assessment.yaml:geo_precision",
        "actors.yaml:actor_types",
        "assessment.yaml:tlp",
        "crosswalks/aaad.yaml:map",
        "crosswalks/cvt.yaml:map",
    ]


def test_a_category_nothing_maps_onto_is_reported(copy: Path) -> None:
    _edit(copy, "crosswalks/freedom_house.yaml", lambda data: data["map"].pop("stalking"))
    error = _problems(copy)
    expected = "crosswalks/freedom_house.yaml: categories: category 'physical_intimidation' has no code"
    assert expected in str(error)
