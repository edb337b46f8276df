"""The one exception hierarchy. Every layer raises these; the web and CLI edges turn them into answers.

This module imports nothing of tnrwatch, so every layer, the taxonomy included, may use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with one input, and where.

    `loc` is a path of keys and indexes, e.g. ("sources", 0, "reliability").
    """

    loc: tuple[str | int, ...]
    msg: str

    def where(self) -> str:
        return ".".join(str(part) for part in self.loc) or "(input)"


class TnrwatchError(Exception):
    """Base of every error tnrwatch raises on purpose. `status` is read at run time from the class, so subclasses
    set it as a class attribute and never freeze it through a default argument."""

    status: int = 500
    title: str = "internal error"

    def __init__(self, message: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors: tuple[FieldError, ...] = tuple(errors)


class InvalidInputError(TnrwatchError):
    """The input broke one or more rules; `errors` lists every one of them, not just the first."""

    status = 422
    title = "invalid input"


class NotAuthenticatedError(TnrwatchError):
    status = 401
    title = "not authenticated"


class ForbiddenError(TnrwatchError):
    status = 403
    title = "forbidden"


class NotFoundError(TnrwatchError):
    status = 404
    title = "not found"


class ConflictError(TnrwatchError):
    status = 409
    title = "conflict"


class PreconditionFailedError(TnrwatchError):
    status = 412
    title = "precondition failed"


class PayloadTooLargeError(TnrwatchError):
    status = 413
    title = "too large"


class TooManyRequestsError(TnrwatchError):
    """A ceiling on how much the node accepts per hour was reached; try again later."""

    status = 429
    title = "too many requests"


class ConfigurationError(TnrwatchError):
    """The node is set up wrongly (a bad setting, a missing key file, a broken taxonomy file)."""

    status = 500
    title = "configuration error"
