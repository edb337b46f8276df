"""The notice entry form (web/staff/notices.py, staff/notice_new.html) read into what `NoticeIn` takes, and the
model's errors put back beside the form's own fields.

The form posts single fields under NoticeIn's names, the date of birth as three parts (its precision is what was
given), and rows of other names and charges as repeated fields paired by position. Blank rows are left out; each
error of a row goes to the row as the reader numbered it. Checks NoticeIn makes only once every field is valid (the
order of the dates) are made here as well, so that every problem is said at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tnrwatch.errors import FieldError
from tnrwatch.web.staff.coding import FormValues

# ISO 15924 codes a name's script is given in (domain/notice.py `OtherName.script`), the common ones first.
SCRIPTS = {
    "Latn": "Latin",
    "Cyrl": "Cyrillic",
    "Arab": "Arabic",
    "Hans": "Chinese, simplified",
    "Hant": "Chinese, traditional",
    "Grek": "Greek",
    "Hebr": "Hebrew",
    "Geor": "Georgian",
    "Armn": "Armenian",
    "Deva": "Devanagari",
    "Thai": "Thai",
    "Kore": "Korean",
    "Jpan": "Japanese",
    "Ethi": "Ethiopic",
}

NAME_COLUMNS = ("other_name", "other_script")
CHARGE_COLUMNS = ("charge", "charge_translation", "legal_provision", "issuing_country_id")
MAX_NAME_ROWS = 30  # NoticeIn's limits
MAX_CHARGE_ROWS = 50
_SPLIT = re.compile(r"[\s,;]+")
_TEXT_FIELDS = (
    "notice_type",
    "interpol_reference",
    "requesting_state",
    "forename",
    "name",
    "sex",
    "place_of_birth",
    "country_of_birth",
    "issued",
    "received",
    "decision_due",
)
FIELD_LABELS = {
    "notice_type": "Type",
    "interpol_reference": "Interpol reference",
    "requesting_state": "Requesting state",
    "forename": "Forename",
    "name": "Name",
    "other_names": "Other names",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "nationalities": "Nationalities",
    "place_of_birth": "Place of birth",
    "country_of_birth": "Country of birth",
    "charges": "Charges",
    "issued": "Issued",
    "received": "Received",
    "decision_due": "Decision due",
    "form": "The form",
}
_ORDER = (
    "notice_type",
    "interpol_reference",
    "requesting_state",
    "name",
    "forename",
    "other_names",
    "date_of_birth",
    "sex",
    "nationalities",
    "place_of_birth",
    "country_of_birth",
    "charges",
    "issued",
    "received",
    "decision_due",
    "form",
)
_ROW_LABELS = {
    "name": "name",
    "script": "script",
    "charge": "charge",
    "charge_translation": "original-language text",
    "legal_provision": "legal provision",
    "issuing_country_id": "issuing state",
}


@dataclass
class NoticeForm:
    """The posted form: its single fields, and its rows of other names and charges as typed (blank rows too)."""

    values: FormValues
    name_rows: list[dict[str, str]] = field(default_factory=list)
    charge_rows: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, values: FormValues) -> NoticeForm:
        return cls(values, _rows(values, NAME_COLUMNS, MAX_NAME_ROWS), _rows(values, CHARGE_COLUMNS, MAX_CHARGE_ROWS))

    @classmethod
    def blank(cls) -> NoticeForm:
        today = dt.datetime.now(dt.UTC).date().isoformat()
        values = FormValues({"received": [today], "sex": ["U"]})
        return cls(values, [dict.fromkeys(NAME_COLUMNS, "") for _ in range(2)], [dict.fromkeys(CHARGE_COLUMNS, "")])


def _rows(values: FormValues, columns: Sequence[str], limit: int) -> list[dict[str, str]]:
    """Rows of repeated fields, paired by position (each row posts every column, blank or not)."""
    lists = [values.values.get(column, []) for column in columns]
    count = min(max((len(items) for items in lists), default=0), limit)
    return [
        {column: items[i] if i < len(items) else "" for column, items in zip(columns, lists, strict=True)}
        for i in range(count)
    ]


@dataclass(frozen=True)
class ParsedNotice:
    """The form as `NoticeIn` takes it, the errors found before the model saw it (by form key), and which form row
    each other name and charge came from (blank rows are left out)."""

    raw: dict[str, Any]
    errors: dict[str, list[str]]
    name_rows: list[int]
    charge_rows: list[int]
    defaulted: frozenset[int] = frozenset()  # charge rows whose issuing state is the requesting state's, by default


def parse_notice_form(form: NoticeForm) -> ParsedNotice:
    values = form.values
    errors: dict[str, list[str]] = {}
    raw: dict[str, Any] = {name: values.one(name) for name in _TEXT_FIELDS if values.one(name)}
    names = [(i, row) for i, row in enumerate(form.name_rows) if any(row.values())]
    raw["other_names"] = [{"name": row["other_name"], "script": row["other_script"] or None} for _, row in names]
    charges = [(i, row) for i, row in enumerate(form.charge_rows) if any(row.values())]
    raw["arrest_warrants"] = [
        {
            "charge": row["charge"],
            "charge_translation": row["charge_translation"],
            "legal_provision": row["legal_provision"],
            # The hint says so: a charge without an issuing state is the requesting state's.
            "issuing_country_id": row["issuing_country_id"] or values.one("requesting_state"),
        }
        for _, row in charges
    ]
    defaulted = frozenset(i for i, row in charges if not row["issuing_country_id"])
    raw["nationalities"] = [code for code in _SPLIT.split(values.one("nationalities")) if code]
    birth, problem = _date_of_birth(values)
    if problem:
        errors["date_of_birth"] = [problem]
    elif birth:
        raw["date_of_birth"] = birth
    # NoticeIn checks the order of the dates only once every field is valid; check it here too, to say it at once.
    dates = {name: _date(values.one(name)) for name in ("issued", "received", "decision_due")}
    if dates["issued"] and dates["received"] and dates["received"] < dates["issued"]:
        errors["received"] = ["received must not be before issued"]
    if dates["received"] and dates["decision_due"] and dates["decision_due"] < dates["received"]:
        errors["decision_due"] = ["decision_due must not be before received"]
    return ParsedNotice(raw, errors, [i for i, _ in names], [i for i, _ in charges], defaulted)


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None  # NoticeIn says what is wrong with it


def _date_of_birth(values: FormValues) -> tuple[str, str]:
    """The date of birth as NoticeIn reads it ("1986", "1986-03", "1986-03-14"): its precision is what was given.
    Returns (date, problem); both empty when none was given."""
    year, month, day = (values.one(name) for name in ("dob_year", "dob_month", "dob_day"))
    if not (year or month or day):
        return "", ""
    if not year:
        return "", "give the year: a month or a day alone is not a date of birth"
    if day and not month:
        return "", "give the month with the day, or leave the day empty"
    if not (len(year) == 4 and year.isdigit()):
        return "", f"{year[:10]!r} is not a year: write four digits, e.g. 1986"
    for part, name, top in ((month, "month", 12), (day, "day", 31)):
        if part and not (part.isdigit() and 1 <= int(part) <= top):
            return "", f"{part[:10]!r} is not a {name}: write a number from 1 to {top}"
    return "-".join([year, *(f"{int(part):02d}" for part in (month, day) if part)]), ""


def field_key(error: FieldError, parsed: ParsedNotice) -> str:
    """The form key an error of NoticeIn belongs beside: ("other_names", 0, "name") -> "other_names-<form row>-name",
    ("arrest_warrants", 1, "charge") -> "charges-<form row>-charge", ("nationalities", 2) -> "nationalities"."""
    loc = error.loc
    head = str(loc[0]) if loc else ""
    for prefix, key, rows, columns in (
        ("other_names", "other_names", parsed.name_rows, ("name", "script")),
        ("arrest_warrants", "charges", parsed.charge_rows, ("charge", "charge_translation", "legal_provision")),
    ):
        if head != prefix:
            continue
        if len(loc) > 1 and isinstance(loc[1], int) and loc[1] < len(rows):
            column = str(loc[2]) if len(loc) > 2 else columns[0]
            column = column if column in (*columns, "issuing_country_id") else columns[0]
            return f"{key}-{rows[loc[1]]}-{column}"
        return key
    if head in FIELD_LABELS:
        return head
    # NoticeIn's own checks across fields carry no field: its messages name the field first.
    first = error.msg.split(" ", 1)[0]
    return first if first in ("received", "decision_due") else "form"


def field_label(key: str) -> str:
    """ "charges-0-legal_provision" -> "Charge 1: legal provision"."""
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    kind, _, rest = key.partition("-")
    row, _, column = rest.partition("-")
    noun = "Other name" if kind == "other_names" else "Charge"
    return f"{noun} {int(row) + 1}: {_ROW_LABELS.get(column, column)}" if row.isdigit() else key


def collect_errors(
    earlier: Mapping[str, list[str]], model_errors: Sequence[FieldError], parsed: ParsedNotice
) -> dict[str, list[str]]:
    """The errors found before the model and the model's, by form key, in the order of the form's fields."""
    found = {key: list(messages) for key, messages in earlier.items()}
    for error in model_errors:
        key = field_key(error, parsed)
        row = key.split("-")[1] if key.startswith("charges-") else ""
        if key.endswith("-issuing_country_id") and int(row) in parsed.defaulted:
            continue  # the requesting state's own error says it, beside the field that was typed
        messages = found.setdefault(key, [])
        message = _plain(key, error.msg)
        if message not in messages:
            messages.append(message)
    return dict(sorted(found.items(), key=lambda item: _form_order(item[0])))


def _plain(key: str, message: str) -> str:
    """Pydantic's words for an empty required field or an unknown script, as the form says them."""
    if message.startswith(("string should have at least 1 character", "value should have at least 1 item")):
        return "required"
    if key.endswith("-script"):
        return "choose one of the scripts offered"
    return message


def _form_order(key: str) -> tuple[int, int, int]:
    """Where a field stands in the form: its section, its row, its column."""
    head, _, rest = key.partition("-")
    row, _, column = rest.partition("-")
    columns = ("name", "script", "charge", "charge_translation", "legal_provision", "issuing_country_id")
    return (
        _ORDER.index(head) if head in _ORDER else len(_ORDER),
        int(row) if row.isdigit() else -1,
        columns.index(column) if column in columns else -1,
    )
