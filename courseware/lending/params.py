"""Schemas for the model defaults (model.yaml) and the red-flag catalogue (red_flags.yaml).

Every number of the outcome model and of the scoring rubric lives in
case_studies/model.yaml; a case may override any of them under
``params.model_overrides``. Both files are validated with located errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from courseware.core.errors import N_, ContentError, safe_load_yaml, validate_model

ID_PATTERN = r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$"
Ident = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400)]
Share = Annotated[float, Field(ge=0, le=1)]
Severity = Literal["critical", "major", "minor"]
# Where the course teaches a flag or a reason: <module-slug>/<lesson-slug>#<heading-anchor>
# (the anchor is the id the lesson page gives a ## or ### heading; checked against the
# lessons when the catalogue is built, courseware.content.case_files).
LESSON_LINK_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*/[a-z0-9]+(?:-[a-z0-9]+)*#[^\s#/]+$")


def _lesson_link(value: str) -> str:
    if not LESSON_LINK_RE.fullmatch(value):
        raise ValueError(N_("must name a lesson section as module/lesson#anchor"))
    return value


LessonLink = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_lesson_link)
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class IllnessParams(Strict):
    monthly_prob: Share
    months: int = Field(ge=1, le=12)
    sales_factor: Share
    cost_share_of_household_expenses: float = Field(ge=0, le=12)


class DownturnParams(Strict):
    monthly_prob: Share
    months: int = Field(ge=1, le=24)
    sales_factor: Share


class HarvestParams(Strict):
    factors: list[Annotated[float, Field(ge=0, le=3)]] = Field(min_length=1, max_length=10)
    probs: list[Share] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _probs_match(self) -> HarvestParams:
        if len(self.factors) != len(self.probs):
            raise ValueError(N_("factors and probs must have the same number of entries"))
        if abs(sum(self.probs) - 1) > 1e-6:
            raise ValueError(N_("probs must add up to 1"))
        return self

    @property
    def expected_factor(self) -> float:
        return sum(f * p for f, p in zip(self.factors, self.probs, strict=True))


class WillingnessParams(Strict):
    honest: Share
    weak_references: Share
    ghost: Share


class GuarantorParams(Strict):
    pay_prob: Share
    call_after_dpd: int = Field(ge=0, le=180)


class CollateralHaircuts(Strict):
    household_goods: Share
    titled_land: Share
    vehicle: Share
    savings: Share


class CostParams(Strict):
    origination: float = Field(ge=0)
    servicing_per_month: float = Field(ge=0)
    collection_per_month_in_arrears: float = Field(ge=0)
    restructuring: float = Field(ge=0)
    guarantor_check: float = Field(ge=0)
    collateral_registration: float = Field(ge=0)


class GroupParams(Strict):
    contagion_after_uncovered_months: int = Field(ge=1, le=12)
    contagion_willingness: Share
    cost_share_per_member: Share


class InsuranceParams(Strict):
    premium_share_per_year: Share
    covers_illness_cost: bool


class SeverityWeights(Strict):
    critical: float = Field(ge=0, le=10)
    major: float = Field(ge=0, le=10)
    minor: float = Field(ge=0, le=10)


class ScoringParams(Strict):
    decision_points: float = Field(ge=0, le=100)
    flag_points: float = Field(ge=0, le=100)
    reason_points: float = Field(ge=0, le=100)
    portfolio_points: float = Field(ge=0, le=100)
    decision_tolerance_share_of_spread: float = Field(gt=0, le=1)
    portfolio_tolerance_share_of_spread: float = Field(gt=0, le=1)
    protection_cap_points: float = Field(ge=0, le=100)
    protection_sacrifice_months: int = Field(ge=1, le=36)
    protection_max_sacrifice_prob: Share
    protection_max_installment_ratio: float = Field(gt=0, le=5)
    severity_weights: SeverityWeights
    flag_point_value: float = Field(ge=0, le=35)
    false_flag_cost: float = Field(ge=0, le=35)
    missed_critical_penalty: float = Field(ge=0, le=100)
    wrong_reason_cost: float = Field(ge=0, le=10)
    approve_after_fraud_flag_penalty: float = Field(ge=0, le=100)
    decline_with_approval_reasons_penalty: float = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _adds_to_100(self) -> ScoringParams:
        total = self.decision_points + self.flag_points + self.reason_points
        if abs(total + self.portfolio_points - 100) > 1e-9:
            raise ValueError(N_("the four parts of the score must add up to 100"))
        return self


class StrategicParams(Strict):
    stakes_keep_paying: bool
    stops_after_dpd: int = Field(ge=0, le=180)


class WelfareParams(Strict):
    # ``lambda`` is a Python keyword: the YAML key is read through an alias.
    weight: float = Field(alias="lambda", ge=0, le=10)
    household_use_value: float = Field(ge=0, le=2)
    return_months: int = Field(ge=0, le=60)
    sacrifice_month_cost: float = Field(ge=0)
    default_cost: float = Field(ge=0)
    collateral_loss_share: float = Field(ge=0, le=2)


class RatioBands(Strict):
    comfortable: float = Field(gt=0, le=5)
    red_flag: float = Field(gt=0, le=5)


class ModelParams(Strict):
    """Defaults of the outcome model; see case_studies/model.yaml for units and sources."""

    reference_loan: float = Field(gt=0)
    return_on_capital: Share
    invested_share: Share
    sales_sigma: float = Field(ge=0, le=2)
    illness: IllnessParams
    downturn: DownturnParams
    harvest: HarvestParams
    consumption_squeeze: Share
    shortfall_carried: Share
    willingness: WillingnessParams
    guarantor: GuarantorParams
    collateral_haircut: CollateralHaircuts
    unsecured_recovery: Share
    cost_of_funds_annual: Share
    costs: CostParams
    fee_rate: Annotated[float, Field(ge=0, lt=1)]
    collection_window_months: int = Field(ge=3, le=24)
    default_dpd: int = Field(ge=30, le=360)
    write_off_dpd: int = Field(ge=60, le=720)
    legal_max_effective_annual_rate: float = Field(gt=0, le=10)
    strategic: StrategicParams
    welfare: WelfareParams
    procedural_cost: float = Field(ge=0)
    group: GroupParams
    insurance: InsuranceParams
    installment_ratio_bands: RatioBands
    scoring: ScoringParams


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``base`` with ``overrides`` laid over it, mapping by mapping."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_model_params(path: str, text: str) -> tuple[ModelParams | None, list[ContentError]]:
    """Parse model.yaml from text."""
    data, errors = safe_load_yaml(path, text)
    if errors:
        return None, errors
    return validate_model(ModelParams, path, data)


def override_model(
    path: str, base: ModelParams, overrides: Mapping[str, Any] | None, prefix: str
) -> tuple[ModelParams | None, list[ContentError]]:
    """Lay a case's overrides over the defaults; errors are located under ``prefix``."""
    if not overrides:
        return base, []
    if not isinstance(overrides, Mapping):
        return None, [ContentError(path, prefix, N_("must be a mapping of keys to values"))]
    merged = deep_merge(base.model_dump(by_alias=True), overrides)
    return validate_model(ModelParams, path, merged, prefix=prefix)


