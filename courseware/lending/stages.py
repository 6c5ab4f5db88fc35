"""Cases decided in several steps: multi-visit templates and the village book.

A multi-visit template (``stages:``) is a case like any other for its first
decision. Each later stage is a visit to the loan the trainee made: its
balance, installment and arrears follow from the terms chosen earlier (the loan
they approved is the loan that falls behind, or stays current), and its
options act on that loan. A stage happens only while a loan is outstanding: a
rejection, a write-off or a loan repaid before the visit ends the case.

A village book (``book:``) is a list of applications decided in turn; each is
a case whose outcome model carries the book's shared shock (one draw per run
for the whole book, see ``world.shock_draws``).

``stage_case(template, seed, choices)`` is the one entry point: the case the
trainee decides after ``choices`` (the option ids chosen at the earlier
stages), or None once the case has ended. Every stage is a ``Case``, graded
with the same simulation and rubric as a single decision.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError

from courseware.core.errors import N_, ContentError, errors_from_validation
from courseware.lending.arithmetic import principal_parts, restructure_schedule
from courseware.lending.case_schema import CaseFile, Stage
from courseware.lending.params import deep_merge, override_model
from courseware.lending.terms import OPTION_KINDS, loan_schedule
from courseware.lending.variants import apply_params, draw_variant, fill, key_flags_of

STAGE_PLACEHOLDERS = ("installment", "balance", "arrears", "month")


def is_staged(case: Any) -> bool:
    return bool(case.spec.stages) or case.spec.book is not None


def stage_count(case: Any) -> int:
    """How many decisions the case can take (a multi-visit case may end sooner)."""
    if case.spec.book is not None:
        return len(case.spec.book.loans)
    return 1 + len(case.spec.stages or [])


def stage_titles(case: Any) -> list[str]:
    if case.spec.book is not None:
        return [loan.title for loan in case.spec.book.loans]
    return [case.spec.title] + [s.title for s in case.spec.stages or []]


@dataclass(frozen=True)
class LoanState:
    """The loan outstanding after a decision: its schedule and where it stands."""

    amount: float  # the amount first lent
    principal: float  # the principal the schedule below amortises
    monthly_rate: float
    due: tuple[float, ...]
    parts: tuple[float, ...]  # principal repaid in each month of ``due``
    elapsed: int = 0  # months of ``due`` that had passed at the decision
    arrears: int = 0  # installments overdue at the decision


@dataclass(frozen=True)
class Visit:
    """What the officer finds at a later stage's visit."""

    state: LoanState  # elapsed and arrears as of the visit
    balance: float
    installment: float
    arrears_amount: float
    remaining_term: int
    behind: bool


def _money(value: float) -> str:
    return f"{value:,.0f}"


def monthly_surplus(params: Any) -> float:
    """The household's expected monthly surplus before the loan, from the hidden params."""
    season = sum(params.season) / len(params.season) if params.season else 1.0
    ramp = sum(params.ramp) / len(params.ramp) if params.ramp else 1.0
    sales = params.base_sales * season * ramp
    return (
        sales * params.margin
        - params.fixed_costs
        - params.household_expenses
        - params.other_debt_service
        + params.other_income
    )


def loan_after(case: Any, option_id: str, visit: Visit | None) -> LoanState | None:
    """The loan outstanding once ``option_id`` is chosen on ``case`` (None: no loan)."""
    option = case.option(option_id)
    kind = OPTION_KINDS[option.kind]
    if not kind.moves_money or option.kind == "write_off":
        return None
    terms = case.terms(option_id)
    if visit is None:  # the first decision: a new loan
        if kind.existing_loan:
            return None
        due, parts = loan_schedule(case.spec.params, terms)
        return LoanState(terms.amount, terms.amount, terms.monthly_rate, due, parts)
    if option.kind == "restructure":
        rate = visit.state.monthly_rate
        respread = restructure_schedule(visit.balance, rate, terms.grace_months, terms.term)
        return LoanState(
            visit.state.amount,
            visit.balance,
            rate,
            tuple(respread),
            tuple(principal_parts(visit.balance, rate, respread)),
        )
    return visit.state  # collect, call the guarantor: the contract runs on


