"""The demo's notice vetting (issue 7's "done when"): the synthetic protected-persons registry and example notices of
`examples/notices/`, the red notice the walkthrough asks the demo liaison to enter, and a screening partner node.

- `seed_notices` (run by `tnrwatch demo seed`, also when `--if-empty` seeds no incidents) loads the registry (names
  in Cyrillic, Arabic, Persian, Chinese and Turkish spellings) and the example notices, marked synthetic, so that the
  liaison's list is not empty. Each record gets an id derived from its file and position, so a second run adds only
  what is missing (nothing, normally).
- `DEMO_NOTICE` is the done-when case for the liaison to enter by form or API: "RAKHIMOVA Dilnoza", requested by
  Uzbekistan for "extremism", whom the registry holds as "Дильноза Рахимова". The imported examples hold the same
  person under Interpol reference 2025/31842; a red notice with a reference already here is refused as a conflict,
  so this one carries a reference no example uses.
- `demo_screening` (run by `tnrwatch demo credentials`) makes the node's screening key if there is none and registers
  the partner `de-bka-demo` (a police unit of another Member State, cleared for CLEAR only: it screens, it does not
  receive alerts). The partner's copy of the key and its token are kept under the node's home in `demo-partners/`
  (mode 0600), so that a second run prints the same ones; the partner asks with `tnrwatch screening digests` piped
  to POST /partner/v1/screening (see `DEMO_QUERIES`).
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tnrwatch.crypto import blind_index as keys
from tnrwatch.errors import ConflictError, InvalidInputError, NotFoundError
from tnrwatch.interop.record_files import read_records
from tnrwatch.services import blind_index, notices, partners, registry
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal, require
from tnrwatch.store.models import Notice, ProtectedPerson

# src/tnrwatch/services/ -> the checkout's examples/notices (a checkout is what `make demo` runs from).
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "notices"
REGISTRY_FILE = "registry.json"
NOTICE_FILES = ("red_notices.json", "requests.csv")
_DEMO_IDS = uuid.UUID("6f1c0d52-5a0e-4c36-9d0b-7e1f3b2a9c41")  # uuid5 namespace of the demo records' ids

DEMO_PARTNER = "de-bka-demo"
DEMO_PARTNER_CLEARANCE = "clear"
PARTNER_FOLDER = "demo-partners"

# The red notice the liaison enters by hand. The reference is one the examples do not use (they use 2025/31842 for
# the same subject): entering a red notice under a reference already here is a conflict (services/notices.py).
DEMO_NOTICE: dict[str, Any] = {
    "notice_type": "red_notice",
    "interpol_reference": "2026/20614",
    "requesting_state": "UZ",
    "forename": "Dilnoza",
    "name": "RAKHIMOVA",
    "date_of_birth": "1986-03-14",
    "sex": "F",
    "nationalities": ["UZ"],
    "place_of_birth": "Andijan",
    "arrest_warrants": [
        {
            "issuing_country_id": "UZ",
            "charge": "Extremism",
            "charge_translation": "Экстремизм",
            "legal_provision": "Art. 244-1 Criminal Code",
        }
    ],
}


@dataclass(frozen=True)
class DemoQuery:
    """A partner's question about one person, as `tnrwatch screening digests` options."""

    name: str
    birth: str
    nationality: str
    answer: str  # what the node answers, for the walkthrough

    def options(self) -> list[str]:
        return ["--name", self.name, "--birth", self.birth, "--nationality", self.nationality]


DEMO_QUERIES: tuple[DemoQuery, ...] = (
    DemoQuery("RAKHIMOVA Dilnoza", "1986", "UZ", "possible match, contact focal point DE"),
    DemoQuery("Olivier Dupont", "1970", "FR", "no match"),
)


@dataclass(frozen=True)
class NoticesSeed:
    registry_added: int
    notices_added: int


@dataclass(frozen=True)
class DemoScreening:
    partner: str
    token: str  # the partner's token for POST /partner/v1/screening (kept, so the same on every run)
    key_file: Path  # the partner's copy of the node's screening key (the line `screening-key export` prints)
    key_id: str


