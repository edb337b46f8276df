"""Person-name matching across scripts for notice screening: normalisation, blocking keys, an explained score.

Pure (no I/O beyond reading `data/name_variants.yaml`, shipped in the package) and fast: others call it from the
screening service and the keyed blind index.

Pipeline for one name (`prepare_name`):

1. Split into words on spaces, hyphens, dots and commas. Arabic-script words lose a leading "ال" (al-); Chinese
   characters are read one by one (surname = first character, given name = the rest, joined).
2. Transliterate each word to ASCII with `anyascii` (Cyrillic by BGN-like rules, Arabic and Persian as a consonant
   skeleton, Chinese as toneless pinyin, Turkish ı/İ/ş/ğ/ç/ö/ü to i/I/s/g/c/o/u), lower-case, drop diacritics.
3. Drop particles (al, el, bin, ibn, bint, ben, van, von, de, ...); mark patronymics (-ovich, -evna, ogli, qizi,
   uulu, ...) as optional parts: an absent patronymic costs nothing, a present one that agrees counts.
4. Rewrite each part with the `rules` of the variant file (Kh->H, Dzh->J, Y->I, ou->u, doubled letters, ...), then
   fold it onto its variant group (Mohammed/Muhammad/Mehmet, Yuri/Iurii, ...): the *canonical* part.
5. Keys per part: a phonetic key of our own (`phonetic_key`: the consonant skeleton in broad sound classes, which
   is what an Arabic or Persian spelling carries) and, for one-letter parts, an initial.

Arabic and Persian script writes no short vowels, so a part that came from it ("abjad" part) is compared with a
Latin part on the phonetic key only, unless the variant file knows the word itself.

Why our own phonetic key rather than jellyfish's metaphone/NYSIIS: those are tuned to English spelling and keep the
vowels that abjad spellings lack; the consonant skeleton with sound classes is what two transliterations of the same
Arabic, Persian, Russian or Uzbek name share. rapidfuzz gives the edit-distance similarity.

Scoring (`compare`) is logistic: each feature adds a weight in log-odds, the score is the logistic of the sum:

| feature | agrees | contradicts |
|---|---|---|
| name similarity S (best over names, orders, merged parts) | `NAME_SLOPE * (S - NAME_PIVOT)` | the same, below |
| initials (a one-letter part matched a full part) | | `INITIALS_PENALTY` (less evidence than a full name) |
| date of birth (coarser precision) | day +1.5, month +1.0, year +0.6 | year +-1: -0.6; else -4.0; day/month -3.0 |
| nationality | an overlap +0.4 | both known, none shared -0.4 |
| sex | same +0.1 | different -5.0 |

Screening many subjects (`Matcher`) gives the same answers as comparing every candidate, faster: blocking keys
bring the candidates; numpy ceilings of the date/sex/nationality features and of the name similarity (from one
rapidfuzz `cdist` of the query's parts against the candidates' distinct parts) cut those that cannot reach the
threshold; only the rest are aligned (`compare_at_least`). Parts are interned, so similarities are cached by
identity. tests/domain/test_names.py checks the cuts against comparing everything (evaluation set, Hypothesis).

A pair is a match from `THRESHOLD` on. `RECORDED_F1` is the F1 at that threshold on the committed evaluation set
(tests/data/names.jsonl); tests/domain/test_names.py fails when it drops below.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from itertools import product
from typing import Literal

import numpy as np
import yaml
from anyascii import anyascii
from rapidfuzz.distance import Indel
from rapidfuzz.process import cdist

from tnrwatch.domain import notice

THRESHOLD = 0.6
RECORDED_F1 = 0.959  # measured 0.9595 (P 0.933, R 0.988) on tests/data/names.jsonl at THRESHOLD

NAME_SLOPE = 14.0
NAME_PIVOT = 0.82
INITIALS_PENALTY = -0.4
DOB_WEIGHTS: dict[str, float] = {
    "same_day": 1.5,
    "same_month": 1.0,
    "same_year": 0.6,
    "year_apart": -0.6,
    "day_differs": -3.0,
    "contradicts": -4.0,
}
NATIONALITY_WEIGHTS = {"overlap": 0.4, "disjoint": -0.4}
SEX_WEIGHTS = {"same": 0.1, "different": -5.0}
# Unmatched non-optional parts count this share of their weight against the name (middle names are often absent).
UNMATCHED_SHARE = 0.35
# A block (one blocking key) larger than this is not scanned for a single-part phonetic key alone.
MAX_SINGLE_KEY_BLOCK = 64

Precision = Literal["day", "month", "year"]
Sex = Literal["M", "F"]
PRECISIONS: tuple[Precision, ...] = ("day", "month", "year")

PARTICLES = frozenset(
    {
        "al",
        "el",
        "ul",
        "ar",
        "as",
        "ash",
        "ad",
        "az",
        "an",
        "at",
        "bin",
        "ibn",
        "bint",
        "ben",
        "binti",
        "van",
        "von",
        "der",
        "den",
        "de",
        "da",
        "di",
        "du",
        "del",
        "la",
        "le",
    }
)
PATRONYMIC_PARTICLES = frozenset(
    {"ogli", "ogly", "oglu", "ugli", "qizi", "kizi", "kyzy", "gizi", "uulu", "uly", "kizy"}
)
PATRONYMIC_SUFFIX = re.compile(r"(ovich|evich|ovych|evych|ovna|evna|ichna|ivna|ogly|oglu|ugli)$")
_SPLIT = re.compile(r"[\s\-‐‑–—.,;/_()]+")
_NON_LETTER = re.compile(r"[^a-z]")


class NameDataError(ValueError):
    """A subject or the variant file is not usable; the message names the field or the entry."""


# --- the variant file ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variants:
    rules: tuple[tuple[re.Pattern[str], str], ...]
    canonical: dict[str, str]  # canonical part -> the group's canonical part
    abjad: dict[str, str]  # transliterated Arabic-script word -> the group's canonical part
    version: int


@cache
def variants() -> Variants:
    """Load and check `data/name_variants.yaml` once."""
    text = resources.files("tnrwatch.domain").joinpath("data/name_variants.yaml").read_text(encoding="utf-8")
    return _load_variants(yaml.safe_load(text))


def _load_variants(raw: object) -> Variants:
    if not isinstance(raw, dict) or not isinstance(raw.get("rules"), list) or not isinstance(raw.get("groups"), list):
        raise NameDataError("name_variants.yaml: expected a mapping with `version`, `rules` and `groups` lists")
    rules: list[tuple[re.Pattern[str], str]] = []
    for index, rule in enumerate(raw["rules"]):
        if not (isinstance(rule, list) and len(rule) == 2 and all(isinstance(x, str) for x in rule)):
            raise NameDataError(f"name_variants.yaml: rules[{index}] must be [pattern, replacement]")
        try:
            rules.append((re.compile(rule[0]), rule[1]))
        except re.error as error:
            raise NameDataError(f"name_variants.yaml: rules[{index}] is not a regular expression: {error}") from None
    partial = Variants(tuple(rules), {}, {}, int(raw.get("version", 0)))
    canonical: dict[str, str] = {}
    abjad: dict[str, str] = {}
    owner: dict[str, int] = {}
    for index, group in enumerate(raw["groups"]):
        if not (isinstance(group, list) and group and all(isinstance(x, str) for x in group)):
            raise NameDataError(f"name_variants.yaml: groups[{index}] must be a non-empty list of spellings")
        head = _rewrite(_fold_word(group[0]), partial)
        for member in group:
            for word, is_abjad in _member_keys(member, partial):
                table = abjad if is_abjad else canonical
                key = ("a:" if is_abjad else "l:") + word
                if owner.get(key, index) != index:
                    raise NameDataError(
                        f"name_variants.yaml: groups[{index}] member {member!r} is already in groups[{owner[key]}]"
                    )
                owner[key] = index
                table[word] = head
    return Variants(partial.rules, canonical, abjad, partial.version)


def _member_keys(member: str, partial: Variants) -> list[tuple[str, bool]]:
    """The lookup keys of one variant-file spelling: one per word, or the whole (joined) spelling when it has
    several words ("Abdul Aziz" also stands for "Abdulaziz")."""
    words = [w for w in _SPLIT.split(unicodedata.normalize("NFKC", member)) if w]
    if any(_is_abjad(w) for w in words):
        joined = "".join(_abjad_ascii(w) for w in words)
        return [(joined, True)]
    return [(_rewrite("".join(_fold_word(w) for w in words), partial), False)]


# --- one word -----------------------------------------------------------------------------------------------


def _is_abjad(word: str) -> bool:
    return any("\u0590" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb1d" <= ch <= "\ufeff" for ch in word)


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" or "\uf900" <= ch <= "\ufaff"


def _fold_word(word: str) -> str:
    """Lower-case ASCII letters of one word (transliterated, diacritics and marks dropped)."""
    return _NON_LETTER.sub("", anyascii(unicodedata.normalize("NFKC", word)).lower())


_PERSIAN_LETTERS = frozenset("پچژگکی")
# Letters Persian (and Turkish) read as z where Arabic reads d/dh: Kazemi/Kadhim, Ramazan/Ramadan.
_PERSIAN_Z = str.maketrans({"ذ": "z", "ض": "z", "ظ": "z"})
_ARABIC_Z = str.maketrans({"ظ": "z"})


def _abjad_ascii(word: str) -> str:
    """An Arabic or Persian word in ASCII consonants, without a leading article (al-) or a final ة/ه, which
    romanisations write as a vowel (Fatima, Bahare)."""
    word = word.replace("\u200c", "")  # Persian zero-width non-joiner inside one name (Hosseinzadeh)
    if len(word) > 3 and word.startswith("ال"):
        word = word[2:]
    if len(word) > 2 and word[-1] in "ةه":
        word = word[:-1]
    word = word.translate(_PERSIAN_Z if _PERSIAN_LETTERS & set(word) else _ARABIC_Z)
    return _fold_word(word)


def _rewrite(word: str, table: Variants) -> str:
    for pattern, replacement in table.rules:
        word = pattern.sub(replacement, word)
    return word


# Broad sound classes for the phonetic key: letters that transliterations of one sound swap for each other.
_SOUND_CLASS = str.maketrans({"z": "s", "c": "k", "g": "k", "j": "k", "d": "t", "v": "f", "p": "b", "x": "h"})
_VOWELS = re.compile(r"[aeiouyw]")


def phonetic_key(canonical_part: str) -> str:
    """Our phonetic key: the consonant skeleton in broad sound classes (Muhammad, Mohamed, محمد -> "mhmt").

    Deterministic and documented so that the blind index can keep HMACs of it: vowels (and y/w, which abjad
    spellings use as long vowels) dropped, z/s, c/g/j/k, d/t, v/f, p/b, x/h folded, repeats collapsed. A part made
    only of vowels keeps its first letter.
    """
    skeleton = re.sub(r"(?<=[aeiou])j", "", canonical_part)  # German/Polish j after a vowel: Nurijew
    skeleton = _VOWELS.sub("", skeleton).translate(_SOUND_CLASS)
    skeleton = re.sub(r"(.)\1+", r"\1", skeleton)
    return skeleton or canonical_part[:1]


# --- one name -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Part:
    """One name part after normalisation. Parts are interned (`make_part`): one object per distinct part, so that
    identity is equality and the similarity cache hashes by identity, which the screening loop does millions of
    times."""

    canonical: str
    phonetic: str
    first: str = ""  # the first letter as written (before the rules): what an initial stands for
    abjad: bool = False  # came from Arabic-script letters: no short vowels, compare on `phonetic`
    optional: bool = False  # a patronymic: costs nothing when the other side lacks it
    initial: bool = field(init=False)
    weight: float = field(init=False)  # an initial is half the evidence of a full part
    order: str = field(init=False)  # a total order on parts, for ties in `_align` that do not depend on sides

    def __post_init__(self) -> None:
        initial = len(self.canonical) == 1
        object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "weight", 0.5 if initial else 1.0)
        object.__setattr__(self, "order", f"{self.canonical}\0{self.abjad:d}{self.optional:d}")


_PARTS: dict[tuple[str, str, str, bool, bool], Part] = {}


def make_part(canonical: str, phonetic: str, first: str = "", *, abjad: bool = False, optional: bool = False) -> Part:
    """The one `Part` with these fields."""
    key = (canonical, phonetic, first, abjad, optional)
    part = _PARTS.get(key)
    if part is None:
        part = _PARTS.setdefault(key, Part(canonical, phonetic, first, abjad, optional))
    return part


@dataclass(frozen=True, slots=True)
class PreparedName:
    parts: tuple[Part, ...]
    # The same parts with one pair of neighbours merged ("Xiao Ming" = "Xiaoming", "Abdul Aziz" = "Abdulaziz").
    alternatives: tuple[tuple[Part, ...], ...]
    # Per alternative: no initial and no optional part, so `_plain_ceiling` bounds its alignments.
    plain: tuple[bool, ...] = ()


@lru_cache(maxsize=100_000)
def _part(word: str, *, optional: bool = False) -> Part | None:
    """One written word as a part (cached: a registry repeats its common names many times)."""
    table = variants()
    if _is_abjad(word):
        ascii_word = _abjad_ascii(word)
        if not ascii_word:
            return None
        known = table.abjad.get(ascii_word)
        if known is not None:
            return make_part(known, phonetic_key(known), known[:1], optional=optional)
        return make_part(ascii_word, phonetic_key(_rewrite(ascii_word, table)), abjad=True, optional=optional)
    folded = _fold_word(word)
    if not folded:
        return None
    canonical = _rewrite(folded, table)
    canonical = table.canonical.get(canonical, canonical)
    return make_part(canonical, phonetic_key(canonical), folded[:1], optional=optional)


def _words(name: str) -> list[str]:
    """Words of a name; a run of Chinese characters becomes surname + given name."""
    words: list[str] = []
    for chunk in _SPLIT.split(unicodedata.normalize("NFKC", name)):
        if not chunk:
            continue
        han = [ch for ch in chunk if _is_han(ch)]
        if han and len(han) == len(chunk):
            given = "".join(anyascii(ch) for ch in chunk[1:])
            words.extend([chunk[0], given] if given else [chunk[0]])
        else:
            words.append(chunk)
    return words


@lru_cache(maxsize=200_000)
def prepare_name(name: str) -> PreparedName:
    """Normalise one written name into comparable parts (see the module docstring)."""
    words = _words(name)
    parts: list[Part] = []
    for index, word in enumerate(words):
        folded = _fold_word(word)
        if folded in PARTICLES and len(words) > 1:
            continue
        if folded in PATRONYMIC_PARTICLES:
            if parts:  # "Karim ogli": the father's name before it is the patronymic
                last = parts[-1]
                parts[-1] = make_part(last.canonical, last.phonetic, last.first, abjad=last.abjad, optional=True)
            continue
        patronymic = len(words) >= 3 and index > 0 and bool(PATRONYMIC_SUFFIX.search(folded))
        part = _part(word, optional=patronymic)
        if part is not None:
            parts.append(part)
    parts_tuple = tuple(parts)
    alternatives = [parts_tuple]
    if 2 <= len(parts) <= 5:
        for i in range(len(parts) - 1):
            left, right = parts[i], parts[i + 1]
            if left.abjad != right.abjad or left.initial or right.initial:
                continue
            merged_text = left.canonical + right.canonical
            merged_text = variants().canonical.get(merged_text, merged_text)
            merged = make_part(
                merged_text,
                phonetic_key(merged_text),
                left.first,
                abjad=left.abjad,
                optional=left.optional and right.optional,
            )
            alternatives.append((*parts[:i], merged, *parts[i + 2 :]))
    plain = tuple(not any(part.initial or part.optional for part in alternative) for alternative in alternatives)
    return PreparedName(parts_tuple, tuple(alternatives), plain)


def transliterate(name: str) -> str:
    """A readable Latin form of a name in any script (no variant folding): "Юрий Гагарин" -> "Yuriy Gagarin"."""
    return " ".join(anyascii(word) if not _is_abjad(word) else _abjad_ascii(word) for word in _words(name))


def normalise(name: str) -> str:
    """The canonical form of a name: its canonical parts, space-separated, in written order ("Юрий" -> "iuri")."""
    return " ".join(part.canonical for part in prepare_name(name).parts)


# --- part and name similarity -------------------------------------------------------------------------------


_INITIAL_CLASS = {"y": "i", "j": "i", "e": "i", "i": "i", "q": "k", "c": "k", "k": "k", "g": "k"}


# Part pairs already compared. Parts are interned, so the key hashes by identity; cleared when it grows past
# _SIMILARITY_CACHE_SIZE (a 100,000-person registry screened by 10,000 notices fills about a tenth of it).
_SIMILARITY: dict[tuple[Part, Part], float] = {}
_SIMILARITY_CACHE_SIZE = 2_000_000


def part_similarity(a: Part, b: Part) -> float:
    """How alike two parts are, in [0, 1]: 1 for the same canonical part, an edit-distance ratio otherwise."""
    similarity = _SIMILARITY.get((a, b))
    if similarity is None:
        if len(_SIMILARITY) >= _SIMILARITY_CACHE_SIZE:
            _SIMILARITY.clear()
        similarity = _SIMILARITY[(a, b)] = _part_similarity(a, b)
    return similarity


def similarity_matrix(xs: Sequence[Part], ys: Sequence[Part]) -> np.ndarray:
    """`part_similarity` of every pair of full (not initial) parts, one from each side, as a matrix, by rapidfuzz
    `cdist` calls: Latin pairs on their canonical parts, pairs with an Arabic-script part on their phonetic keys."""
    return _similarity_matrix(_Texts.of(xs), _Texts.of(ys))


@dataclass(frozen=True, slots=True)
class _Texts:
    """Parts as `_similarity_matrix` reads them: canonical forms, phonetic keys, Arabic-script flags."""

    canonical: Sequence[str]
    phonetic: Sequence[str]
    abjad: np.ndarray

    @classmethod
    def of(cls, parts: Sequence[Part]) -> _Texts:
        abjad = np.fromiter((part.abjad for part in parts), dtype=bool, count=len(parts))
        return cls([part.canonical for part in parts], [part.phonetic for part in parts], abjad)


def _similarity_matrix(xs: _Texts, ys: _Texts) -> np.ndarray:
    canonical = cdist(xs.canonical, ys.canonical, scorer=Indel.normalized_similarity, dtype=np.float64)
    if not (xs.abjad.any() or ys.abjad.any()):
        result: np.ndarray = canonical
        return result
    phonetic = cdist(xs.phonetic, ys.phonetic, scorer=Indel.normalized_similarity, dtype=np.float64)
    # As `_part_similarity`: the same phonetic key 0.95, else 0.9 of the keys' similarity; two Arabic-script parts
    # with one canonical form are the same part.
    sounded = np.where(phonetic == 1.0, 0.95, 0.9 * phonetic)
    same = xs.abjad[:, None] & ys.abjad[None, :] & (canonical == 1.0)
    mixed: np.ndarray = np.where(same, 1.0, np.where(xs.abjad[:, None] | ys.abjad[None, :], sounded, canonical))
    return mixed


def fill_similarities(left: Iterable[Part], right: Iterable[Part]) -> None:
    """Compare many parts at once (`similarity_matrix`) into the cache; pairs with an initial are left to
    `part_similarity`. Screening calls it with a query's parts and its candidates'."""
    xs = [part for part in left if not part.initial]
    ys = [part for part in right if not part.initial]
    if not xs or not ys:
        return
    if len(_SIMILARITY) + len(xs) * len(ys) > _SIMILARITY_CACHE_SIZE:
        _SIMILARITY.clear()
    _SIMILARITY.update(zip(product(xs, ys), similarity_matrix(xs, ys).ravel().tolist(), strict=True))


def clear_caches() -> None:
    """Forget prepared names, parts and part similarities (benchmarks measure cold runs with it)."""
    prepare_name.cache_clear()
    _part.cache_clear()
    _SIMILARITY.clear()


def _part_similarity(a: Part, b: Part) -> float:
    if a.canonical == b.canonical and a.abjad == b.abjad:
        return 1.0
    if a.initial or b.initial:
        short, full = (a, b) if a.initial else (b, a)
        if full.abjad:
            return 0.0
        if short.first == full.first:
            return 0.9
        # Romanisations disagree on the first letter of the same name: Yevgeny/Evgeny/Jewgeni, Kh/H, Q/K.
        if _INITIAL_CLASS.get(short.first, short.first) == _INITIAL_CLASS.get(full.first, full.first):
            return 0.8
        return 0.8 if full.canonical.startswith(short.canonical) else 0.0
    if a.abjad or b.abjad:
        if a.phonetic == b.phonetic:
            return 0.95
        return 0.9 * Indel.normalized_similarity(a.phonetic, b.phonetic)
    return Indel.normalized_similarity(a.canonical, b.canonical)


@dataclass(frozen=True, slots=True)
class NameAlignment:
    similarity: float
    used_initials: bool


_NO_ALIGNMENT = NameAlignment(0.0, used_initials=False)


def _align(a: Sequence[Part], b: Sequence[Part]) -> NameAlignment:
    """Pair the parts of two names greedily, best pairs first, in any order; unmatched parts count against.

    Ties are broken on the parts themselves (`Part.order`), not their positions, so that _align(a, b) == _align(b, a).
    The hot loop of screening: plain tuples sorted natively, the similarity cache read inline."""
    if not a or not b:
        return _NO_ALIGNMENT
    cache = _SIMILARITY
    pairs = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            similarity = cache.get((x, y))
            if similarity is None:
                similarity = part_similarity(x, y)
            pairs.append(
                (-similarity, x.order, y.order, i, j) if x.order <= y.order else (-similarity, y.order, x.order, i, j)
            )
    pairs.sort()
    used_a = [False] * len(a)
    used_b = [False] * len(b)
    matched = 0.0
    total = 0.0
    initials = False
    for negated, _, _, i, j in pairs:
        if used_a[i] or used_b[j]:
            continue
        used_a[i] = used_b[j] = True
        x, y = a[i], b[j]
        if (x.optional or y.optional) and negated > -0.8:
            continue  # a patronymic that disagrees is left unmatched, at no cost
        weight = x.weight + y.weight
        matched -= negated * weight
        total += weight
        initials = initials or (x.initial != y.initial and negated < 0)
    for parts, used in ((a, used_a), (b, used_b)):
        for index, part in enumerate(parts):
            if not used[index] and not part.optional:
                total += UNMATCHED_SHARE * part.weight
    return NameAlignment(matched / total if total else 0.0, used_initials=initials)


def _plain_ceiling(a: Sequence[Part], b: Sequence[Part]) -> float:
    """An upper bound of `_align(a, b).similarity` without sorting, for parts that are neither initials nor
    optional (weight 1, every pair counted): greedy pairs min(n, m) parts, each pair's similarity at most the
    shorter side's part's best, and the denominator is then fixed."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    cache = _SIMILARITY
    matched = 0.0
    for x in short:
        best = 0.0
        for y in long:
            similarity = cache.get((x, y))
            if similarity is None:
                similarity = part_similarity(x, y)
            if similarity > best:
                best = similarity
        matched += best
    pairs = len(short)
    return 2.0 * matched / (2.0 * pairs + UNMATCHED_SHARE * (len(long) - pairs)) if pairs else 0.0


