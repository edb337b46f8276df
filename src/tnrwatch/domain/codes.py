"""Pydantic field types checked against the taxonomy given in the validation context.

Validate with `Model.model_validate(raw, context=ValidationContext(taxonomy))`; without a context, the taxonomy
shipped with tnrwatch is used. An unknown code fails with a message that lists the valid codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from tnrwatch.domain.countries import check_country_code
from tnrwatch.taxonomy import Taxonomy, default_taxonomy


@dataclass(frozen=True)
class ValidationContext:
    taxonomy: Taxonomy


def taxonomy_of(info: ValidationInfo) -> Taxonomy:
    context: Any = info.context
    if isinstance(context, ValidationContext):
        return context.taxonomy
    return default_taxonomy()


def _in_vocabulary(name: str) -> AfterValidator:
    def check(value: str, info: ValidationInfo) -> str:
        # Called for every code of every incident an import reads: the common case is one dictionary lookup.
        context = info.context
        taxonomy = context.taxonomy if type(context) is ValidationContext else default_taxonomy()
        vocabulary = taxonomy.vocabularies[name]
        if value in vocabulary:
            return value
        error = vocabulary.check(value.strip(), ())
        if error is None:
            return value.strip()
        raise PydanticCustomError("unknown_code", "{message}", {"message": error.msg})

    return AfterValidator(check)


def _country(value: str) -> str:
    try:
        return check_country_code(value)
    except ValueError as exc:
        raise PydanticCustomError("country_code", "{message}", {"message": str(exc)}) from None


Code = str  # models strip whitespace from every string (str_strip_whitespace) before these validators run
TacticCode = Annotated[Code, _in_vocabulary("tactics")]
TacticFamilyCode = Annotated[Code, _in_vocabulary("tactic_families")]
TargetCategoryCode = Annotated[Code, _in_vocabulary("target_categories")]
VulnerabilityCode = Annotated[Code, _in_vocabulary("vulnerability_flags")]
ActorTypeCode = Annotated[Code, _in_vocabulary("actor_types")]
HostStateRoleCode = Annotated[Code, _in_vocabulary("host_state_roles")]
VerificationCode = Annotated[Code, _in_vocabulary("verification_levels")]
ReliabilityCode = Annotated[
    Code,
    BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
    _in_vocabulary("source_reliability"),
]
CredibilityCode = Annotated[
    Code, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v), _in_vocabulary("source_credibility")
]
DatePrecisionCode = Annotated[Code, _in_vocabulary("date_precision")]
GeoPrecisionCode = Annotated[Code, _in_vocabulary("geo_precision")]
TlpCode = Annotated[Code, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v), _in_vocabulary("tlp")]
PersonRoleCode = Annotated[Code, _in_vocabulary("person_roles")]
ActorRoleCode = Annotated[Code, _in_vocabulary("actor_roles")]
CountryCode = Annotated[str, AfterValidator(_country)]
