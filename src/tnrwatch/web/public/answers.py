"""The reporter's zone's generic answers to failures: a status, a code the page's script turns into words in the
reporter's language, and an English message. They say what to do next, never which check failed. Light on imports:
the report writer process uses them too."""

from __future__ import annotations

from typing import Any

from tnrwatch.errors import TnrwatchError
from tnrwatch.services.reports import KeysChangedError, UploadOffsetError

# What the reporter reads, by status; translated on the page (the JSON carries a `code` the script maps to text).
GENERIC: dict[int, tuple[str, str]] = {
    400: ("unreadable", "The submission could not be read. Nothing was stored. Please try again."),
    404: ("not_found", "Nothing was found. If you typed a receipt, check each group again."),
    409: ("conflict", "This was already received, or the focal point's keys changed. Please try again."),
    413: ("too_large", "This is larger than the node accepts."),
    422: ("unreadable", "The submission could not be read. Nothing was stored. Please try again."),
    429: ("busy", "Many reports are arriving right now. Nothing was stored. Please try again in an hour."),
}


Answer = tuple[int, dict[str, Any]]  # a status and its JSON body


def error_body(status: int, code: str | None = None, **extra: Any) -> dict[str, Any]:
    """The generic answer for `status`; `code` and `extra` tell the page's script what to do next (re-seal, resume)."""
    generic_code, message = GENERIC.get(
        status, ("error", "Something went wrong. Nothing was stored. Please try again.")
    )
    return {"ok": False, "status": status, "code": code or generic_code, "error": message, **extra}


def refusal(exc: TnrwatchError) -> Answer:
    """The answer to a request the services refused (a 4xx error)."""
    if isinstance(exc, UploadOffsetError):
        return 409, error_body(409, "upload_offset", received=exc.received)
    if isinstance(exc, KeysChangedError):
        return 409, error_body(409, "keys_changed")
    return exc.status, error_body(exc.status)