def visit_loan(state: LoanState, stage: Stage, surplus: float) -> Visit | None:
    """The loan at the stage's visit, ``stage.month`` months on (None: repaid by then)."""
    elapsed = state.elapsed + stage.month
    count = len(state.due)
    upcoming = state.due[state.elapsed :] or state.due[-1:]
    # The monthly burden from here on: a harvest or balloon loan's large payments are
    # spread over the months they fall in, as the household would budget them.
    installment = sum(upcoming) / len(upcoming)
    rule = stage.behind_if_installment_above
    behind = rule is not None and (rule == 0 or surplus <= 0 or installment > rule * surplus)
    if elapsed >= count and not behind:
        return None
    arrears = min(stage.arrears_installments, elapsed) if behind else 0
    paid = max(0, min(elapsed, count) - arrears)
    balance = max(1.0, state.principal - sum(state.parts[:paid]))
    arrears_amount = sum(state.due[paid : min(elapsed, count)])
    return Visit(
        replace(state, elapsed=elapsed, arrears=arrears),
        balance,
        installment,
        arrears_amount,
        max(1, count - elapsed),
        behind,
    )


def _stage_slug(template_slug: str, index: int, stage_id: str) -> str:
    return f"{template_slug}-s{index}-{stage_id}"[:64].rstrip("-")


def _later_stage(
    template: Any, first: Any, index: int, visit: Visit, choices: Sequence[str]
) -> Any:
    """The case of later stage ``index`` (1-based among the later stages)."""
    stages = template.spec.stages
    stage = stages[index - 1]
    data = first.spec.model_dump()
    overrides = _advance_params(data["params"], stages[:index])
    values = {
        "installment": _money(visit.installment),
        "balance": _money(visit.balance),
        "arrears": _money(visit.arrears_amount),
        "month": str(stage.month),
    }
    _lay_in_visit(data, stage, visit, values)
    reasons = [r.model_dump() for r in stage.reasons]
    for reason in reasons:
        reason["text"] = fill(reason["text"], values)
    data.update(
        slug=_stage_slug(template.slug, index + 1, stage.id),
        title=f"{template.spec.title}：{stage.title}"[:120],
        allowed={
            "amount": {"min": 0, "max": 1e9},
            "term": {"min": 1, "max": 60},
            "schedules": ["equal", "restructure"],
        },
        options=[o.model_dump() for o in stage.options],
        reasons=reasons,
        key=_stage_key(first, stage, visit, values),
        variation=None,
        stages=None,
    )
    spec = CaseFile.model_validate(data)
    model = first.model
    if overrides:
        model, errors = override_model("", first.model, overrides, "stages")
        if model is None:
            raise ValueError(f"stage {stage.id}: {errors[0]}")
    digest = hashlib.sha256(
        "\x1f".join([template.content_hash, str(first.variant_seed), *choices]).encode()
    ).hexdigest()
    return replace(
        first,
        spec=spec,
        model=model,
        key_flags=key_flags_of(spec, first.catalogue),
        content_hash=digest,
    )


def _advance_params(params: dict[str, Any], earlier: Sequence[Stage]) -> dict[str, Any]:
    """Move the hidden params on to the visit of the stage after ``earlier``, in place; the
    model overrides those stages bring."""
    # The calendar moves on: the visit's simulation starts in the month of the visit.
    months = sum(s.month for s in earlier)
    params["start_month"] = (params["start_month"] - 1 + months) % 12 + 1
    overrides: dict[str, Any] = {}
    for stage in earlier:
        if stage.params is not None:
            apply_params(params, stage.params)
            overrides = deep_merge(overrides, stage.params.model_overrides or {})
    return overrides


