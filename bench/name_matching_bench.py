"""Name matching for notice screening: accuracy and speed of domain/names.py beside nomenklatura's logic-v1/v2.

    python bench/make_name_pairs.py        # (re)build tests/data/names.jsonl, the labelled pairs
    python bench/name_matching_bench.py    # accuracy + pairs/s on those pairs, then 10,000 x 100,000 screening

nomenklatura runs in its own venv under bench/out/ (made once, pinned below): each pair becomes two
followthemoney Person entities (unique ids; name, alias, birthDate at its precision, nationality, gender) scored with
the algorithm's `compare` and its default config. Its threshold is reported twice: yente's documented default (0.70)
and the threshold with the best F1 on these pairs (favourable to it). Ours is `names.THRESHOLD`, fixed beforehand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT
from make_name_pairs import CULTURES, OUTPUT, latin_name, native_name, new_person
from tnrwatch.domain import names

T = TypeVar("T")
NK_VENV = OUT / "nomenklatura-venv"
NK_PINS = ("nomenklatura==4.17.4",)
NK_DEFAULT_THRESHOLD = 0.7  # yente's SCORE_THRESHOLD default
_MARKER = NK_VENV / ".pins"

WORKER = r"""
import json, sys, time
from followthemoney import model
from nomenklatura.matching import get_algorithm
pairs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
def entity(side, ident):
    e = model.make_entity("Person")
    e.id = ident
    e.add("name", side["name"])
    for other in side["other_names"]:
        e.add("alias", other)
    if side["date_of_birth"]:
        e.add("birthDate", side["date_of_birth"])
    for code in side["nationalities"]:
        e.add("nationality", code.lower())
    if side["sex"]:
        e.add("gender", {"M": "male", "F": "female"}[side["sex"]])
    return e
entities = [(entity(p["a"], f"a-{p['id']}"), entity(p["b"], f"b-{p['id']}")) for p in pairs]
out = {}
for name in sys.argv[2:]:
    algorithm = get_algorithm(name)
    config = algorithm.default_config()
    for a, b in entities[:20]:
        algorithm.compare(a, b, config)  # warm caches
    started = time.perf_counter()
    scores = [algorithm.compare(a, b, config).score for a, b in entities]
    out[name] = {"scores": scores, "seconds": time.perf_counter() - started}
print(json.dumps(out))
"""


def nk_python() -> Path:
    wanted = "\n".join(NK_PINS)
    python = NK_VENV / "bin" / "python"
    if not (_MARKER.exists() and _MARKER.read_text() == wanted and python.exists()):
        print(f"creating nomenklatura's venv in {NK_VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(NK_VENV)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *NK_PINS], check=True)
        _MARKER.write_text(wanted)
    return python


def nk_versions(python: Path) -> str:
    script = "from importlib.metadata import version as v; print(v('nomenklatura'), v('followthemoney'), v('rigour'))"
    out = subprocess.run([str(python), "-c", script], check=True, capture_output=True, text=True).stdout.split()
    return f"nomenklatura {out[0]}, followthemoney {out[1]}, rigour {out[2]}"


def metrics(scores: list[float], labels: list[int], threshold: float) -> tuple[float, float, float]:
    tp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and y)
    fp = sum(1 for s, y in zip(scores, labels, strict=True) if s >= threshold and not y)
    fn = sum(1 for s, y in zip(scores, labels, strict=True) if s < threshold and y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def best_threshold(scores: list[float], labels: list[int]) -> float:
    candidates = sorted({round(s, 4) for s in scores})
    return max(candidates, key=lambda t: metrics(scores, labels, t)[2])


def synthetic_subject(rng: random.Random, *, notice: bool) -> names.Subject:
    person = new_person(rng, rng.choice(CULTURES))
    name = latin_name(person, rng) if notice or rng.random() < 0.5 else native_name(person)
    precision = rng.choice(("day", "day", "year")) if notice else "day"
    dob = person.dob if precision == "day" else dt.date(person.dob.year, 1, 1)
    return names.Subject((name,), dob, precision, frozenset({person.nationality}), person.sex)  # type: ignore[arg-type]


def _record(subject: names.Subject) -> dict[str, object]:
    """A subject in the evaluation set's record shape (what the nomenklatura worker reads)."""
    born = subject.date_of_birth
    date = "" if born is None else str(born.year) if subject.dob_precision == "year" else born.isoformat()
    return {
        "name": subject.names[0],
        "other_names": list(subject.names[1:]),
        "date_of_birth": date,
        "nationalities": sorted(subject.nationalities),
        "sex": subject.sex,
    }