def name_similarity(a: PreparedName, b: PreparedName, floor: float = 0.0) -> NameAlignment:
    """The best alignment over both names' alternatives (merged neighbouring parts).

    With `floor`, alternatives whose alignment cannot reach it are skipped: the answer is exact when it is at least
    `floor`, and below `floor` when the exact one is."""
    best = _NO_ALIGNMENT
    for x, x_plain in zip(a.alternatives, a.plain, strict=True):
        for y, y_plain in zip(b.alternatives, b.plain, strict=True):
            if x_plain and y_plain:
                ceiling = _plain_ceiling(x, y)
                if ceiling < floor or ceiling <= best.similarity:
                    continue
            candidate = _align(x, y)
            if candidate.similarity > best.similarity:
                best = candidate
                if best.similarity >= 1.0:
                    return best
    return best


# --- subjects -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Subject:
    """The person a notice or a registry entry describes. `names[0]` is the main name ("forename name"); the rest
    are other names and spellings, in any script. A date of birth of precision "year" or "month" uses the first
    day of that year or month."""

    names: tuple[str, ...]
    date_of_birth: dt.date | None = None
    dob_precision: Precision = "day"
    nationalities: frozenset[str] = frozenset()
    sex: Sex | None = None

    def __post_init__(self) -> None:
        if not self.names or not any(name.strip() for name in self.names):
            raise NameDataError("names: at least one non-blank name is required")
        if self.dob_precision not in PRECISIONS:
            raise NameDataError(f"dob_precision: expected one of {', '.join(PRECISIONS)}")
        if self.sex not in (None, "M", "F"):
            raise NameDataError("sex: expected M, F or none")
        for code in self.nationalities:
            if len(code) != 2 or not code.isalpha() or not code.isupper():
                raise NameDataError("nationalities: expected ISO 3166-1 alpha-2 codes such as RU, CN, TR")


