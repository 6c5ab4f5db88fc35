"""Rules from settings.yaml: certification requirements, validity, renewal.

Every number a training manager may want to change lives in that file, not
in code; it is validated like the course files, with located messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from courseware.accounts.sso import SsoRules
from courseware.accounts.throttle import SignInRules
from courseware.content.schemas import Slug
from courseware.core.errors import ContentError, safe_load_yaml, validate_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RenewalRules(_Strict):
    questions: int = Field(default=18, ge=1, le=200)
    pass_mark: float = Field(default=0.8, gt=0, le=1)
    cases: int = Field(default=2, ge=0, le=20)
    fresh_case_months: int = Field(default=12, ge=0, le=120)
    case_average_min: float = Field(default=70, ge=0, le=100)


class CertificationRules(_Strict):
    validity_months: int = Field(default=12, ge=1, le=120)
    renewal_window_days: int = Field(default=60, ge=0, le=365)
    cases_required: int = Field(default=8, ge=0, le=100)
    case_average_min: float = Field(default=70, ge=0, le=100)
    # "all": the average of every case decided (first decisions), once cases_required are;
    # "best": the average of the best cases_required (lets a learner drop the worst).
    case_average: Literal["all", "best"] = "all"
    renewal: RenewalRules = RenewalRules()


class CaseRules(_Strict):
    # Difficulty d+1 templates open once the learner has decided this many templates of
    # difficulty d (or all of them, when fewer are published); 0 opens every template.
    unlock_after: int = Field(default=2, ge=0, le=20)


class ComplianceRules(_Strict):
    expiring_windows_days: list[int] = Field(default=[30, 60], min_length=1, max_length=4)
    # How long HR's module funnel may be reused before it is counted again (0: never).
    funnel_cache_seconds: int = Field(default=60, ge=0, le=3600)


class StudioRules(_Strict):
    # Modules (by slug) whose lessons and quiz are published only after a second
    # trainer approves the change. An empty list turns review off.
    review_required: list[Slug] = Field(default=["law"], max_length=50)
    # A question's statistics are flagged (too easy, too hard, negative discrimination)
    # only once it was served in this many attempts; below, the page says too few.
    item_min_responses: int = Field(default=30, ge=1, le=10000)


class LearningRules(_Strict):
    # A lesson counts as read once the learner has been on it at least this long ...
    read_min_seconds: int = Field(default=60, ge=0, le=3600)
    # ... or this share of the lesson's stated reading time, whichever is longer,
    read_min_share: float = Field(default=0.25, ge=0, le=1)
    # ... and has reached its end (the page reports it, or the form at the end is sent).
    read_requires_end: bool = True


class AssessmentRules(_Strict):
    # After a failed attempt the next one opens this many minutes later at the soonest
    # (a bank's own cooldown_minutes applies when it is longer): time to reread.
    retake_wait_minutes: int = Field(default=240, ge=0, le=60 * 24 * 30)


def _days_list(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError("each number of days may appear only once")
    return sorted(values, reverse=True)


class ReminderRules(_Strict):
    # `courseware reminders run` tells a learner this many days before their cohort's
    # due date (once per number) ...
    due_soon_days: list[int] = Field(default=[7, 1], max_length=10)
    # ... and this many days before their certificate expires (once per number).
    expiring_days: list[int] = Field(default=[60, 30, 7], max_length=10)
    # How long a password-reset link sent by email stays valid.
    reset_link_minutes: int = Field(default=60, ge=5, le=60 * 24)

    @field_validator("due_soon_days", "expiring_days")
    @classmethod
    def _days(cls, values: list[int]) -> list[int]:
        if any(not 0 <= v <= 365 for v in values):
            raise ValueError("days must be between 0 and 365")
        return _days_list(values)


class Policy(_Strict):
    certification: CertificationRules = CertificationRules()
    learning: LearningRules = LearningRules()
    assessment: AssessmentRules = AssessmentRules()
    cases: CaseRules = CaseRules()
    compliance: ComplianceRules = ComplianceRules()
    studio: StudioRules = StudioRules()
    reminders: ReminderRules = ReminderRules()
    sign_in: SignInRules = SignInRules()
    sso: SsoRules = SsoRules()

    @model_validator(mode="after")
    def _reminders_inside_renewal_window(self) -> Policy:
        # An "expiring" reminder tells the learner their renewal path is open. Days set in
        # the file must fall inside the window; defaults beyond it are skipped instead.
        window = self.certification.renewal_window_days
        days = self.reminders.expiring_days
        chosen = "expiring_days" in self.reminders.model_fields_set
        if chosen and days and max(days) > window:
            raise ValueError(
                f"reminders.expiring_days may not exceed certification.renewal_window_days "
                f"({window}): the renewal path opens only then"
            )
        return self


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    errors: list[ContentError]


def parse_policy(path: str, text: str) -> LoadedPolicy:
    data, errors = safe_load_yaml(path, text)
    if errors:
        return LoadedPolicy(Policy(), errors)
    policy, errors = validate_model(Policy, path, data if data is not None else {})
    return LoadedPolicy(policy or Policy(), errors)


def load_policy(path: str | Path | None) -> LoadedPolicy:
    """The policy in ``path``; defaults (and the errors) when it is missing or broken."""
    if not path or not Path(path).is_file():
        return LoadedPolicy(Policy(), [])
    file = Path(path)
    return parse_policy(file.name, file.read_text(encoding="utf-8"))