def batch(notices: int, registry: int, sample: int) -> dict[str, object]:
    """Index a synthetic registry, screen the notices (timed), then count what blocking brought (untimed); the first
    `sample` notices' candidate pairs are returned for the side-by-side run with logic-v1."""
    rng = random.Random(11)
    people = [synthetic_subject(rng, notice=False) for _ in range(registry)]
    queries = [synthetic_subject(rng, notice=True) for _ in range(notices)]
    names.clear_caches()
    started = time.perf_counter()
    matcher = names.Matcher()
    for index, person in enumerate(people):
        matcher.add(str(index), person)
    indexed = time.perf_counter()
    flagged = sum(1 for query in queries if matcher.screen(query))
    done = time.perf_counter()
    candidates = [matcher.candidates(query) for query in queries]
    pairs = [
        (query, people[int(key)]) for query, keys in zip(queries[:sample], candidates, strict=False) for key in keys
    ]
    return {
        "index_seconds": indexed - started,
        "screen_seconds": done - indexed,
        "total_seconds": done - started,
        "candidates_per_notice": sum(map(len, candidates)) / notices,
        "notices_with_a_match": flagged,
        "pairs": pairs,
    }


def run_nomenklatura(python: Path, pairs_file: Path, *algorithms: str) -> dict[str, dict[str, object]]:
    result = subprocess.run(
        [str(python), "-c", WORKER, str(pairs_file), *algorithms],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    out: dict[str, dict[str, object]] = json.loads(result.stdout)
    return out


def timed(function: Callable[[Any, Any], T], items: Sequence[tuple[Any, Any]]) -> tuple[list[T], float]:
    started = time.perf_counter()
    results = [function(a, b) for a, b in items]
    return results, time.perf_counter() - started


def decide(a: names.PreparedSubject, b: names.PreparedSubject) -> names.Match | None:
    """The screening decision: the full score and explanation at the threshold, None below it."""
    return names.compare_at_least(a, b, names.THRESHOLD)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=OUTPUT)
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--registry", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=100, help="notices whose candidate pairs logic-v1 also scores")
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pairs.open(encoding="utf-8")]
    labels = [int(row["label"]) for row in rows]
    subjects = [(names.subject_from_record(r["a"]), names.subject_from_record(r["b"])) for r in rows]

    # Ours on the evaluation pairs, three ways: cold (every name prepared inside the timing, as nomenklatura
    # prepares per call), prepared (the screening case: the registry's names are prepared when indexed), and the
    # screening decision (`compare_at_least`: the full score and explanation for pairs at the threshold, none else).
    names.clear_caches()
    scored, cold_seconds = timed(names.compare, subjects)
    ours = [match.score for match in scored]
    prepared = [(names.prepare(a), names.prepare(b)) for a, b in subjects]
    names.clear_caches()
    _, prepared_seconds = timed(names.compare, prepared)
    names.clear_caches()
    _, decision_seconds = timed(decide, prepared)

    python = nk_python()
    theirs = run_nomenklatura(python, args.pairs, "logic-v1", "logic-v2")

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"date: {dt.date.today().isoformat()}; peers: {nk_versions(python)}; pairs: {len(rows)} ({sum(labels)} true)")
    print("| matcher | threshold | precision | recall | F1 | pairs/s |")
    print("|---|---|---|---|---|---|")
    p, r, f = metrics(ours, labels, names.THRESHOLD)
    rates = " / ".join(f"{len(rows) / seconds:,.0f}" for seconds in (cold_seconds, prepared_seconds, decision_seconds))
    print(f"| tnrwatch names.py | {names.THRESHOLD} (fixed) | {p:.3f} | {r:.3f} | {f:.3f} | {rates} |")
    for name in ("logic-v1", "logic-v2"):
        scores: list[float] = theirs[name]["scores"]  # type: ignore[assignment]
        rate = len(rows) / float(theirs[name]["seconds"])  # type: ignore[arg-type]
        for label, threshold in (("default", NK_DEFAULT_THRESHOLD), ("best F1", best_threshold(scores, labels))):
            p, r, f = metrics(scores, labels, threshold)
            print(f"| nomenklatura {name} | {threshold:.2f} ({label}) | {p:.3f} | {r:.3f} | {f:.3f} | {rate:,.0f} |")
    v1_rate = len(rows) / float(theirs["logic-v1"]["seconds"])  # type: ignore[arg-type]
    print(
        "evaluation pairs, ours / logic-v1 pairs/s: "
        f"cold {len(rows) / cold_seconds / v1_rate:.1f}x, prepared {len(rows) / prepared_seconds / v1_rate:.1f}x, "
        f"screening decision {len(rows) / decision_seconds / v1_rate:.1f}x"
    )

    figures = batch(args.notices, args.registry, args.sample)
    print(
        f"batch: {args.notices:,} notices x {args.registry:,} persons: index {figures['index_seconds']:.1f} s, "
        f"screen {figures['screen_seconds']:.1f} s, total {figures['total_seconds']:.1f} s; "
        f"{figures['candidates_per_notice']:.1f} candidates per notice; "
        f"{figures['notices_with_a_match']:,} notices with a match"
    )

    # The same candidate pairs, side by side: what blocking brought for the first notices of the batch.
    candidate_pairs: list[tuple[names.Subject, names.Subject]] = figures["pairs"]  # type: ignore[assignment]
    pairs_file = OUT / "name_candidate_pairs.jsonl"
    OUT.mkdir(parents=True, exist_ok=True)
    with pairs_file.open("w", encoding="utf-8") as handle:
        for index, (query, person) in enumerate(candidate_pairs):
            handle.write(json.dumps({"id": index, "a": _record(query), "b": _record(person)}, ensure_ascii=False))
            handle.write("\n")
    v1 = run_nomenklatura(python, pairs_file, "logic-v1")["logic-v1"]
    v1_pairs_rate = len(candidate_pairs) / float(v1["seconds"])  # type: ignore[arg-type]
    ready = [(names.prepare(query), names.prepare(person)) for query, person in candidate_pairs]
    names.clear_caches()
    _, full_seconds = timed(names.compare, ready)
    names.clear_caches()
    _, screen_seconds = timed(decide, ready)
    batch_rate = figures["candidates_per_notice"] * args.notices / figures["screen_seconds"]  # type: ignore[operator]
    print(
        f"candidate pairs of the first {args.sample} notices: {len(candidate_pairs):,}; pairs/s: "
        f"logic-v1 {v1_pairs_rate:,.0f}; ours full score {len(candidate_pairs) / full_seconds:,.0f} "
        f"({len(candidate_pairs) / full_seconds / v1_pairs_rate:.1f}x), screening decision "
        f"{len(candidate_pairs) / screen_seconds:,.0f} ({len(candidate_pairs) / screen_seconds / v1_pairs_rate:.1f}x); "
        f"Matcher.screen over the whole batch {batch_rate:,.0f} candidate pairs/s ({batch_rate / v1_pairs_rate:.1f}x)"
    )


if __name__ == "__main__":
    main()