def _lay_in_visit(data: dict[str, Any], stage: Stage, visit: Visit, values: dict[str, str]) -> None:
    """Write what the visit finds into the case data, in place: the site-visit lines, the
    existing loan (in the dossier and the hidden params) and the request it stands for."""
    lines = list(stage.visit) + list(stage.visit_behind if visit.behind else stage.visit_current)
    rate = visit.state.monthly_rate
    dossier = data["dossier"]
    dossier["site_visit"] = [fill(line, values) for line in lines]
    dossier["existing_loan"] = {
        "amount": round(visit.state.amount),
        "balance": round(visit.balance),
        "installment": round(visit.installment),
        "remaining_term": visit.remaining_term,
        "days_past_due": 30 * visit.state.arrears,
        "note": stage.title,
    }
    dossier["request"].update(
        amount=round(visit.balance),
        term=visit.remaining_term,
        monthly_rate=rate,
        rate_type="declining",
        schedule="equal",
        fee_rate=None,
    )
    data["params"]["existing_loan"] = {
        "balance": visit.balance,
        "monthly_rate": rate,
        "remaining_term": visit.remaining_term,
        "arrears_installments": visit.state.arrears,
    }


def _stage_key(first: Any, stage: Stage, visit: Visit, values: dict[str, str]) -> Any:
    """The stage's key, following what this visit shows: the stage-1 facts present
    (when_present, when_absent), whether the loan is behind (when_behind, flags_behind,
    flags_current). Validated as written; filled numbers may make it a little shorter
    than the minimum."""
    present = set(first.toggles)
    holds = {
        r.id
        for r in stage.reasons
        if all(t in present for t in r.when_present)
        and not any(t in present for t in r.when_absent)
        and (r.when_behind is None or r.when_behind == visit.behind)
    }
    key_reasons = [r for r in stage.key.key_reasons if r in holds][:3]
    extra = stage.flags_behind if visit.behind else stage.flags_current
    flags = list(stage.key.red_flags) + [f for f in extra if f not in stage.key.red_flags]
    return stage.key.model_copy(
        update={
            "debrief": fill(stage.key.debrief, values),
            "key_reasons": key_reasons or list(stage.key.key_reasons[:1]),
            "red_flags": flags,
        }
    )


@dataclass(frozen=True)
class StageWalk:
    """The stages a sequence of choices has gone through, and what comes next."""

    cases: tuple[Any, ...]  # the case of each stage decided, then the next one (if any)
    visits: tuple[Visit | None, ...]  # the visit of each of those stages (None: the first)
    ended: bool  # True: no stage follows the last choice


def walk(template: Any, seed: int, choices: Sequence[str]) -> StageWalk:
    """Play ``choices`` through the template's stages for ``seed``.

    Raises KeyError when a choice is not an option of its stage.
    """
    if template.spec.book is not None:
        return _walk_book(template, seed, choices)
    first = draw_variant(template, seed)
    cases: list[Any] = [first]
    visits: list[Visit | None] = [None]
    stages = template.spec.stages or []
    for k, choice in enumerate(choices):
        current = cases[-1]
        if current.option(choice) is None:
            raise KeyError(choice)
        state = loan_after(current, choice, visits[-1])
        if state is None or k >= len(stages):
            return StageWalk(tuple(cases), tuple(visits), True)
        stage = stages[k]
        changed = first.spec.params.model_dump()
        for earlier in stages[: k + 1]:
            if earlier.params is not None:
                apply_params(changed, earlier.params)
        surplus = monthly_surplus(type(first.spec.params).model_validate(changed))
        visit = visit_loan(state, stage, surplus)
        if visit is None:
            return StageWalk(tuple(cases), tuple(visits), True)
        cases.append(_later_stage(template, first, k + 1, visit, list(choices[: k + 1])))
        visits.append(visit)
    return StageWalk(tuple(cases), tuple(visits), False)