def parse_partial_date(text: str) -> tuple[dt.date, Precision]:
    """ "1984", "1984-05" or "1984-05-17" (Interpol's `date_of_birth` comes as "1984/05/17" too) -> date and precision,
    read by the notices' parser (domain/notice.py), so a date means the same on a notice and in the registry.

    Raise NameDataError on anything else."""
    try:
        year, month, day = notice.parse_partial_date(text)
    except ValueError as exc:
        raise NameDataError(f"date_of_birth: {exc}") from None
    if month is None:
        return dt.date(year, 1, 1), "year"
    if day is None:
        return dt.date(year, month, 1), "month"
    return dt.date(year, month, day), "day"


def subject_from_record(record: Mapping[str, object]) -> Subject:
    """A subject from a mapping with `name`, optional `other_names`, `date_of_birth` (partial ISO date),
    `nationalities` and `sex` ("M"/"F"), as the evaluation set and imports write them."""
    name = record.get("name")
    if not isinstance(name, str):
        raise NameDataError("name: expected a string")
    others = record.get("other_names") or []
    if not isinstance(others, list) or not all(isinstance(o, str) for o in others):
        raise NameDataError("other_names: expected a list of strings")
    raw_date = record.get("date_of_birth")
    date: dt.date | None = None
    precision: Precision = "day"
    if isinstance(raw_date, str) and raw_date:
        date, precision = parse_partial_date(raw_date)
    nationalities = record.get("nationalities") or []
    if not isinstance(nationalities, list) or not all(isinstance(n, str) for n in nationalities):
        raise NameDataError("nationalities: expected a list of country codes")
    raw_sex = record.get("sex")
    if raw_sex not in (None, "M", "F"):
        raise NameDataError("sex: expected M, F or none")
    sex: Sex | None = "M" if raw_sex == "M" else "F" if raw_sex == "F" else None
    return Subject(
        names=(name, *others),
        date_of_birth=date,
        dob_precision=precision,
        nationalities=frozenset(n.upper() for n in nationalities),
        sex=sex,
    )


