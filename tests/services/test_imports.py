"""Imports on SQLite and PostgreSQL: an import lands whole or reports every bad row and leaves nothing behind."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tnrwatch.domain.filters import IncidentFilter
from tnrwatch.errors import ForbiddenError, InvalidInputError
from tnrwatch.services import exports, imports, incidents
from tnrwatch.services.imports import ImportRequest
from tnrwatch.services.node import Node
from tnrwatch.services.policy import Principal
from tnrwatch.store.models import AuditEntry, Incident

from ..factories import incident_data

EXAMPLES = Path(__file__).parents[2] / "examples"


def count(node: Node, model: Any = Incident) -> int:
    with node.store.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def export_to(node: Node, path: Path, fmt: str | None = None) -> Path:
    with path.open("wb") as sink:
        exports.export_incidents(node, Principal.operator(), IncidentFilter(), fmt or path.suffix[1:], sink)
    return path


def run(node: Node, path: Path, **options: Any) -> imports.ImportResult:
    return imports.import_file(node, Principal.operator(), ImportRequest(path=path, label=path.name, **options))


def errors_by_row(caught: pytest.ExceptionInfo[InvalidInputError]) -> dict[int, dict[str, str]]:
    found: dict[int, dict[str, str]] = {}
    for error in caught.value.errors:
        _file, row, *field = error.loc
        assert isinstance(row, int)
        found.setdefault(row, {})[".".join(str(part) for part in field)] = error.msg
    return found


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def our_rows(node: Node, tmp_path: Path, n: int = 3) -> list[dict[str, str]]:
    """`n` incidents in our CSV layout, exported from a scratch run and removed again."""
    for index in range(n):
        incidents.create_incident(node, Principal.operator(), incident_data(title=f"Made-up incident {index}"))
    path = export_to(node, tmp_path / "scratch.csv")
    with node.store.writing() as session:
        session.query(Incident).delete()
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_a_failed_import_lists_every_bad_row_and_leaves_nothing(node: Node, tmp_path: Path) -> None:
    incidents.create_incident(node, Principal.operator(), incident_data())
    before, changes = count(node), count(node, AuditEntry)
    with pytest.raises(InvalidInputError) as caught:
        run(node, EXAMPLES / "freedom_house_bad_rows.csv", mapping="freedom_house")
    found = errors_by_row(caught)
    assert sorted(found) == [3, 4, 5, 6, 7]
    assert "'Atlantis' is not a country name" in found[3]["origin_countries"]
    assert "'Poisoning' is not in the mapping's values" in found[4]["tactics"]
    assert "'20x2' is not a date" in found[5]["date_start"]
    assert "column 'Number of targets'" in found[6]["target_count"]
    assert "column 'Source URL'" in found[7]["sources.0.url"]
    assert "5 of 7 rows are invalid" in caught.value.message
    assert all(error.loc[0] == "freedom_house_bad_rows.csv" for error in caught.value.errors)
    assert (count(node), count(node, AuditEntry)) == (before, changes)


def test_bad_rows_of_our_layout(node: Node, tmp_path: Path) -> None:
    rows = our_rows(node, tmp_path, 4)
    rows[0]["tactics"] = "abduction;poisoning"
    rows[1]["locations"] = "[{not json"
    rows[2]["date_end"] = "2000-01-01"
    with pytest.raises(InvalidInputError) as caught:
        run(node, write_csv(tmp_path / "bad.csv", rows))
    found = errors_by_row(caught)
    assert sorted(found) == [2, 3, 4]
    assert "unknown tactic code 'poisoning'" in found[2]["tactics.1"]
    assert "must be a JSON array" in found[3]["locations"]
    assert "must be on or after date_start" in found[4]["date_end"]
    assert count(node) == 0


def test_header_problems_stop_the_import_before_any_row(node: Node, tmp_path: Path) -> None:
    rows = [{("tactic" if key == "tactics" else key): value for key, value in row.items()}
            for row in our_rows(node, tmp_path, 1)]  # fmt: skip
    with pytest.raises(InvalidInputError) as caught:
        run(node, write_csv(tmp_path / "bad.csv", rows))
    messages = {error.loc: error.msg for error in caught.value.errors}
    assert "unknown column" in messages[("bad.csv", 1, "tactic")]
    assert messages[("bad.csv", 1, "tactics")] == "required column is missing"


def test_existing_ids_fail_or_are_skipped(node: Node, tmp_path: Path) -> None:
    incidents.create_incident(node, Principal.operator(), incident_data())
    path = export_to(node, tmp_path / "all.json")
    with pytest.raises(InvalidInputError) as caught:
        run(node, path)
    assert "already exists" in caught.value.errors[0].msg
    assert caught.value.errors[0].loc[1:] == (0, "id")
    result = run(node, path, on_conflict="skip")
    assert (result.imported, result.conflicts_skipped) == (0, 1)
    assert count(node) == 1


def test_an_id_twice_in_one_file(node: Node, tmp_path: Path) -> None:
    rows = our_rows(node, tmp_path, 2)
    rows[1]["id"] = rows[0]["id"]
    with pytest.raises(InvalidInputError) as caught:
        run(node, write_csv(tmp_path / "twice.csv", rows), on_conflict="skip")
    assert errors_by_row(caught) == {3: {"id": f"the id {rows[0]['id']} appears earlier in the file"}}


def test_links_to_unknown_persons(node: Node, tmp_path: Path) -> None:
    rows = our_rows(node, tmp_path, 1)
    rows[0]["persons"] = json.dumps([{"id": str(uuid.uuid4()), "role": "target"}])
    with pytest.raises(InvalidInputError) as caught:
        run(node, write_csv(tmp_path / "links.csv", rows))
    assert list(errors_by_row(caught)[2]) == ["persons.0.id"]


SPYWARE_INDICATORS = [
    {"kind": "domain-name", "value": "update-check.example.com", "note": "Contacted by the phone"},
    {"kind": "ipv4-addr", "value": "192.0.2.10", "first_seen": "2021-03-01", "last_seen": "2021-03-20"},
    {"kind": "url", "value": "https://update-check.example.com/a;b"},
]


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_indicators_travel_in_our_layout_and_a_bad_one_names_its_row(node: Node, tmp_path: Path, fmt: str) -> None:
    made = incidents.create_incident(
        node, Principal.operator(), incident_data(tactics=["spyware"], indicators=SPYWARE_INDICATORS)
    )
    path = export_to(node, tmp_path / f"spyware.{fmt}")
    with node.store.writing() as session:
        session.query(Incident).delete()
    assert run(node, path).imported == 1
    assert incidents.get_incident(node, Principal.operator(), made.id).indicators == made.indicators
    if fmt != "csv":
        return
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert json.loads(rows[0]["indicators"])[1] == SPYWARE_INDICATORS[1]  # a JSON array, as locations are
    rows[0]["id"] = str(uuid.uuid4())
    bad = [{"kind": "domain-name", "value": "fine.example"}, {"kind": "url", "value": "x"}]
    rows[0]["indicators"] = json.dumps(bad)
    with pytest.raises(InvalidInputError) as caught:
        run(node, write_csv(tmp_path / "bad.csv", rows))
    assert list(errors_by_row(caught)[2]) == ["indicators.1.value"]


def test_a_mapping_reads_indicators_from_a_labs_table(node: Node, tmp_path: Path) -> None:
    mapping = tmp_path / "lab.yaml"
    mapping.write_text(
        """mapping: 1