def _walk_book(template: Any, seed: int, choices: Sequence[str]) -> StageWalk:
    """A village book: its loans in turn, each drawn for ``seed``, whatever was chosen."""
    loans = template.parts
    count = min(len(choices) + 1, len(loans))
    cases = tuple(draw_variant(loans[i], seed) for i in range(count))
    for case, choice in zip(cases, choices, strict=False):
        if case.option(choice) is None:
            raise KeyError(choice)
    return StageWalk(cases, (None,) * len(cases), len(choices) >= len(loans))


def stage_case(template: Any, seed: int, choices: Sequence[str]) -> Any | None:
    """The case decided after ``choices`` (None: the case has ended)."""
    found = walk(template, seed, choices)
    return None if found.ended else found.cases[-1]


def check_stages(path: str, template: Any, check: Any) -> list[ContentError]:
    """Build every later stage along a few paths and check each with ``check(path, case)``
    (the single-case checks); errors are located under ``stages[i]``."""
    stages = template.spec.stages or []
    errors: list[ContentError] = []
    for k, stage in enumerate(stages):
        for name in ("flags_behind", "flags_current"):
            for i, flag in enumerate(getattr(stage, name)):
                if flag not in template.catalogue:
                    errors.append(
                        ContentError(
                            path,
                            f"stages[{k}].{name}[{i}]",
                            N_("unknown red flag %(id)s (see red_flags.yaml)"),
                            {"id": flag},
                        )
                    )
        known = {r.id for r in stage.reasons}
        for i, reason in enumerate(stage.key.key_reasons):
            if reason not in known:
                errors.append(
                    ContentError(
                        path,
                        f"stages[{k}].key.key_reasons[{i}]",
                        N_("no reason has the id %(id)s"),
                        {"id": reason},
                    )
                )
    if errors:
        return errors
    first = draw_variant(template, 0)
    lending = [
        o.id for o in first.options if OPTION_KINDS[o.kind].moves_money and o.kind != "write_off"
    ]
    seen: set[int] = set()
    for option_id in lending:
        choices = [option_id]
        for k in range(len(stages)):
            if k in seen:
                break
            try:
                found = walk(template, 0, choices)
            except ValidationError as exc:
                seen.add(k)
                errors.extend(errors_from_validation(path, exc, f"stages[{k}]"))
                break
            if found.ended:
                break
            seen.add(k)
            case = found.cases[-1]
            for error in check(path, case):
                errors.append(replace(error, field=f"stages[{k}].{error.field}"))
            keep = next(
                (o.id for o in case.options if o.kind in ("collect", "call_guarantor")),
                None,
            )
            if keep is None:
                break
            choices.append(keep)
    return errors


def book_loan_spec(book_file: Any, index: int) -> dict[str, Any]:
    """The case-file data of a village book's loan ``index``, the shared shock laid in."""
    book = book_file.book
    loan = book.loans[index]
    data = loan.model_dump(exclude={"id", "exposure"})
    shock = book.shock
    data["params"]["shock"] = {
        "key": book_file.slug,
        "prob": shock.prob,
        "month": shock.month,
        "months": shock.months,
        "sales_factor": loan.exposure,
    }
    data.update(
        slug=f"{book_file.slug}-{loan.id}"[:64].rstrip("-"),
        difficulty=book_file.difficulty,
        module=book_file.module,
        kinds=list(book_file.kinds),
        currency=book_file.currency,
    )
    return data


def with_shock(case: Any, force: str) -> Any:
    """A book loan's case with its shock forced on or off (the with/without figures)."""
    shock = case.spec.params.shock
    if shock is None:
        return case
    forced = shock.model_copy(update={"force": force})
    params = case.spec.params.model_copy(update={"shock": forced})
    spec = case.spec.model_copy(update={"params": params})
    digest = hashlib.sha256(f"{case.content_hash}\x1fshock={force}".encode()).hexdigest()
    return replace(case, spec=spec, content_hash=digest)
