"""Validate raw input into domain models, turning every pydantic error into a `FieldError` at its location."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from tnrwatch.domain.codes import ValidationContext
from tnrwatch.errors import FieldError, InvalidInputError
from tnrwatch.taxonomy import Taxonomy

ModelT = TypeVar("ModelT", bound=BaseModel)

_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown field",
}


def field_errors(exc: ValidationError, prefix: tuple[str | int, ...] = ()) -> list[FieldError]:
    errors = []
    for error in exc.errors(include_url=False, include_input=False):
        message = _MESSAGES.get(error["type"]) or error["msg"]
        message = message.removeprefix("Value error, ")
        errors.append(FieldError((*prefix, *error["loc"]), message[:1].lower() + message[1:]))
    return errors


def validate(model: type[ModelT], raw: Mapping[str, Any] | Any, taxonomy: Taxonomy, what: str = "input") -> ModelT:
    """Return `raw` as a `model`, or raise `InvalidInputError` listing every problem with its location."""
    try:
        return model.model_validate(raw, context=ValidationContext(taxonomy))
    except ValidationError as exc:
        errors = field_errors(exc)
        raise InvalidInputError(f"the {what} is invalid ({len(errors)} problems)", errors) from None


def try_validate(
    model: type[ModelT], raw: Mapping[str, Any] | Any, taxonomy: Taxonomy, prefix: tuple[str | int, ...] = ()
) -> ModelT | list[FieldError]:
    """Like `validate`, but return the errors instead of raising, for callers that collect them (imports)."""
    try:
        return model.model_validate(raw, context=ValidationContext(taxonomy))
    except ValidationError as exc:
        return field_errors(exc, prefix)