def demo_record_id(file: str, position: int) -> uuid.UUID:
    """The id of the example record at `position` (from 0) in `file`: the same on every run."""
    return uuid.uuid5(_DEMO_IDS, f"{file}#{position}")


def seed_notices(node: Node, operator: Principal, examples: Path = EXAMPLES) -> NoticesSeed:
    """Load the example registry and notices from `examples`, marked synthetic, skipping those already loaded.
    `NotFoundError` when the folder is missing (an installed package has no examples: run from a checkout)."""
    require(operator, "registry:write")
    require(operator, "notice:write")
    if not (examples / REGISTRY_FILE).is_file():
        raise NotFoundError(f"no demo registry at {examples / REGISTRY_FILE}: run the demo from a checkout")
    return NoticesSeed(_seed_registry(node, operator, examples), _seed_notices(node, operator, examples))


def _seed_registry(node: Node, operator: Principal, examples: Path) -> int:
    records = json.loads((examples / REGISTRY_FILE).read_text(encoding="utf-8"))["registry"]
    wanted = {demo_record_id(REGISTRY_FILE, position): record for position, record in enumerate(records)}
    with node.store.reading() as session:
        held = set(session.scalars(select(ProtectedPerson.uuid).where(ProtectedPerson.uuid.in_(list(wanted)))))
    added = 0
    for entry_id, record in wanted.items():
        if entry_id not in held:
            registry.add_entry(node, operator, {**record, "id": str(entry_id), "synthetic": True})
            added += 1
    return added


def _seed_notices(node: Node, operator: Principal, examples: Path) -> int:
    wanted: dict[uuid.UUID, dict[str, Any]] = {}
    for file in NOTICE_FILES:
        fmt, rows = read_records(examples / file, None, file, "notices")
        for position, row in enumerate(rows):
            raw: dict[str, Any] = dict(row.cells)
            if fmt == "csv":
                raw, problems = notices.csv_record(raw)
                if problems:
                    raise InvalidInputError(f"{file}: row {row.number} is not a notice", problems)
            wanted[demo_record_id(file, position)] = raw
    with node.store.reading() as session:
        held = set(session.scalars(select(Notice.uuid).where(Notice.uuid.in_(list(wanted)))))
    added = 0
    for notice_id, raw in wanted.items():
        if notice_id in held:
            continue
        # Imported by hand before (`tnrwatch notices import`): the same reference is already here.
        with contextlib.suppress(ConflictError):
            notices.create_notice(node, operator, {**raw, "id": str(notice_id), "synthetic": True})
            added += 1
    return added


def demo_screening(node: Node, operator: Principal) -> DemoScreening:
    """The screening partner `de-bka-demo`, its token and its copy of the node's current screening key (made if the
    node has none). Idempotent: what a run kept is used again while it still works (a token not revoked, a key not
    retired); otherwise a new one is issued (and the export audited)."""
    require(operator, "partner:manage")
    if DEMO_PARTNER not in {partner.name for partner in partners.list_partners(node)}:
        partners.add_partner(node, operator, DEMO_PARTNER, DEMO_PARTNER_CLEARANCE)
    folder = node.settings.home / PARTNER_FOLDER
    token_file = folder / f"{DEMO_PARTNER}.token"
    token = token_file.read_text().strip() if token_file.exists() else ""
    if partners.authenticate(node, token) is None:
        token = partners.create_token(node, operator, DEMO_PARTNER).token
        _keep(token_file, token)
    key_file = folder / f"{DEMO_PARTNER}.screening-key"
    key = _kept_key(key_file, {held.key_id for held in keys.node_keys(node.settings.resolved_key_dir)})
    if key is None:
        line = blind_index.export_key(node, operator, DEMO_PARTNER)
        _keep(key_file, line)
        key = keys.parse_export(line)
    return DemoScreening(DEMO_PARTNER, token, key_file, key.key_id)


def _kept_key(path: Path, held: set[str]) -> keys.ScreeningKey | None:
    if not path.exists():
        return None
    try:
        key = keys.parse_export(path.read_text())
    except InvalidInputError:
        return None
    return key if key.key_id in held else None


def _keep(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
