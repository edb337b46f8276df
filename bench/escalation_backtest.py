"""Backtest of the escalation detector (src/tnrwatch/domain/escalation.py) on a fixed synthetic scenario.

Run: `python bench/escalation_backtest.py [--seed N] [--series N] [--months N]`. Prints a markdown table of precision,
recall and detection delay, overall and by base rate; docs/benchmarks.md records the figures of the default run, and
tests/domain/test_escalation.py fails if the default scenario's recall or precision drops below them.
"""

from __future__ import annotations

import argparse
import time

from tnrwatch.domain.escalation import DEFAULT, Scenario, backtest, synthetic_scenario


def _row(label: str, scenario: Scenario) -> str:
    result = backtest(scenario, DEFAULT)
    delay = "-" if not result.delays else f"{result.mean_delay:.2f} / {result.median_delay:.0f} / {max(result.delays)}"
    return (
        f"| {label} | {len(scenario.series)} | {result.escalations} | {result.signals} | {result.precision:.3f} "
        f"| {result.recall:.3f} | {delay} | {result.false_alarm_series} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--months", type=int, default=60)
    args = parser.parse_args()
    started = time.perf_counter()
    scenario = synthetic_scenario(seed=args.seed, n_series=args.series, n_months=args.months)
    bands = [(0.5, 2.0), (2.0, 8.0), (8.0, 40.0)]
    print(
        "| series | n | escalated | signals | precision | recall (<= 6 months) | delay mean / median / max (months) "
        "| series with a false signal |"
    )
    print("|---|---|---|---|---|---|---|---|")
    print(_row("all", scenario))
    for low, high in bands:
        # Each band is run on its own: the BH correction then spans that band's series only.
        subset = Scenario(scenario.start, tuple(s for s in scenario.series if low <= s.base_rate < high))
        print(_row(f"base rate {low:g}-{high:g}/month", subset))
    print(f"\n{time.perf_counter() - started:.1f} s, seed {args.seed}, {args.series} series x {args.months} months")


if __name__ == "__main__":
    main()