name: lab
format: csv
constants:
  tactics: [spyware]
  origin_countries: [AE]
  indicators[0].kind: domain-name
  indicators[1].kind: ipv4-addr
fields:
  title: Case
  date_start: Date
  locations[0].country:
    column: Country
    country: true
  indicators[0].value: Domain
  indicators[0].first_seen:
    column: Date
  indicators[1].value: Server
""",
        encoding="utf-8",
    )
    table = tmp_path / "lab.csv"
    table.write_text(
        "Case,Date,Country,Domain,Server\n"
        "Phone of an exiled journalist infected,2021-03-02,Germany,update-check[.]example.com,192.0.2.10\n"
        "Activist's phone targeted,2021-04-05,France,news-check.example.com,\n",
        encoding="utf-8",
    )
    result = run(node, table, mapping=str(mapping))
    assert result.imported == 2
    found = incidents.search_incidents(node, Principal.operator(), incidents.IncidentQuery(sort="date")).items
    assert [[(i.kind, i.value, str(i.first_seen)) for i in incident.indicators] for incident in found] == [
        [("domain-name", "update-check.example.com", "2021-03-02"), ("ipv4-addr", "192.0.2.10", "None")],
        [("domain-name", "news-check.example.com", "2021-04-05")],
    ]


def test_freedom_house_sample(node: Node) -> None:
    result = run(node, EXAMPLES / "freedom_house_sample.csv", mapping="freedom_house", synthetic=True)
    assert (result.imported, result.skipped, result.rows) == (10, 1, 11)
    page = incidents.search_incidents(node, Principal.operator(), incidents.IncidentQuery(limit=20))
    by_title = {incident.title: incident for incident in page.items}
    kosovo = by_title["Unlawful deportation: Religious group from Turkey in Kosovo (2022)"]
    assert kosovo.locations[0].country == "XK"
    assert kosovo.tactics == ["forced_return"]
    assert kosovo.vulnerability_flags == ["religious_minority"]
    assert (kosovo.date_start.isoformat(), kosovo.date_end.isoformat(), kosovo.date_precision) == (
        "2022-01-01", "2022-12-31", "year")  # fmt: skip
    assert kosovo.mass_event is True
    assert all(incident.synthetic for incident in page.items)
    assert run(node, EXAMPLES / "freedom_house_sample.csv", mapping="freedom_house", on_conflict="skip").imported == 0


def test_uwazi_sample(node: Node) -> None:
    result = run(node, EXAMPLES / "uwazi_sample.csv", mapping="uwazi", synthetic=True)
    assert (result.imported, result.skipped) == (4, 1)
    page = incidents.search_incidents(node, Principal.operator(), incidents.IncidentQuery(limit=20))
    by_tactics = {tuple(incident.tactics): incident for incident in page.items}
    followed = by_tactics[("threats", "stalking")]
    assert followed.locations[0].geo_precision == "point"
    assert (followed.locations[0].lat, followed.locations[0].lon) == (50.8503, 4.3517)
    assert followed.sources[0].url == "https://example.org/synthetic/uwazi-1"
    assert followed.verification == "corroborated"
    relatives = by_tactics[("family_detention", "family_pressure")]
    assert (relatives.date_start.isoformat(), relatives.date_end.isoformat()) == ("2023-11-20", "2023-11-24")
    assert relatives.tlp == "amber"
    assert relatives.target_categories == ["minority", "activist"]
    spyware = by_tactics[("spyware",)]
    assert spyware.origin_countries == ["BY", "RU"]
    assert spyware.locations[0].geo_precision == "place"
    assert spyware.sources == []


def test_a_mapping_that_reads_missing_columns(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Year,Origin\n2021,Russia\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as caught:
        run(node, path, mapping="freedom_house")
    columns = {error.loc[2] for error in caught.value.errors}
    assert {"Host country", "Tactic", "Incident ID"} <= columns
    assert all(error.loc[:2] == ("other.csv", 1) for error in caught.value.errors)


def test_a_foreign_json_file_needs_a_mapping(node: Node, tmp_path: Path) -> None:
    path = tmp_path / "foreign.json"
    path.write_text('{"format": "something-else", "incidents": []}', encoding="utf-8")
    with pytest.raises(InvalidInputError, match="cannot be imported") as caught:
        run(node, path)
    assert "needs a mapping file" in caught.value.errors[0].msg


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.json", '{"incidents": [{"title": "x"},', "ends too early"),
        ("broken.csv", 'title,"tactics\n', "not valid CSV"),
        (
            "latin1.csv",
            b"title,date_start,locations,origin_countries,tactics\n" + "caf\xe9".encode("latin-1"),
            "row 2 is not valid text",
        ),
        ("broken.xlsx", b"not a zip file", "not an XLSX workbook"),
        ("empty.csv", "", "no header row"),
    ],
)
def test_unreadable_files(node: Node, tmp_path: Path, name: str, content: str | bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(InvalidInputError) as caught:
        run(node, path)
    assert message in caught.value.errors[0].msg
    assert count(node) == 0


def test_a_missing_file_and_an_unknown_format(node: Node, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="No such file"):
        run(node, tmp_path / "missing.csv")
    (tmp_path / "data.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="cannot tell how to read"):
        run(node, tmp_path / "data.txt")


def test_only_coders_import(node: Node, tmp_path: Path) -> None:
    with pytest.raises(ForbiddenError):
        imports.import_file(node, Principal(None, "liaison", "liaison"), ImportRequest(path=tmp_path / "x.csv"))


def test_five_thousand_rows_in_batches(node: Node, tmp_path: Path) -> None:
    template = our_rows(node, tmp_path, 1)[0]
    rows = [{**template, "id": str(uuid.uuid4()), "title": f"Made-up incident {index}"} for index in range(5000)]
    progress: list[int] = []
    result = imports.import_file(
        node, Principal.operator(), ImportRequest(path=write_csv(tmp_path / "many.csv", rows), batch_size=700),
        progress=lambda rows, done, total: progress.append(rows),
    )  # fmt: skip
    assert result.imported == 5000
    assert count(node) == 5000
    assert progress == [*range(700, 5000, 700), 5000]
    with node.store.reading() as session:
        change = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
    assert (change.entity, change.count, change.note) == ("incident", 5000, "many.csv")


def test_worker_processes_import_the_same_and_report_the_same_rows(node: Node, tmp_path: Path) -> None:
    """Large files are checked in worker processes; the result, the order and the error rows must not change."""
    template = our_rows(node, tmp_path, 1)[0]
    rows = [{**template, "id": str(uuid.uuid4()), "title": f"Made-up incident {index}"} for index in range(2500)]
    path = write_csv(tmp_path / "parallel.csv", rows)
    result = imports.import_file(node, Principal.operator(), ImportRequest(path=path, workers=2, batch_size=400))
    assert result.imported == 2500
    with node.store.reading() as session:
        titles = session.scalars(select(Incident.title).order_by(Incident.id)).all()
    assert titles == [f"Made-up incident {index}" for index in range(2500)]  # written in file order

    with node.store.writing() as session:
        session.query(Incident).delete()
    rows[10]["tactics"] = "poisoning"
    rows[2200]["date_start"] = "yesterday"
    rows[2201]["id"] = rows[5]["id"]
    write_csv(path, rows)
    with pytest.raises(InvalidInputError) as caught:
        imports.import_file(node, Principal.operator(), ImportRequest(path=path, workers=2, batch_size=400))
    found = errors_by_row(caught)
    assert sorted(found) == [12, 2202, 2203]  # the header is row 1
    assert "appears earlier in the file" in found[2203]["id"]
    assert count(node) == 0
