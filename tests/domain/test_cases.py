"""The case state machine: random sequences of moves are accepted exactly when the table allows them."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tnrwatch.domain import cases


def test_every_state_has_moves_and_every_move_leads_to_a_state() -> None:
    assert set(cases.TRANSITIONS) == set(cases.STATES)
    for targets in cases.TRANSITIONS.values():
        assert targets
        assert targets <= set(cases.STATES)


def test_the_main_path_is_allowed() -> None:
    path = ["received", "acknowledged", "triaged", "under_verification", "verified", "referred", "closed"]
    for current, target in itertools.pairwise(path):
        cases.check_transition(current, target)


@given(st.lists(st.sampled_from(cases.STATES), max_size=40))
def test_random_moves_follow_the_table(targets: list[str]) -> None:
    state = cases.RECEIVED
    for target in targets:
        if target in cases.TRANSITIONS[state]:
            cases.check_transition(state, target)
            state = target
        else:
            with pytest.raises(cases.IllegalTransitionError) as refused:
                cases.check_transition(state, target)
            message = str(refused.value)
            assert cases.LABELS[state] in message
            assert all(cases.LABELS[allowed] in message for allowed in cases.TRANSITIONS[state])
    assert state in cases.STATES


def test_unknown_states_are_refused() -> None:
    with pytest.raises(cases.IllegalTransitionError):
        cases.check_transition("received", "archived")
    with pytest.raises(ValueError, match="unknown case state"):
        cases.check_transition("archived", "closed")