@dataclass(frozen=True, slots=True)
class PreparedSubject:
    subject: Subject
    names: tuple[PreparedName, ...]
    parts: frozenset[Part]  # every part of every name's alternatives


def prepare(subject: Subject | PreparedSubject) -> PreparedSubject:
    if isinstance(subject, PreparedSubject):
        return subject
    names = tuple(prepared for name in subject.names if (prepared := prepare_name(name)).parts)
    parts = frozenset(part for name in names for alternative in name.alternatives for part in alternative)
    return PreparedSubject(subject, names, parts)


# --- the score and its explanation --------------------------------------------------------------------------

Outcome = Literal["agrees", "contradicts", "unknown"]


@dataclass(frozen=True, slots=True)
class Feature:
    """One line of a match's explanation; `weight` is its contribution in log-odds."""

    name: str
    outcome: Outcome
    weight: float
    detail: str


@dataclass(frozen=True, slots=True)
class Match:
    score: float
    explanation: tuple[Feature, ...]
    threshold: float = THRESHOLD

    @property
    def is_match(self) -> bool:
        return self.score >= self.threshold

    @property
    def agreed(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.explanation if f.outcome == "agrees")

    @property
    def contradicted(self) -> tuple[Feature, ...]:
        return tuple(f for f in self.explanation if f.outcome == "contradicts")


