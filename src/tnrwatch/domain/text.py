"""Text field types: trimmed, bounded, and free of control characters that break storage or spreadsheets."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")


def _no_control_in_line(value: str) -> str:
    if _CONTROL_IN_LINE.search(value):
        raise PydanticCustomError("control_character", "must be one line without control characters")
    return value


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise PydanticCustomError(
            "control_character", "must not contain control characters (tabs and line breaks are fine)"
        )
    return value


Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_no_control_in_line),
]
ShortLine = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
    AfterValidator(_no_control_in_line),
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20000), AfterValidator(_no_control)]


_WEB_ADDRESS = re.compile(r"^https?://[^\s/?#]+\S*$", re.IGNORECASE)
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def _web_address(value: str) -> str:
    if not _WEB_ADDRESS.match(value):
        raise PydanticCustomError(
            "web_address", "must be a web address starting with http:// or https://, without spaces"
        )
    return value


def _version(value: str) -> str:
    if not _VERSION.match(value):
        raise PydanticCustomError("version", "must be a version like 1.0.0")
    return value


WebAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), AfterValidator(_web_address)]
Version = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_version)]
