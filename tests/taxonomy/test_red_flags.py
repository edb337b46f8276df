"""The Article 3 red-flag rules as data: the shipped file loads, every problem of a bad file is named by rule and
field, and the rules raise flags from facts (multilingual keywords, registry categories, counts)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from tnrwatch.domain.notice import REGISTRY_CATEGORIES
from tnrwatch.taxonomy.red_flags import (
    DEFAULT_FILE,
    KINDS,
    SUBJECT_CATEGORIES,
    Charge,
    Facts,
    IncidentMatch,
    ProtectedMatch,
    RedFlagRulesError,
    StateRecord,
    default_red_flags,
    evaluate,
    load_red_flags,
    parse_red_flags,
    recommend,
)


def _shipped() -> dict[str, Any]:
    raw = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def _ids(facts: Facts) -> set[str]:
    return {flag.rule.id for flag in evaluate(default_red_flags(), facts)}


def test_the_shipped_rules_load_and_cover_every_kind_with_sources() -> None:
    rules = default_red_flags()
    assert rules.version
    assert {rule.kind for rule in rules.rules} == set(KINDS)
    for rule in rules.rules:
        assert rule.sources
        assert all(source in rules.sources for source in rule.sources)
    assert set(REGISTRY_CATEGORIES) == SUBJECT_CATEGORIES
    languages = {keyword.language for keyword in rules.rule("charge_extremism").keywords}
    assert {"en", "ru", "tr", "ar", "zh"} <= languages


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("Extremism", "charge_extremism"),
        ("Экстремистская деятельность", "charge_extremism"),
        ("宣扬极端主义", "charge_extremism"),
        ("Cumhurbaşkanına hakaret", "charge_insulting_head_of_state"),
        ("إهانة رئيس الدولة", "charge_insulting_head_of_state"),
        ("分裂国家罪", "charge_separatism"),
        ("Участие в деятельности запрещённой религиозной организации", "charge_banned_organisation"),
        ("Participation in an unregistered organisation", "charge_banned_organisation"),
        ("Terrorism", "charge_terrorism"),
    ],
)
def test_charge_keywords_in_many_languages(text: str, rule: str) -> None:
    assert rule in _ids(Facts("RU", [Charge(text)], None))


def test_keywords_are_read_from_the_original_language_and_the_legal_provision_too() -> None:
    assert "charge_extremism" in _ids(Facts("UZ", [Charge("Crime", charge_translation="Экстремизм")], None))
    provision = Charge("Crime", legal_provision="Art. 280 (extremist activity)")
    assert "charge_extremism" in _ids(Facts("RU", [provision], None))


def test_ordinary_crimes_raise_nothing_and_keywords_match_at_word_starts() -> None:
    assert _ids(Facts("AT", [Charge("Aggravated fraud", "Schwerer Betrug")], None)) == set()
    assert _ids(Facts("AT", [Charge("Theft of a pretreasonous vase")], None)) == set()


def test_terrorism_against_a_protected_person_weighs_more() -> None:
    charge = [Charge("Membership of an armed terrorist organisation")]
    plain = _ids(Facts("TR", charge, None))
    protected = _ids(Facts("TR", charge, None, registry=[ProtectedMatch("R-1", "journalist", True)]))
    assert "charge_terrorism_against_protected" not in plain
    assert {"charge_terrorism_against_protected", "subject_is_hrd_or_journalist"} <= protected
    other_state = _ids(Facts("TR", charge, None, registry=[ProtectedMatch("R-1", "journalist", False)]))
    assert "charge_terrorism_against_protected" not in other_state


def test_the_state_pattern_needs_enough_decisions_and_the_threshold() -> None:
    assert "requesting_state_pattern" not in _ids(Facts("XX", [], None, state=StateRecord(5, 2, 2, 0)))
    assert "requesting_state_pattern" not in _ids(Facts("XX", [], None, state=StateRecord(10, 10, 2, 0)))
    assert "requesting_state_pattern" in _ids(Facts("XX", [], None, state=StateRecord(10, 10, 3, 0)))


def test_an_economic_charge_soon_after_an_incident() -> None:
    incident = IncidentMatch("incident 1", "target", dt.date(2025, 1, 1))
    soon = Facts("UZ", [Charge("Large-scale fraud")], dt.date(2025, 2, 1), incidents=[incident])
    late = Facts("UZ", [Charge("Large-scale fraud")], dt.date(2027, 2, 1), incidents=[incident])
    before = Facts("UZ", [Charge("Large-scale fraud")], dt.date(2024, 2, 1), incidents=[incident])
    assert {"charge_follows_incident", "subject_in_incident"} <= _ids(soon)
    assert "charge_follows_incident" not in _ids(late) | _ids(before)


def test_recommendation_thresholds() -> None:
    rules = default_red_flags()
    assert recommend(rules, [], matched=False).action == "proceed"
    assert recommend(rules, [], matched=True).action == "consult_focal_point"
    flags = evaluate(rules, Facts("UZ", [Charge("extremism")], None))
    assert recommend(rules, flags, matched=False).action == "consult_focal_point"  # 2.0
    flags = evaluate(rules, Facts("UZ", [Charge("extremism; separatism")], None))
    advice = recommend(rules, flags, matched=False)
    assert advice.action == "do_not_act_pending_review"
    assert advice.weight == 4.0
    assert any("Charge of separatism" in reason for reason in advice.reasons)


def test_every_problem_is_named_by_rule_and_field() -> None:
    raw = _shipped()
    bad = copy.deepcopy(raw)
    bad["rules"][0]["weight"] = -1
    bad["rules"][1]["sources"] = ["nowhere"]
    bad["rules"][2]["kind"] = "subject_in_registry"  # keywords are not read by it, categories are missing
    bad["rules"][3]["id"] = bad["rules"][4]["id"]
    del bad["rules"][5]["explanation"]
    bad["rules"].append({"title": "no id"})
    bad["version"] = ""
    bad["extra"] = 1
    with pytest.raises(RedFlagRulesError) as caught:
        parse_red_flags(bad)
    found = {(e.where(), e.msg.split(" (")[0]) for e in caught.value.errors}
    first, second, third = (raw["rules"][i]["id"] for i in range(3))
    fifth = raw["rules"][4]["id"]
    sixth = raw["rules"][5]["id"]
    wheres = {where for where, _ in found}
    assert f"red_flags.yaml.rules.{first}.weight" in wheres
    assert (f"red_flags.yaml.rules.{second}.sources", "'nowhere' is not one of the file's sources") in found
    assert f"red_flags.yaml.rules.{third}.keywords" in wheres
    assert f"red_flags.yaml.rules.{third}.categories" in wheres
    assert (f"red_flags.yaml.rules.{fifth}.id", "appears earlier in the file") in found
    assert f"red_flags.yaml.rules.{sixth}.explanation" in wheres
    assert f"red_flags.yaml.rules.{len(raw['rules'])}.id" in wheres  # a rule without an id: by position
    assert "red_flags.yaml.version" in wheres
    assert "red_flags.yaml.extra" in wheres


def test_unknown_categories_and_roles_are_refused(tmp_path: Path) -> None:
    raw = _shipped()
    for rule in raw["rules"]:
        if rule["kind"] == "subject_in_registry":
            rule["categories"] = ["dissident"]
        if rule["kind"] == "subject_in_incident":
            rule["roles"] = ["victim"]
    path = tmp_path / "red_flags.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(RedFlagRulesError) as caught:
        load_red_flags(path)
    messages = " ".join(e.msg for e in caught.value.errors)
    assert "unknown dissident" in messages
    assert "unknown person role victim" in messages


def test_a_missing_or_broken_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(RedFlagRulesError, match="missing"):
        load_red_flags(tmp_path / "red_flags.yaml")
    (tmp_path / "red_flags.yaml").write_text("rules: [", encoding="utf-8")
    with pytest.raises(RedFlagRulesError, match="cannot be read"):
        load_red_flags(tmp_path / "red_flags.yaml")