def _coarser(a: Precision, b: Precision) -> Precision:
    return a if PRECISIONS.index(a) >= PRECISIONS.index(b) else b


def _date_feature(a: Subject, b: Subject) -> Feature:
    if a.date_of_birth is None or b.date_of_birth is None:
        return Feature("date_of_birth", "unknown", 0.0, "not known on both sides")
    x, y = a.date_of_birth, b.date_of_birth
    precision = _coarser(a.dob_precision, b.dob_precision)
    if x.year != y.year:
        if abs(x.year - y.year) == 1:
            return Feature("date_of_birth", "contradicts", DOB_WEIGHTS["year_apart"], "birth years one apart")
        return Feature("date_of_birth", "contradicts", DOB_WEIGHTS["contradicts"], "birth years differ")
    if precision == "year":
        return Feature("date_of_birth", "agrees", DOB_WEIGHTS["same_year"], "same birth year")
    if x.month != y.month:
        if precision == "day" and (x.month, x.day) == (y.day, y.month):
            return Feature("date_of_birth", "agrees", DOB_WEIGHTS["same_year"], "same date, day and month swapped")
        return Feature("date_of_birth", "contradicts", DOB_WEIGHTS["day_differs"], "same year, month differs")
    if precision == "month":
        return Feature("date_of_birth", "agrees", DOB_WEIGHTS["same_month"], "same birth month")
    if x.day != y.day:
        return Feature("date_of_birth", "contradicts", DOB_WEIGHTS["day_differs"], "same month, day differs")
    return Feature("date_of_birth", "agrees", DOB_WEIGHTS["same_day"], "same date of birth")


def _nationality_feature(a: Subject, b: Subject) -> Feature:
    if not a.nationalities or not b.nationalities:
        return Feature("nationality", "unknown", 0.0, "not known on both sides")
    if a.nationalities & b.nationalities:
        return Feature("nationality", "agrees", NATIONALITY_WEIGHTS["overlap"], "a nationality in common")
    return Feature("nationality", "contradicts", NATIONALITY_WEIGHTS["disjoint"], "no nationality in common")


def _sex_feature(a: Subject, b: Subject) -> Feature:
    if a.sex is None or b.sex is None:
        return Feature("sex", "unknown", 0.0, "not known on both sides")
    if a.sex == b.sex:
        return Feature("sex", "agrees", SEX_WEIGHTS["same"], "same sex")
    return Feature("sex", "contradicts", SEX_WEIGHTS["different"], "sex differs")


def _best_names(a: PreparedSubject, b: PreparedSubject, floor: float = 0.0) -> NameAlignment:
    """The best name alignment over both subjects' names; exact from `floor` on (see `name_similarity`)."""
    best = _NO_ALIGNMENT
    for x in a.names:
        for y in b.names:
            candidate = name_similarity(x, y, max(floor, best.similarity))
            if candidate.similarity > best.similarity:
                best = candidate
                if best.similarity >= 1.0:
                    return best
    return best


def _context(a: Subject, b: Subject) -> tuple[Feature, Feature, Feature]:
    """The features besides the name: date of birth, nationality, sex."""
    return _date_feature(a, b), _nationality_feature(a, b), _sex_feature(a, b)


def _match(best: NameAlignment, context: tuple[Feature, ...]) -> Match:
    name_weight = NAME_SLOPE * (best.similarity - NAME_PIVOT)
    features = [
        Feature(
            "name",
            "agrees" if name_weight >= 0 else "contradicts",
            name_weight,
            f"name similarity {best.similarity:.2f} (pivot {NAME_PIVOT:.2f})",
        )
    ]
    if best.used_initials:
        features.append(Feature("initials", "contradicts", INITIALS_PENALTY, "matched on initials only"))
    features += context
    logit = sum(feature.weight for feature in features)
    score = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))
    return Match(score, tuple(features))


def compare(a: Subject | PreparedSubject, b: Subject | PreparedSubject) -> Match:
    """Score how likely `a` and `b` are the same person, in [0, 1], with the features that moved the score.

    Symmetric: compare(a, b) and compare(b, a) give the same score."""
    pa, pb = prepare(a), prepare(b)
    return _match(_best_names(pa, pb), _context(pa.subject, pb.subject))


# The most a name can add (similarity 1): a pair whose other features leave it short of a threshold even then is
# decided without comparing names.
NAME_CEILING = NAME_SLOPE * (1.0 - NAME_PIVOT)


def compare_at_least(a: Subject | PreparedSubject, b: Subject | PreparedSubject, threshold: float) -> Match | None:
    """`compare(a, b)` when it scores at least `threshold`, else None: what screening needs. Cheaper than
    `compare` on the pairs that blocking brings together but whose birth dates or sex rule a match out, since
    their names are not compared at all (the decision is the same: tests/domain/test_names.py checks it)."""
    pa, pb = prepare(a), prepare(b)
    context = _context(pa.subject, pb.subject)
    floor = 0.0
    if 0.0 < threshold < 1.0:
        # The name similarity the threshold needs, given the other features (initials would only lower the score).
        needed = math.log(threshold / (1.0 - threshold)) - sum(feature.weight for feature in context)
        floor = NAME_PIVOT + needed / NAME_SLOPE - 1e-9
        if floor > 1.0:
            return None
    best = _best_names(pa, pb, floor)
    if best.similarity < floor:
        return None
    match = _match(best, context)
    return match if match.score >= threshold else None


