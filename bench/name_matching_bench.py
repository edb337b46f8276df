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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT
from make_name_pairs import CULTURES, OUTPUT, latin_name, native_name, new_person
from tnrwatch.domain import names

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


def batch(notices: int, registry: int) -> dict[str, float]:
    rng = random.Random(11)
    people = [synthetic_subject(rng, notice=False) for _ in range(registry)]
    queries = [synthetic_subject(rng, notice=True) for _ in range(notices)]
    started = time.perf_counter()
    matcher = names.Matcher()
    for index, person in enumerate(people):
        matcher.add(str(index), person)
    indexed = time.perf_counter()
    compared = flagged = 0
    for query in queries:
        compared += len(matcher.candidates(query))
        flagged += bool(matcher.screen(query))
    done = time.perf_counter()
    return {
        "index_seconds": indexed - started,
        "screen_seconds": done - indexed,
        "total_seconds": done - started,
        "candidates_per_notice": compared / notices,
        "notices_with_a_match": flagged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=OUTPUT)
    parser.add_argument("--notices", type=int, default=10_000)
    parser.add_argument("--registry", type=int, default=100_000)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.pairs.open(encoding="utf-8")]
    labels = [int(row["label"]) for row in rows]

    subjects = [(names.subject_from_record(r["a"]), names.subject_from_record(r["b"])) for r in rows]
    names.clear_caches()
    started = time.perf_counter()  # cold: includes preparing every name
    ours = [names.compare(a, b).score for a, b in subjects]
    ours_seconds = time.perf_counter() - started

    python = nk_python()
    result = subprocess.run(
        [str(python), "-c", WORKER, str(args.pairs), "logic-v1", "logic-v2"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    theirs = json.loads(result.stdout)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"date: {dt.date.today().isoformat()}; peers: {nk_versions(python)}; pairs: {len(rows)} ({sum(labels)} true)")
    print("| matcher | threshold | precision | recall | F1 | pairs/s |")
    print("|---|---|---|---|---|---|")
    p, r, f = metrics(ours, labels, names.THRESHOLD)
    rate = len(rows) / ours_seconds
    print(f"| tnrwatch names.py | {names.THRESHOLD} (fixed) | {p:.3f} | {r:.3f} | {f:.3f} | {rate:,.0f} |")
    for name in ("logic-v1", "logic-v2"):
        scores = theirs[name]["scores"]
        rate = len(rows) / theirs[name]["seconds"]
        for label, threshold in (("default", NK_DEFAULT_THRESHOLD), ("best F1", best_threshold(scores, labels))):
            p, r, f = metrics(scores, labels, threshold)
            print(f"| nomenklatura {name} | {threshold:.2f} ({label}) | {p:.3f} | {r:.3f} | {f:.3f} | {rate:,.0f} |")
    ratio = (len(rows) / ours_seconds) / (len(rows) / theirs["logic-v1"]["seconds"])
    print(f"throughput ratio ours / logic-v1 on the same pairs: {ratio:.0f}x")
    figures = batch(args.notices, args.registry)
    print(
        f"batch: {args.notices:,} notices x {args.registry:,} persons: index {figures['index_seconds']:.1f} s, "
        f"screen {figures['screen_seconds']:.1f} s, total {figures['total_seconds']:.1f} s; "
        f"{figures['candidates_per_notice']:.1f} candidates scored per notice; "
        f"{figures['notices_with_a_match']:,} notices with a match"
    )


if __name__ == "__main__":
    main()
