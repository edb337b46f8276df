"""The screening matchers kept between screenings, in each process's memory, and rebuilt when what they index changes.

Why: a vetting sheet takes milliseconds, but opening a 100,000-entry registry from the vault and indexing it takes
20-30 seconds (docs/benchmarks.md, "Notice screening in the service"); doing that for every sheet made each
`screen_notice` wait that long.

What is kept, per node (`Node.screening_cache`), one slot each:
- `registry`: the protected-persons registry opened from the vault, indexed, with each entry's clear fields;
- `persons`: the identities of persons (every person with one in the vault; which incidents they are linked to is
  read afresh for each sheet, so incident changes never need a rebuild);
- `refusals`: the subjects of notices decided `do_not_act`.

Never stale: before every use, a stamp is read from the database (a count and maxima over each table, see below),
and a slot whose stamp differs is rebuilt. The stamp is read *before* the rows it guards, in an earlier transaction,
so a change committed in between makes a build newer than its stamp: that costs one rebuild more, never an answer
from older data. Every writer of these rows sets `updated_at` (and inserts raise the count or the largest id); a
writer that did not would go unseen until the slot expires. Known limit: two edits of existing rows that commit in
the reverse order of their `updated_at`, with a stamp read between the two commits, leave the stamp unchanged, and
the later-committed edit shows only after the next change or the lifetime. Nothing edits registry entries or
identities in place today, and decisions are made by hand, one at a time; a change counter kept by triggers (as
migration 0012 keeps `incident_change`) would close it. One build at a time per slot: other threads wait for it, or
use the kept one without waiting when its stamp is the one they read.

Memory: the opened names stay in memory for at most `lifetime` after they were opened (TNRWATCH_SCREENING_CACHE_MINUTES,
docs/threat-model.md): a timer drops them even when nobody screens; 0 keeps nothing (every screening opens afresh).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tnrwatch.domain import names
from tnrwatch.store.models import Notice, PersonIdentity, ProtectedPerson

T = TypeVar("T")

# count, largest id, latest updated_at (as text: only compared for equality)
RegistryStamp = tuple[int, int, str]
TableStamp = tuple[int, int, str]


def registry_stamp(session: Session) -> RegistryStamp:
    """What changes whenever a registry entry is added, changed or removed (the blind index keys on it too)."""
    count, last_id, last_update = session.execute(
        select(func.count(), func.max(ProtectedPerson.id), func.max(ProtectedPerson.updated_at))
    ).one()
    return int(count or 0), int(last_id or 0), str(last_update or "")


def identities_stamp(session: Session) -> TableStamp:
    """What changes whenever a person's identity is added, resealed or removed."""
    count, last_id, last_update = session.execute(
        select(func.count(), func.max(PersonIdentity.person_id), func.max(PersonIdentity.updated_at))
    ).one()
    return int(count or 0), int(last_id or 0), str(last_update or "")


def refusals_stamp(session: Session) -> TableStamp:
    """What changes whenever a notice is decided `do_not_act`, or a refusal is decided otherwise (a decision sets
    `updated_at`; one leaving the set lowers the count unless another joins it, which raises the latest time)."""
    count, last_id, last_update = session.execute(
        select(func.count(), func.max(Notice.id), func.max(Notice.updated_at)).where(Notice.decision == "do_not_act")
    ).one()
    return int(count or 0), int(last_id or 0), str(last_update or "")


@dataclass(frozen=True)
class ScreeningStamps:
    registry: RegistryStamp
    persons: TableStamp
    refusals: TableStamp


def read_stamps(session: Session) -> ScreeningStamps:
    return ScreeningStamps(registry_stamp(session), identities_stamp(session), refusals_stamp(session))


# -- what the slots hold ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistryEntryMeta:
    """A registry entry's clear fields: what a sheet may name it by."""

    pseudonym: str
    category: str
    origin_state: str | None
    focal_point: str | None


@dataclass(frozen=True)
class RegistryIndex:
    """The registry opened and indexed: the matcher (keyed by entry uuid) and each entry's clear fields."""

    matcher: names.Matcher
    entries: dict[str, RegistryEntryMeta]


# -- one slot --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kept(Generic[T]):
    stamp: Hashable
    value: T
    built_at: float  # time.monotonic()


class StampedSlot(Generic[T]):
    """One value built from the database, kept while the stamp it was built under is current and it is younger than
    `lifetime` seconds (0: never kept). `builds` counts the builds (each one opens the vault)."""

    def __init__(self, name: str, lifetime: float) -> None:
        self.name = name
        self.lifetime = lifetime
        self.builds = 0
        self._kept: _Kept[T] | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def get(self, stamp: Hashable, build: Callable[[], T]) -> T:
        """The kept value when it was built under `stamp` and has not expired; otherwise `build()` (which must read
        the database after `stamp` was read), kept for the next caller. One build at a time: a caller finding a
        build under way waits for it, and uses it if it was made under its stamp."""
        kept = self._fresh(stamp)  # without the lock: a build under way for another stamp need not be waited for
        if kept is not None:
            return kept.value
        with self._lock:
            kept = self._fresh(stamp)
            if kept is not None:
                return kept.value
            value = build()
            self.builds += 1
            if self.lifetime > 0:
                self._keep(_Kept(stamp, value, time.monotonic()))
            return value

    def clear(self) -> None:
        """Drop the kept value now."""
        with self._lock:
            self._drop()

    @property
    def holding(self) -> bool:
        return self._kept is not None

    def _fresh(self, stamp: Hashable) -> _Kept[T] | None:
        kept = self._kept  # one read of one attribute: a consistent snapshot
        if kept is not None and kept.stamp == stamp and time.monotonic() - kept.built_at < self.lifetime:
            return kept
        return None

    def _keep(self, kept: _Kept[T]) -> None:
        self._drop()
        self._kept = kept
        # Expire on time even when nobody screens again: the opened names must not outlive the lifetime.
        self._timer = threading.Timer(self.lifetime, self._expire, args=(kept,))
        self._timer.name = f"screening-cache-{self.name}"
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, kept: _Kept[T]) -> None:
        with self._lock:
            if self._kept is kept:
                self._drop()

    def _drop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._kept = None


@dataclass
class ScreeningCache:
    """The node's screening matchers in this process (see the module docstring). Safe to share between threads."""

    lifetime: float  # seconds; 0 keeps nothing
    registry: StampedSlot[RegistryIndex] = field(init=False)
    persons: StampedSlot[names.Matcher] = field(init=False)  # keyed by the person's row id (as text)
    refusals: StampedSlot[names.Matcher] = field(init=False)  # keyed by the notice's uuid (as text)

    def __post_init__(self) -> None:
        self.registry = StampedSlot("registry", self.lifetime)
        self.persons = StampedSlot("persons", self.lifetime)
        self.refusals = StampedSlot("refusals", self.lifetime)

    @classmethod
    def for_minutes(cls, minutes: int) -> ScreeningCache:
        return cls(lifetime=minutes * 60.0)

    @property
    def builds(self) -> dict[str, int]:
        """Builds per slot since the process started: each one opened its rows from the vault."""
        return {slot.name: slot.builds for slot in (self.registry, self.persons, self.refusals)}

    def clear(self) -> None:
        for slot in (self.registry, self.persons, self.refusals):
            slot.clear()