# --- blocking -----------------------------------------------------------------------------------------------


def _keyed_parts(names: Iterable[PreparedName]) -> tuple[set[str], set[str]]:
    """Canonical parts and phonetic keys of the parts that can carry a block (not initials, not patronymics)."""
    canonical: set[str] = set()
    phonetic: set[str] = set()
    for name in names:
        for alternative in name.alternatives:
            for part in alternative:
                if part.initial or part.optional:
                    continue
                if not part.abjad:
                    canonical.add(part.canonical)
                phonetic.add(part.phonetic)
    return canonical, phonetic


def blocking_keys(names: Iterable[str], birth_year: int | None = None, nationalities: Iterable[str] = ()) -> set[str]:
    """Deterministic blocking keys of a subject, as plain strings (the blind index keeps HMACs of them):

    - `n:<canonical part>` for every non-abjad part (variants folded), and `p:<phonetic key>` for every part;
    - `pp:<key>+<key>`: every pair of phonetic keys within one name, sorted (the strongest name key);
    - `py:<key>:<year>` per phonetic key when the birth year is known;
    - `pn:<key>:<CC>` per phonetic key and nationality.

    Initials and patronymics make no keys. Two spellings of one name in different scripts share their `p:` keys
    (and so `pp:`, `py:`, `pn:`). A query that allows a birth year one off asks for `py:` with year - 1 and + 1.
    """
    prepared = [prepare_name(name) for name in names]
    canonical, phonetic = _keyed_parts(prepared)
    keys = {f"n:{part}" for part in canonical} | {f"p:{key}" for key in phonetic}
    for name in prepared:
        for alternative in name.alternatives:
            codes = sorted({p.phonetic for p in alternative if not p.initial and not p.optional})
            keys.update(f"pp:{x}+{y}" for i, x in enumerate(codes) for y in codes[i + 1 :])
    if birth_year is not None:
        keys.update(f"py:{key}:{birth_year}" for key in phonetic)
    keys.update(f"pn:{key}:{code.upper()}" for key in phonetic for code in nationalities)
    return keys


def subject_keys(subject: Subject, *, year_slack: int = 0) -> set[str]:
    """`blocking_keys` of a subject; with `year_slack`, also the `py:` keys of the neighbouring birth years."""
    year = subject.date_of_birth.year if subject.date_of_birth else None
    keys = blocking_keys(subject.names, year, subject.nationalities)
    if year is not None and year_slack:
        phonetic = [key[2:] for key in keys if key.startswith("p:")]
        for offset in range(-year_slack, year_slack + 1):
            keys.update(f"py:{key}:{year + offset}" for key in phonetic)
    return keys


