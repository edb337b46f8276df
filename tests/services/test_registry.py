"""The protected-persons registry: identities sealed in the vault (names in any script), a pseudonymous list and
counts, focal points checked against the node's jurisdictions, a batch that lands whole or names every bad row, and
the entries opened into memory for screening. Both databases."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tnrwatch.errors import ForbiddenError, InvalidInputError
from tnrwatch.services import registry
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry, ProtectedPerson

EXAMPLES = Path(__file__).parents[2] / "examples" / "notices"
OFFICER = Principal(account_id=None, username="off", role="officer", jurisdiction="DE")
LIAISON = Principal(account_id=None, username="lia", role="liaison")
ANALYST = Principal(account_id=None, username="ana", role="analyst")


def test_the_demo_registry_is_sealed_and_listed_by_pseudonym(node: Node) -> None:
    result = registry.import_registry(node, OFFICER, EXAMPLES / "registry.json", synthetic=True)
    assert (result.format, result.rows, result.imported) == ("json", 6, 6)
    with node.store.reading() as session:
        dumped = " ".join(str(row) for row in session.execute(text("SELECT * FROM protected_person")))
        blobs = b"".join(
            bytes(blob) for blob in session.scalars(text("SELECT identity_ciphertext FROM protected_person"))
        )
    for name in ("Дильноза", "Рахимова", "Rahimova", "Yıldız", "李伟"):
        assert name not in dumped
        assert name.encode() not in blobs
    listed = registry.list_registry(node, LIAISON, limit=10)
    assert len(listed) == 6
    assert all(entry.pseudonym.startswith("R-") and entry.synthetic for entry in listed)
    assert "identity" not in listed[0].model_dump()
    assert [entry.focal_point for entry in registry.list_registry(node, LIAISON, origin_state="uz")] == ["DE"]
    assert registry.count_registry(node, LIAISON) == {
        "asylum_seeker": 1, "hrd": 1, "incident_target": 1, "journalist": 1, "other": 1, "refugee": 1,
    }  # fmt: skip
    with node.store.reading() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "protected_person")).one()
    assert (entry.action, entry.count) == ("import", 6)


def test_screening_opens_the_identities_into_memory(node: Node) -> None:
    registry.import_registry(node, OFFICER, EXAMPLES / "registry.json")
    with node.store.reading() as session:
        uzbek = list(registry.open_registry(node, session, origin_state="UZ"))
        everyone = list(registry.open_registry(node, session))
    assert len(everyone) == 6
    (entry,) = uzbek
    assert entry.identity.full_name == "Дильноза Рахимова"
    assert [(name.name, name.script) for name in entry.identity.other_names] == [("Dilnoza Rahimova", "Latn")]
    assert entry.identity.date_of_birth is not None
    assert entry.identity.date_of_birth.precision == "month"
    assert (entry.category, entry.focal_point) == ("hrd", "DE")


def test_a_csv_registry_with_bad_rows_names_them_all_and_imports_nothing(node: Node, tmp_path: Path) -> None:
    given = uuid.uuid4()
    path = tmp_path / "registry.csv"
    path.write_text(
        "id,full_name,other_names,date_of_birth,sex,nationalities,category,origin_state,focal_point\n"
        f"{given},Зафар Назаров,Zafar Nazarov;Zafar Nazarow,1990,M,TJ,asylum_seeker,TJ,AT\n"  # row 2: fine
        ",Arash Karimi,,1979-02-30,M,IR,journalist,IR,ZZ\n"  # row 3: date, focal point
        f"{given},Another,,,,,spy,XX,\n"  # row 4: id repeated, category, origin state
        ",,,,,,hrd,UZ,DE\n",  # row 5: no name
        encoding="utf-8",
    )
    with pytest.raises(InvalidInputError) as caught:
        registry.import_registry(node, OFFICER, path, label="registry.csv")
    where = {error.where() for error in caught.value.errors}
    assert {
        "registry.csv.3.date_of_birth",
        "registry.csv.3.focal_point",
        "registry.csv.4.category",
        "registry.csv.4.origin_state",
        "registry.csv.5.full_name",
    } <= where
    assert not any(w.startswith("registry.csv.2.") for w in where)
    with node.store.reading() as session:
        assert session.scalar(select(func.count()).select_from(ProtectedPerson)) == 0
    path.write_text(
        "id,full_name,other_names,date_of_birth,sex,nationalities,category,origin_state,focal_point\n"
        f"{given},Зафар Назаров,Zafar Nazarov;Zafar Nazarow,1990,M,TJ;RU,asylum_seeker,TJ,AT\n",
        encoding="utf-8",
    )
    assert registry.import_registry(node, OFFICER, path).imported == 1
    with node.store.reading() as session:
        (entry,) = registry.open_registry(node, session)
    assert entry.id == given
    assert [name.name for name in entry.identity.other_names] == ["Zafar Nazarov", "Zafar Nazarow"]
    assert entry.identity.nationalities == ["TJ", "RU"]
    with pytest.raises(InvalidInputError) as caught:
        registry.import_registry(node, OFFICER, path, label="again.csv")
    assert [error.where() for error in caught.value.errors] == ["again.csv.2.id"]


def test_who_may_read_and_write_the_registry(node: Node) -> None:
    entry = {"full_name": "Дильноза Рахимова", "category": "hrd", "origin_state": "UZ"}
    with pytest.raises(ForbiddenError):
        registry.add_entry(node, LIAISON, entry)
    with pytest.raises(ForbiddenError):
        registry.list_registry(node, ANALYST)
    added = registry.add_entry(node, OFFICER, entry)
    assert added.category == "hrd"
    assert [listed.id for listed in registry.list_registry(node, LIAISON)] == [added.id]
    with pytest.raises(InvalidInputError) as caught:
        registry.add_entry(node, OFFICER, {**entry, "focal_point": "QQ"})
    assert [error.where() for error in caught.value.errors] == ["focal_point"]
