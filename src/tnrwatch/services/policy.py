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
    # Moving a report's case through its states (services/cases.py checks the jurisdiction), and writing its notes
    # and tasks (services/case_notes.py; reading them needs report:read).
    "case:work": _CASEWORKERS,
    # Giving a case to any officer of the jurisdiction, and the supervisor's dashboard (officers take cases themselves).
    "case:supervise": frozenset({"supervisor"}),
    # The audit log: who did what, never content; the operator (the CLI) may read it too, as every permission.
    "audit:read": frozenset({"auditor", "admin"}),
    # Alerts (services/alerts.py checks owner and audience): focal points and the EU level write and receive them.
    "alert:read": _CODERS,
    "alert:write": _CODERS,
    # Checking every evidence item's file hash and custody chain (`tnrwatch evidence verify`): hashes, never content.
    "evidence:verify": frozenset({"auditor", "admin"}),
    # Subscriptions to saved searches, the account's own inbox and delivery log (services/subscriptions.py): whoever
    # reads incidents; what reaches them is still only what they may read (services/delivery.py checks it).
    "subscription:manage": _READERS,
    # Registering partner nodes and issuing their TAXII tokens (services/partners.py): the node's operator only.
    "partner:manage": frozenset(),
    # Notices under vetting (services/notices.py): the law-enforcement liaison enters, reads (the subject's identity
    # included, each read recorded) and decides them.
    "notice:read": frozenset({"liaison"}),
    "notice:write": frozenset({"liaison"}),
    # The protected-persons registry (services/registry.py): its pseudonymous list and counts for the liaison and the
    # focal points; entries (identities to the vault) only from the focal points that know the people.
    "registry:read": frozenset({"liaison"}) | _CASEWORKERS,
    "registry:write": _CASEWORKERS,
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


# -- records with a jurisdiction, a TLP marking and a sharing state --------------------------------------------------
# A coded incident (and a person record) belongs to the jurisdiction whose staff recorded it, or to the node itself
# (None: imports, the operator, the EU analysts' own coding). Its owner may share it with the EU level. TLP 2.0
# then narrows who reads it: RED only its owner (named recipients; never through sharing), AMBER+STRICT and AMBER
# its owner and the EU level it was shared with (the recipient organisation), GREEN and CLEAR the whole community.
# The node's own records are owned by the EU level's analysts (and the operator); focal points read them below RED.

TLP_ALL = frozenset({"clear", "green", "amber", "amber+strict", "red"})
TLP_COMMUNITY = frozenset({"clear", "green"})
TLP_BELOW_RED = TLP_ALL - {"red"}


@dataclass(frozen=True)
class ReadScope:
    """Which records a principal reads: all of them; those of its own jurisdiction (any marking); the node's own
    records with these markings; other jurisdictions' records shared with the EU level with these markings."""

    everything: bool = False
    own_jurisdiction: str | None = None
    node_level: frozenset[str] = frozenset()
    shared: frozenset[str] = frozenset()

    def admits(self, jurisdiction: str | None, tlp: str, shared_with_eu: bool) -> bool:
        if self.everything:
            return True
        if jurisdiction is None:
            return tlp in self.node_level
        if jurisdiction == self.own_jurisdiction:
            return True
        return shared_with_eu and tlp in self.shared


def read_scope(principal: Principal) -> ReadScope:
    """What `principal` may read of coded records, by role (the permission to read them at all is checked apart)."""
    if principal.role == OPERATOR_ROLE:
        return ReadScope(everything=True)
    if principal.role in _CASEWORKERS:
        # A focal point reads all of its own, the node's records below RED, and the community's shared records.
        return ReadScope(own_jurisdiction=principal.jurisdiction, node_level=TLP_BELOW_RED, shared=TLP_COMMUNITY)
    if principal.role == "analyst":
        # The EU level owns the node's records (it codes them: RED included) and reads what jurisdictions shared
        # with it, below RED.
        return ReadScope(node_level=TLP_ALL, shared=TLP_BELOW_RED)
    if principal.role == "liaison":
        return ReadScope(node_level=TLP_BELOW_RED, shared=TLP_COMMUNITY)
    return ReadScope()  # auditor, admin: no content


def may_write_record(principal: Principal, jurisdiction: str | None) -> bool:
    """Whether `principal` may change (or share) a record owned by `jurisdiction`: its own jurisdiction's staff, or
    for the node's own records the EU analysts; the operator always. The permission is checked apart."""
    if principal.role == OPERATOR_ROLE:
        return True
    if principal.role in _CASEWORKERS:
        return jurisdiction is not None and jurisdiction == principal.jurisdiction
    if principal.role == "analyst":
        return jurisdiction is None
    return False


def record_jurisdiction(principal: Principal) -> str | None:
    """The owner of a record `principal` creates: its jurisdiction (focal points) or the node (everyone else)."""
    return principal.jurisdiction if principal.role in _CASEWORKERS else None


def allowed(principal: Principal, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    return principal.role == OPERATOR_ROLE or principal.role in PERMISSIONS[permission]


def require(principal: Principal, permission: str) -> None:
    if not allowed(principal, permission):
        raise ForbiddenError(f"the role {principal.role!r} may not {permission.replace(':', ' ')}")