@dataclass(order=True, frozen=True, slots=True)
class Candidate:
    score: float
    key: str = field(compare=False)
    match: Match = field(compare=False)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenation of range(start, end) for each pair, as one array."""
    lengths = ends - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    result: np.ndarray = offsets + np.arange(int(lengths.sum()))
    return result


def _pool(name: PreparedName) -> list[Part]:
    """Every part an alternative of `name` may hold, as a multiset: the parts, then the merged parts."""
    merged = {part for alternative in name.alternatives[1:] for part in alternative} - set(name.parts)
    return [*name.parts, *merged]


def _name_row(name: PreparedName) -> tuple[bool, int, bool, int]:
    """What `Matcher._name_ceilings` needs of a name: whether it can be bounded (no initials: their weight is half),
    its length, whether it has merged alternatives, and how many of its parts are optional."""
    return (
        not any(part.initial for part in name.parts),
        len(name.parts),
        len(name.alternatives) > 1,
        sum(part.optional for part in name.parts),
    )


@dataclass(frozen=True, slots=True)
class _NameArrays:
    """Per indexed subject its names, per name what `Matcher._name_ceilings` reads, as numpy arrays."""

    subject_first: np.ndarray  # subject i's names are subject_first[i]:subject_first[i + 1]
    boundable: np.ndarray  # no initial in the name (`_name_row`)
    length: np.ndarray  # parts of the name (its alternatives have this many, or one fewer when merged)
    merged: np.ndarray  # it has merged alternatives
    optional: np.ndarray  # its optional parts (patronymics)
    pool_first: np.ndarray  # name j's pool is pool[pool_first[j]:pool_first[j + 1]] (part ids)
    pool: np.ndarray
    canonical: np.ndarray  # per part id (objects: str)
    phonetic: np.ndarray  # per part id (objects: str)
    abjad: np.ndarray  # per part id


class Matcher:
    """An index of many subjects by blocking key; `screen` scores a query against its blocks only.

    Blocks searched for a query: every shared `pp:` (two name parts) and `py:` (a part and the birth year, one
    year of slack) key, and a shared `p:` key (one part alone) only while its block has at most
    `MAX_SINGLE_KEY_BLOCK` members: a lone common forename must not pull in the whole registry.

    Screening then works on all of a query's candidates at once (numpy), in two cuts before any name is aligned:

    1. the date of birth, sex and nationality: a candidate they leave short of the threshold even with identical
       names (`NAME_CEILING`) is out (`_context_ceiling`);
    2. the name: what is left gives the name similarity each candidate needs, and a candidate whose names cannot
       reach it is out (`_name_ceilings`: for names without initials or patronymics, each of the query's parts at
       its best against the candidate's parts, from one rapidfuzz `cdist` over the candidates' distinct parts).

    Only the rest are compared in full (`compare_at_least`). The result is the same as comparing every candidate
    (tests/domain/test_names.py checks it on the evaluation set).
    """

    def __init__(self) -> None:
        self._keys: list[str] = []
        self._positions: dict[str, int] = {}
        self._subjects: list[PreparedSubject] = []
        self._blocks: defaultdict[str, list[int]] = defaultdict(list)
        # Per subject: birth year, month, day, precision (index in PRECISIONS; -1 unknown), sex (0 unknown, 1 M,
        # 2 F), nationality known (0/1). Grown in lists, read as numpy arrays, rebuilt after an add.
        self._rows: list[tuple[int, int, int, int, int, int]] = []
        self._table: np.ndarray | None = None
        # Per name of every subject, in order (see _NameArrays); parts numbered in `_part_ids`.
        self._name_counts: list[int] = []
        self._name_rows: list[tuple[bool, int, bool, int]] = []
        self._pools: list[list[int]] = []
        self._part_ids: dict[Part, int] = {}
        self._parts: list[Part] = []
        self._arrays: _NameArrays | None = None

    def __len__(self) -> int:
        return len(self._subjects)

    def add(self, key: str, subject: Subject) -> None:
        if key in self._positions:
            raise NameDataError(f"key {key!r} is already indexed")
        position = len(self._keys)
        prepared = prepare(subject)
        self._keys.append(key)
        self._positions[key] = position
        self._subjects.append(prepared)
        self._rows.append(_context_row(subject))
        self._name_counts.append(len(prepared.names))
        for name in prepared.names:
            self._name_rows.append(_name_row(name))
            self._pools.append([self._part_id(part) for part in _pool(name)])
        self._table = None
        self._arrays = None
        for block in subject_keys(subject):
            if block.startswith(("pp:", "py:", "p:")):
                self._blocks[block].append(position)

    def _part_id(self, part: Part) -> int:
        found = self._part_ids.get(part)
        if found is None:
            found = self._part_ids[part] = len(self._parts)
            self._parts.append(part)
        return found

    def _name_arrays(self) -> _NameArrays:
        if self._arrays is None:
            rows = np.array(self._name_rows, dtype=np.int64).reshape(-1, 4)
            sizes = np.fromiter((len(pool) for pool in self._pools), dtype=np.int64, count=len(self._pools))
            self._arrays = _NameArrays(
                subject_first=np.concatenate(([0], np.cumsum(self._name_counts, dtype=np.int64))),
                boundable=rows[:, 0].astype(bool),
                length=rows[:, 1],
                merged=rows[:, 2],
                optional=rows[:, 3],
                pool_first=np.concatenate(([0], np.cumsum(sizes))),
                pool=np.fromiter((i for pool in self._pools for i in pool), dtype=np.int64, count=int(sizes.sum())),
                canonical=np.array([part.canonical for part in self._parts], dtype=object),
                phonetic=np.array([part.phonetic for part in self._parts], dtype=object),
                abjad=np.fromiter((part.abjad for part in self._parts), dtype=bool, count=len(self._parts)),
            )
        return self._arrays

    def _candidate_positions(self, subject: Subject) -> set[int]:
        found: set[int] = set()
        for block in subject_keys(subject, year_slack=1):
            members = self._blocks.get(block)
            if not members:
                continue
            if block.startswith("p:") and len(members) > MAX_SINGLE_KEY_BLOCK:
                continue
            found.update(members)
        return found

    def candidates(self, subject: Subject) -> set[str]:
        """Keys of the indexed subjects that share a searched block with `subject`."""
        return {self._keys[position] for position in self._candidate_positions(subject)}

    def screen(self, subject: Subject, *, threshold: float = THRESHOLD) -> list[Candidate]:
        """Indexed subjects scoring at least `threshold` against `subject`, best first."""
        query = prepare(subject)
        found = self._candidate_positions(subject)
        if not found:
            return []
        positions = np.fromiter(found, dtype=np.int64, count=len(found))
        if 0.0 < threshold < 1.0:
            if self._table is None:
                self._table = np.array(self._rows, dtype=np.int64).reshape(-1, 6)
            needed = math.log(threshold / (1.0 - threshold))
            context = _context_ceiling(_context_row(subject), self._table[positions])
            kept = context + NAME_CEILING >= needed - 1e-9
            positions, context = positions[kept], context[kept]
            floors = NAME_PIVOT + (needed - context) / NAME_SLOPE
            positions = positions[self._name_ceilings(query, positions) >= floors - 1e-9]
        survivors = positions.tolist()
        fill_similarities(query.parts, set().union(*(self._subjects[position].parts for position in survivors)))
        results = [
            Candidate(match.score, self._keys[position], match)
            for position in survivors
            if (match := compare_at_least(query, self._subjects[position], threshold)) is not None
        ]
        return sorted(results, reverse=True)

    def _name_ceilings(self, query: PreparedSubject, positions: np.ndarray) -> np.ndarray:
        """Per candidate, an upper bound of `_best_names(query, candidate)`: the largest of its name pairs' bounds.

        A pair with an initial on either side is not bounded (1). Otherwise every alignment `_align(x, y)` of
        alternatives with n and m parts pairs k = min(n, m) parts; of those pairs, the ones with a patronymic that
        disagrees count nothing (at most as many as there are patronymics, o), the others count 2s over 2; parts
        left unpaired count UNMATCHED_SHARE each unless optional. Each pair's similarity s is at most its query
        part's best against the candidate name's parts, so with c pairs counted the sum is at most the c best of
        the query's parts (`top`), and the denominator at least 2c + UNMATCHED_SHARE * u, u the non-optional parts
        that must stay unpaired. The bound is the largest over the alternatives' lengths and c in [k - o, k]."""
        ceilings = np.zeros(len(positions))
        arrays = self._name_arrays()
        starts, ends = arrays.subject_first[positions], arrays.subject_first[positions + 1]
        names = _ranges(starts, ends)
        if not names.size or not query.names:
            return ceilings
        owners = np.repeat(np.arange(len(positions)), ends - starts)
        bounds = np.ones(len(names))
        query_rows = [_name_row(name) for name in query.names]
        boundable = arrays.boundable[names]
        if all(row[0] for row in query_rows) and boundable.any():
            chosen = names[boundable]
            best = np.zeros(len(chosen))
            for name, row in zip(query.names, query_rows, strict=True):
                best = np.maximum(best, self._name_pair_ceilings(name, row, chosen))
            bounds[boundable] = best
        np.maximum.at(ceilings, owners, bounds)
        return ceilings

    def _best_by_part(
        self, query_parts: list[Part], firsts: np.ndarray, lengths: np.ndarray, lasts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows: `query_parts`; columns: the names whose pools are pool[firsts:lasts], their parts the first
        `lengths` of it, their merged parts the rest; cells: the query part's best similarity against the name's
        parts (first array), and against its merged parts (second array, the names that have some), from one
        `similarity_matrix` over the names' distinct parts."""
        arrays = self._name_arrays()
        distinct, inverse = np.unique(arrays.pool[_ranges(firsts, lasts)], return_inverse=True)
        parts = _Texts(arrays.canonical[distinct], arrays.phonetic[distinct], arrays.abjad[distinct])
        matrix = _similarity_matrix(_Texts.of(query_parts), parts)[:, inverse]
        sizes = lasts - firsts
        starts = np.cumsum(sizes) - sizes  # each name's first column in `matrix`
        base = np.maximum.reduceat(matrix[:, _ranges(starts, starts + lengths)], np.cumsum(lengths) - lengths, axis=1)
        merged_starts, merged_ends = starts + lengths, starts + sizes
        has_merged = merged_ends > merged_starts
        merged_starts, merged_ends = merged_starts[has_merged], merged_ends[has_merged]
        merged_sizes = merged_ends - merged_starts
        merged = (
            np.maximum.reduceat(
                matrix[:, _ranges(merged_starts, merged_ends)], np.cumsum(merged_sizes) - merged_sizes, axis=1
            )
            if has_merged.any()
            else np.zeros((len(query_parts), 0))
        )
        return base, merged

    def _name_pair_ceilings(
        self, name: PreparedName, row: tuple[bool, int, bool, int], chosen: np.ndarray
    ) -> np.ndarray:
        """Upper bounds of `name_similarity(name, candidate name)` for each of the `chosen` names (no initials).

        An alignment of a query alternative (n parts, or n - 1 with one merged part qm) with a candidate alternative
        (m parts, or m - 1 with one merged part cm) pairs k = min of their lengths; c of the pairs count (the rest
        are patronymics that disagree, at most o). Each pair's similarity is at most its best: base with base pairs
        at most the c best of the query's base parts against the candidate's base parts (`top`), a pair with qm at
        most qm's best against base parts (`j_mb`), with cm at most the query base parts' best against cm
        (`j_bm`), qm with cm `j_mm`. The denominator is at least 2c + UNMATCHED_SHARE * u, u the non-optional
        parts that must stay unpaired."""
        arrays = self._name_arrays()
        _, n, query_merged, query_optional = row
        lengths, optional = arrays.length[chosen], arrays.optional[chosen]
        firsts, lasts = arrays.pool_first[chosen], arrays.pool_first[chosen + 1]
        columns = np.arange(len(chosen))
        pool = _pool(name)
        base, merged_parts = self._best_by_part(pool, firsts, lengths, lasts)
        top = np.vstack((np.zeros((1, len(chosen))), np.cumsum(-np.sort(-base[:n], axis=0), axis=0)))
        none = np.full(len(chosen), -np.inf)
        j_mb = base[n:].max(axis=0) if len(pool) > n else none
        j_bm, j_mm = none.copy(), none.copy()
        has_merged = lasts > firsts + lengths
        if has_merged.any():
            j_bm[has_merged] = merged_parts[:n].max(axis=0)
            if len(pool) > n:
                j_mm[has_merged] = merged_parts[n:].max(axis=0)

        def top_of(count: np.ndarray | int, limit: np.ndarray | int) -> np.ndarray:
            taken = np.maximum(np.minimum(count, limit), 0)  # limit <= n: the query's base parts at most
            result: np.ndarray = top[taken, columns]
            return result

        best = np.zeros(len(chosen))
        droppable = optional + query_optional
        name_kinds = [(lengths, lengths, False)] + ([(lengths - 1, lengths - 2, True)] if has_merged.any() else [])
        query_kinds = [(n, n, False)] + ([(n - 1, n - 2, True)] if query_merged and len(pool) > n else [])
        for query_length, query_base, with_qm in query_kinds:
            for name_lengths, name_base, with_cm in name_kinds:
                k = np.minimum(query_length, name_lengths)
                unpaired = np.maximum(0, query_length - query_optional - k)
                unpaired = unpaired + np.maximum(0, name_lengths - optional - k)
                for dropped in range(int(droppable.max()) + 1):
                    counted = k - dropped
                    both_base = np.minimum(query_base, name_base)
                    total = top_of(counted, both_base)
                    # Each option only where it can happen: qm needs a base part to pair with, and so on.
                    if with_qm:
                        qm_b = j_mb + top_of(counted - 1, np.minimum(query_base, name_base - 1))
                        total = np.maximum(total, np.where(name_base >= 1, qm_b, -np.inf))
                    if with_cm:
                        b_cm = j_bm + top_of(counted - 1, np.minimum(query_base - 1, name_base))
                        total = np.maximum(total, np.where(query_base >= 1, b_cm, -np.inf))
                    if with_qm and with_cm:
                        total = np.maximum(total, j_mm + top_of(counted - 1, both_base))
                        pair = j_mb + j_bm + top_of(counted - 2, np.minimum(query_base - 1, name_base - 1))
                        feasible = (counted >= 2) & (query_base >= 1) & (name_base >= 1)
                        total = np.maximum(total, np.where(feasible, pair, -np.inf))
                    usable = (counted >= 1) & (dropped <= droppable)
                    if with_cm:
                        usable &= has_merged
                    ratio = 2.0 * total / (2.0 * np.maximum(counted, 1) + UNMATCHED_SHARE * unpaired)
                    np.maximum(best, ratio, out=best, where=usable)
        return best


_SEX_CODES = {None: 0, "M": 1, "F": 2}


def _context_row(subject: Subject) -> tuple[int, int, int, int, int, int]:
    born = subject.date_of_birth
    precision = PRECISIONS.index(subject.dob_precision) if born else -1
    return (
        born.year if born else 0,
        born.month if born else 0,
        born.day if born else 0,
        precision,
        _SEX_CODES[subject.sex],
        int(bool(subject.nationalities)),
    )


def _context_ceiling(query: tuple[int, int, int, int, int, int], table: np.ndarray) -> np.ndarray:
    """For each row of `table` (`Matcher._rows`), the most date of birth, sex and nationality can add against
    `query`: the date and sex weights exactly as `_date_feature` and `_sex_feature` give them, the nationality's
    at its best (an overlap) when both sides know one."""
    year, month, day, precision, sex, has_nationality = query
    years, months, days, precisions = table[:, 0], table[:, 1], table[:, 2], table[:, 3]
    coarser = np.maximum(precisions, precision)
    apart = np.abs(years - year)
    swapped = (coarser == 0) & (months == day) & (days == month)
    date = np.select(
        [
            apart >= 2,
            apart == 1,
            coarser == 2,
            (months != month) & swapped,
            months != month,
            coarser == 1,
            days != day,
        ],
        [
            DOB_WEIGHTS["contradicts"],
            DOB_WEIGHTS["year_apart"],
            DOB_WEIGHTS["same_year"],
            DOB_WEIGHTS["same_year"],
            DOB_WEIGHTS["day_differs"],
            DOB_WEIGHTS["same_month"],
            DOB_WEIGHTS["day_differs"],
        ],
        DOB_WEIGHTS["same_day"],
    )
    date = np.where((precisions >= 0) & (precision >= 0), date, 0.0)
    sexes = table[:, 4]
    sex_weight = np.where(sexes == sex, SEX_WEIGHTS["same"], SEX_WEIGHTS["different"])
    sex_weight = np.where((sexes > 0) & (sex > 0), sex_weight, 0.0)
    nationality = np.where((table[:, 5] > 0) & (has_nationality > 0), NATIONALITY_WEIGHTS["overlap"], 0.0)
    result: np.ndarray = date + sex_weight + nationality
    return result
