"""A report's case: the states a focal point moves it through, and which moves are allowed.

    received -> acknowledged -> triaged -> under verification -> verified | unsubstantiated -> referred | closed

A triaged report that is not a case of transnational repression (or a duplicate) may be closed at once; a verified or
unsubstantiated case is referred or closed; a referred one is closed when the referral is done; a closed case may be
reopened (back to triaged), since new facts arrive. Everything else is refused with the moves that are possible.
"""

from __future__ import annotations

from typing import Final

RECEIVED: Final = "received"
ACKNOWLEDGED: Final = "acknowledged"
TRIAGED: Final = "triaged"
UNDER_VERIFICATION: Final = "under_verification"
VERIFIED: Final = "verified"
UNSUBSTANTIATED: Final = "unsubstantiated"
REFERRED: Final = "referred"
CLOSED: Final = "closed"

STATES: tuple[str, ...] = (
    RECEIVED,
    ACKNOWLEDGED,
    TRIAGED,
    UNDER_VERIFICATION,
    VERIFIED,
    UNSUBSTANTIATED,
    REFERRED,
    CLOSED,
)

TRANSITIONS: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({ACKNOWLEDGED}),
    ACKNOWLEDGED: frozenset({TRIAGED}),
    TRIAGED: frozenset({UNDER_VERIFICATION, CLOSED}),
    UNDER_VERIFICATION: frozenset({VERIFIED, UNSUBSTANTIATED}),
    VERIFIED: frozenset({REFERRED, CLOSED}),
    UNSUBSTANTIATED: frozenset({REFERRED, CLOSED}),
    REFERRED: frozenset({CLOSED}),
    CLOSED: frozenset({TRIAGED}),
}

# States in which the report still waits for its acknowledgement, and those in which the case is still open.
UNACKNOWLEDGED: frozenset[str] = frozenset({RECEIVED})
OPEN: frozenset[str] = frozenset(STATES) - {CLOSED}

LABELS: dict[str, str] = {
    RECEIVED: "received",
    ACKNOWLEDGED: "acknowledged",
    TRIAGED: "triaged",
    UNDER_VERIFICATION: "under verification",
    VERIFIED: "verified",
    UNSUBSTANTIATED: "unsubstantiated",
    REFERRED: "referred",
    CLOSED: "closed",
}


class IllegalTransitionError(ValueError):
    """A move the case's state does not allow; the message names the moves that are possible."""

    def __init__(self, current: str, target: str) -> None:
        possible = ", ".join(LABELS[state] for state in sorted(TRANSITIONS[current], key=STATES.index))
        wanted = LABELS.get(target, repr(target))
        super().__init__(f"a case that is {LABELS[current]} cannot become {wanted}; it can become: {possible}")
        self.current = current
        self.target = target


def check_transition(current: str, target: str) -> None:
    """Raise IllegalTransitionError unless a case in `current` may move to `target` (ValueError for unknown states)."""
    if current not in TRANSITIONS:
        raise ValueError(f"unknown case state {current!r}")
    if target not in TRANSITIONS or target not in TRANSITIONS[current]:
        raise IllegalTransitionError(current, target)


# Where a case can be referred. A referral to another jurisdiction's focal point shares the report with it: its
# officers see the report and hold sealed copies of its key.
REFERRAL_KINDS: dict[str, str] = {
    "police": "the police",
    "protection": "a protection programme",
    "legal_aid": "legal aid",
    "focal_point": "another jurisdiction's focal point",
}