# The red-flag catalogue -------------------------------------------------------

Category = Literal["capacity", "over_indebtedness", "character", "fraud", "security", "conditions"]


class RedFlag(Strict):
    id: Ident
    category: Category
    label: Text
    severity: Severity
    description: Text
    lesson: LessonLink | None = None  # module/lesson#anchor: the section that teaches it


class RedFlagFile(Strict):
    flags: list[RedFlag] = Field(min_length=1, max_length=100)


@dataclass(frozen=True)
class RedFlagCatalogue:
    """The shared checklist, in file order, looked up by id."""

    flags: tuple[RedFlag, ...]

    def __contains__(self, flag_id: object) -> bool:
        return any(f.id == flag_id for f in self.flags)

    def get(self, flag_id: str) -> RedFlag | None:
        return next((f for f in self.flags if f.id == flag_id), None)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.flags)


def load_red_flags(path: str, text: str) -> tuple[RedFlagCatalogue | None, list[ContentError]]:
    """Parse red_flags.yaml from text."""
    data, errors = safe_load_yaml(path, text)
    if errors:
        return None, errors
    parsed, errors = validate_model(RedFlagFile, path, data)
    if parsed is None:
        return None, errors
    seen: set[str] = set()
    for i, flag in enumerate(parsed.flags):
        if flag.id in seen:
            errors.append(
                ContentError(path, f"flags[{i}].id", N_("duplicate id %(id)s"), {"id": flag.id})
            )
        seen.add(flag.id)
    if errors:
        return None, errors
    return RedFlagCatalogue(tuple(parsed.flags)), []
