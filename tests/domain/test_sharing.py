"""The TLP rule between nodes, checked case by case and as properties over every marking, source and partner."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tnrwatch.domain.sharing import (
    LOCAL,
    TLP_ORDER,
    Facts,
    PartnerView,
    SubscriptionFilter,
    mask_free_text,
    may_share,
    stricter,
    tlp_rank,
)
from tnrwatch.taxonomy import default_taxonomy

NAMES = ("berlin", "paris", "eu", "ngo")
tlps = st.sampled_from(TLP_ORDER)
partners = st.builds(PartnerView, name=st.sampled_from(NAMES), clearance=tlps, client=st.booleans())
sources = st.sampled_from((LOCAL, *NAMES))
named_sets = st.frozensets(st.sampled_from(NAMES))


def test_the_order_runs_from_clear_to_red() -> None:
    assert [tlp_rank(tlp) for tlp in ("clear", "green", "amber", "amber+strict", "red")] == [0, 1, 2, 3, 4]
    assert stricter("green", "amber") == "amber"
    with pytest.raises(ValueError, match="unknown TLP"):
        tlp_rank("white")


def test_free_text_goes_only_at_amber_and_above() -> None:
    assert [mask_free_text(tlp) for tlp in TLP_ORDER] == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("tlp", "source", "named", "partner", "expected"),
    [
        ("clear", LOCAL, frozenset(), PartnerView("paris", "clear"), True),
        ("green", LOCAL, frozenset(), PartnerView("paris", "green"), True),
        ("green", LOCAL, frozenset(), PartnerView("paris", "clear"), False),  # above its clearance
        ("amber", LOCAL, frozenset({"paris"}), PartnerView("paris", "amber"), True),
        ("amber", LOCAL, frozenset({"paris"}), PartnerView("paris", "green"), False),  # GREEN-only, even if named
        ("amber", LOCAL, frozenset({"paris"}), PartnerView("berlin", "red"), False),  # not named
        ("amber", "paris", frozenset(), PartnerView("berlin", "amber", client=True), True),  # received: to clients
        ("amber", "paris", frozenset(), PartnerView("berlin", "amber"), False),  # received: not to the community
        ("amber+strict", LOCAL, frozenset({"paris"}), PartnerView("paris", "amber+strict"), True),
        ("amber+strict", "paris", frozenset({"berlin"}), PartnerView("berlin", "red", client=True), False),
        ("red", LOCAL, frozenset({"paris"}), PartnerView("paris", "red"), True),
        ("red", LOCAL, frozenset({"paris"}), PartnerView("paris", "amber+strict"), False),
        ("red", "paris", frozenset({"berlin"}), PartnerView("berlin", "red", client=True), False),
        ("green", "paris", frozenset(), PartnerView("paris", "red"), False),  # never back to where it came from
    ],
)
def test_cases(tlp: str, source: str, named: frozenset[str], partner: PartnerView, expected: bool) -> None:
    assert may_share(tlp, source=source, named=named, partner=partner) is expected


@given(tlp=tlps, source=sources, named=named_sets, partner=partners)
def test_never_above_clearance_nor_back_to_the_source(
    tlp: str, source: str, named: frozenset[str], partner: PartnerView
) -> None:
    if may_share(tlp, source=source, named=named, partner=partner):
        assert tlp_rank(tlp) <= tlp_rank(partner.clearance)
        assert partner.name != source


@given(tlp=tlps, source=sources, named=named_sets, partner=partners)
def test_beyond_the_community_only_named_partners_or_clients(
    tlp: str, source: str, named: frozenset[str], partner: PartnerView
) -> None:
    if tlp_rank(tlp) >= tlp_rank("amber") and may_share(tlp, source=source, named=named, partner=partner):
        if source == LOCAL:
            assert partner.name in named
        else:
            assert tlp == "amber"
            assert partner.client


@given(source=sources, named=named_sets, partner=partners)
def test_a_stricter_marking_never_reaches_more(source: str, named: frozenset[str], partner: PartnerView) -> None:
    allowed = [may_share(tlp, source=source, named=named, partner=partner) for tlp in TLP_ORDER]
    # Once a marking is refused, every stricter one is refused too, except that GREEN (the community) may be
    # refused by clearance where CLEAR is not: the sequence of answers never goes from False back to True.
    assert allowed == sorted(allowed, reverse=True)


def _filter(**values: object) -> SubscriptionFilter:
    return SubscriptionFilter.model_validate(values, context={"taxonomy": default_taxonomy()})


def test_a_filter_matches_any_value_of_each_list_and_every_list() -> None:
    subscription = _filter(origins=["IR", "CN"], hosts=["DE"], topics=["incident"])
    assert subscription.matches(Facts(topic="incident", origins=frozenset({"IR"}), hosts=frozenset({"DE", "FR"})))
    assert not subscription.matches(Facts(topic="incident", origins=frozenset({"IR"}), hosts=frozenset({"FR"})))
    assert not subscription.matches(Facts(topic="alert", origins=frozenset({"IR"}), hosts=frozenset({"DE"})))


def test_levels_narrow_to_alerts_of_those_levels() -> None:
    subscription = _filter(levels=["urgent"])
    assert subscription.matches(Facts(topic="alert", level="urgent"))
    assert not subscription.matches(Facts(topic="alert", level="warning"))
    assert not subscription.matches(Facts(topic="incident"))


def test_an_empty_filter_matches_everything() -> None:
    assert _filter().matches(Facts(topic="incident"))


def test_a_bad_filter_names_each_field() -> None:
    with pytest.raises(ValidationError) as raised:
        _filter(origins=["ZZ"], topics=[], tactics=["no_such_tactic"], levels=["severe"])
    fields = {error["loc"][0] for error in raised.value.errors()}
    assert fields == {"origins", "topics", "tactics", "levels"}
