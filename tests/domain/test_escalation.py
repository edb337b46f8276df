"""The escalation detector: properties (Hypothesis) and the fixed synthetic scenario of the backtest."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tnrwatch.domain.escalation import (
    DEFAULT,
    SeriesKey,
    add_months,
    adjust_bh,
    assess,
    backtest,
    detect,
    synthetic_scenario,
    upper_tail,
)

START = dt.date(2022, 1, 1)
KEY = SeriesKey("origin", "UZ")

# Measured by bench/escalation_backtest.py on the default scenario (docs/benchmarks.md), rounded down.
MEASURED_RECALL = 0.66
MEASURED_PRECISION = 0.84


def series(counts: list[int], start: dt.date = START) -> list[tuple[dt.date, int]]:
    return [(add_months(start, i), count) for i, count in enumerate(counts)]


@settings(max_examples=60, deadline=None)
@given(level=st.integers(0, 200), months=st.integers(13, 40), start=st.integers(0, 11))
def test_a_flat_series_never_signals(level: int, months: int, start: int) -> None:
    flat = series([level] * months, dt.date(2020, start + 1, 1))
    assessment = assess(flat)
    assert assessment.p_value is not None
    assert assessment.p_value > 0.3
    assert detect({KEY: flat, SeriesKey("host", "TR"): flat}) == []


@settings(max_examples=80, deadline=None)
@given(
    history=st.lists(st.integers(0, 60), min_size=12, max_size=30),
    observed=st.integers(0, 120),
    more=st.integers(1, 40),
)
def test_a_more_extreme_count_never_has_a_larger_p_value(history: list[int], observed: int, more: int) -> None:
    lower = assess(series([*history, observed])).p_value
    higher = assess(series([*history, observed + more])).p_value
    assert lower is not None
    assert higher is not None
    assert higher <= lower


@given(st.lists(st.floats(0.0, 1.0), max_size=50))
def test_bh_adjusted_p_values_are_at_least_the_raw_ones_and_keep_their_order(raw: list[float]) -> None:
    adjusted = adjust_bh(raw)
    assert len(adjusted) == len(raw)
    for p, q in zip(raw, adjusted, strict=True):
        assert p <= q <= 1.0
    for i in range(len(raw)):
        for j in range(len(raw)):
            if raw[i] < raw[j]:
                assert adjusted[i] <= adjusted[j]


def test_bh_matches_a_worked_example() -> None:
    assert adjust_bh([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_empty_and_short_series_are_not_assessed_and_say_why() -> None:
    empty = assess([])
    assert empty.p_value is None
    assert empty.reason == "empty series"
    short = assess(series([1, 0, 2, 40]))
    assert short.p_value is None
    assert short.reason == "3 months of history, 12 needed"
    assert detect({KEY: [], SeriesKey("host", "TR"): series([0, 0, 50])}) == []


def test_malformed_series_are_refused_naming_the_problem() -> None:
    with pytest.raises(ValueError, match=r"series\[1\]: month 2022-03-01 does not follow"):
        assess([(START, 1), (dt.date(2022, 3, 1), 2)])
    with pytest.raises(ValueError, match="not the first of a month"):
        assess([(dt.date(2022, 1, 5), 1)])
    with pytest.raises(ValueError, match="count -1 is negative"):
        assess([(START, -1)])


def test_a_jump_signals_with_its_evidence() -> None:
    counts = [5, 4, 6, 5, 3, 5, 6, 4, 5, 5, 6, 4] * 2 + [25]
    [signal] = detect({KEY: series(counts), SeriesKey("host", "TR"): series([5] * 25)})
    assert signal.key == KEY
    assert signal.month == add_months(START, 24)
    assert signal.span == 1
    assert signal.observed == 25
    assert 4.0 < signal.expected < 6.5
    assert signal.model == "negative_binomial"
    assert signal.dispersion == pytest.approx(DEFAULT.min_dispersion)
    assert signal.statistic > 3
    assert signal.p_value <= signal.adjusted_p_value < 0.05
    assert [count for _, count in signal.series] == counts


def test_zero_to_two_is_not_a_signal_but_a_sustained_small_rise_is() -> None:
    assert detect({KEY: series([0] * 24 + [2])}) == []
    [signal] = detect({KEY: series([1, 0, 0, 1, 0, 0] * 4 + [4, 3, 5])})
    assert signal.span == 3
    assert signal.observed == 12


def test_upper_tail_is_exact_for_small_counts() -> None:
    assert upper_tail(0, 2.0, 0.0) == 1.0
    assert upper_tail(1, 2.0, 0.0) == pytest.approx(1 - 2.718281828459045**-2)
    # NB2 with mean 2 and alpha 1 is geometric with p = 1/3: P(X >= 2) = (2/3)^2.
    assert upper_tail(2, 2.0, 1.0) == pytest.approx((2 / 3) ** 2)


def test_recall_and_precision_on_the_fixed_scenario_do_not_drop() -> None:
    result = backtest(synthetic_scenario())
    assert result.escalations == 60
    assert result.recall >= MEASURED_RECALL
    assert result.precision >= MEASURED_PRECISION
    assert result.median_delay <= 1
