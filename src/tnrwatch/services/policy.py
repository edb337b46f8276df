"""Who may do what. One table decides every read and write; the focal-point work adds jurisdictions and TLP to it.

Roles (a staff account has one): officer and supervisor work cases for a jurisdiction; analyst reads and codes what is
shared with them; liaison vets notices; auditor reads the audit log only; admin manages accounts, not content.
The operator is whoever runs the `tnrwatch` command on the node itself: they hold the keys and the database anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from tnrwatch.errors import ForbiddenError

ROLES: tuple[str, ...] = ("officer", "supervisor", "analyst", "liaison", "auditor", "admin")
OPERATOR_ROLE = "operator"

_READERS = frozenset({"officer", "supervisor", "analyst", "liaison"})
_CODERS = frozenset({"officer", "supervisor", "analyst"})
_CASEWORKERS = frozenset({"officer", "supervisor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "taxonomy:read": frozenset(ROLES),
    "incident:read": _READERS,
    "incident:write": _CODERS,
    "actor:read": _READERS,
    "actor:write": _CODERS,
    "person:read": _CODERS,
    "person:write": _CASEWORKERS,
    "person:identity": _CASEWORKERS,
    # Reports: metadata and ciphertext of the principal's own jurisdiction only (reports.py checks the jurisdiction).
    "report:read": _CASEWORKERS,
    "report:reply": _CASEWORKERS,
    "key:manage_own": _CASEWORKERS,
    # Moving a report's case through its states (services/cases.py checks the jurisdiction).
    "case:work": _CASEWORKERS,
    # Giving a case to any officer of the jurisdiction, and the supervisor's dashboard (officers take cases themselves).
    "case:supervise": frozenset({"supervisor"}),
    # The audit log: who did what, never content; the operator (the CLI) may read it too, as every permission.
    "audit:read": frozenset({"auditor", "admin"}),
}


@dataclass(frozen=True)
class Principal:
    """Whoever acts: a staff account (by API token) or the node's operator (the CLI)."""

    account_id: int | None
    username: str
    role: str
    jurisdiction: str | None = None  # the focal point an officer or supervisor works for

    @classmethod
    def operator(cls) -> Principal:
        return cls(account_id=None, username="operator", role=OPERATOR_ROLE)


def allowed(principal: Principal, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return principal.role == OPERATOR_ROLE or principal.role in PERMISSIONS[permission]


def require(principal: Principal, permission: str) -> None:
    if not allowed(principal, permission):
        raise ForbiddenError(f"the role {principal.role!r} may not {permission.replace(':', ' ')}")
