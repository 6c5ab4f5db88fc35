"""The stored record of a decision: everything its outcome page and the loan book need.

A decision keeps what was computed when it was made (the options' statistics,
the realised run, the score, the labels and the debrief of that revision), so
its page reads the same after the case is edited or retired. Values are plain
JSON: no NumPy scalars, no infinities (an installment ratio with no positive
surplus is stored as None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from courseware.lending.cases import Case
from courseware.lending.scoring import DecisionRecord, ScoreBreakdown
from courseware.lending.simulation import LoanPath, OptionStats

RECORD_VERSION = 2  # 2: a variant of a case template (loan cases v2)


def plain(value: Any) -> Any:
    """A JSON-safe copy: tuples to lists, NumPy scalars to numbers, inf and NaN to None."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if hasattr(value, "item"):  # a NumPy scalar
        return plain(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _option_row(case: Case, s: OptionStats) -> dict[str, Any]:
    option = case.option(s.option_id)
    return {
        "id": s.option_id,
        "label": option.label if option else s.option_id,
        "kind": s.kind,
        "moves_money": s.moves_money,
        "default_rate": s.default_rate,
        "expected_profit": s.expected_profit,
        "profit_p10": s.profit_p10,
        "profit_p90": s.profit_p90,
        "p_sacrifice": s.p_sacrifice,
        "installment": s.installment,
        "installment_ratio": s.installment_ratio,
        "client_protection_ok": s.client_protection_ok,
        "is_best": s.is_best,
        "counterfactual_default_rate": s.counterfactual_default_rate,
        "counterfactual_expected_profit": s.counterfactual_expected_profit,
        "outcome_shares": dict(s.outcome_shares),
        "expected_welfare": s.expected_welfare,
        "value": s.value,
        "worst_month_ratio": s.worst_month_ratio,
        "p_asset_loss": s.p_asset_loss,
        "effective_annual_rate": s.effective_annual_rate,
        "procedure_note": option.procedure.note if option and option.procedure else None,
    }


def path_data(path: LoanPath) -> dict[str, Any]:
    return {
        "option_id": path.option_id,
        "seed": path.seed,
        "moves_money": path.moves_money,
        "counterfactual": path.counterfactual,
        "months": path.months,
        "cash": list(path.cash),
        "due": list(path.due),
        "paid": list(path.paid),
        "dpd": list(path.dpd),
        "events": [
            {"month": e.month, "kind": e.kind, "params": dict(e.params)} for e in path.events
        ],
        "outcome": path.outcome,
        "lender_profit": path.lender_profit,
        "loan_profit": path.loan_profit,
        "welfare": path.welfare,
        "sacrifice_months": path.sacrifice_months,
        "principal": path.principal,
        "borrowers": [b for b in path.borrowers if b],
    }


def _flag(case: Case, flag_id: str) -> dict[str, str | None]:
    entry = case.catalogue.get(flag_id)
    severity = case.key_flags.get(flag_id) or (entry.severity if entry else "minor")
    return {
        "id": flag_id,
        "label": entry.label if entry else flag_id,
        "severity": severity,
        "lesson": entry.lesson if entry else None,  # module/lesson#anchor that teaches it
    }


def build_record(
    case: Case,
    stats: Sequence[OptionStats],
    score: ScoreBreakdown,
    path: LoanPath,
    loan: DecisionRecord,
    expert_path: LoanPath,
    expert: DecisionRecord,
    reasons: Sequence[str],
    seeds: int,
) -> dict[str, Any]:
    """The stored record of one decision: what the outcome page and the transcript show.

    Long because it is the record's one literal, field by field, beside the figures each
    field is read from; a record written in several places is how fields go missing.
    """
    chosen = case.option(path.option_id)
    best = case.option(score.best_option_id)
    rules = case.model.scoring
    reason_text = {r.id: r.text for r in case.spec.reasons}
    reason_side = {r.id: r.side for r in case.spec.reasons}
    reason_lesson = {r.id: r.lesson for r in case.spec.reasons}
    key_reasons = set(case.spec.key.key_reasons)
    wrong = set(score.wrong_reasons)
    record = {
        "version": RECORD_VERSION,
        "seeds": seeds,
        "case": {
            "slug": case.slug,
            "title": case.title,
            "currency": case.spec.currency,
            "loan_size": case.loan_size,
        },
        "variant": {
            "seed": case.variant_seed,
            "toggles": list(case.toggles),
            "template_hash": case.template_hash,
            "key_flags": sorted(case.key_flags),
        },
        "welfare_lambda": case.model.welfare.weight,
        "option": {
            "id": path.option_id,
            "label": chosen.label if chosen else path.option_id,
            "kind": path.kind,
            "moves_money": path.moves_money,
        },
        "best_option": {
            "id": score.best_option_id,
            "label": best.label if best else score.best_option_id,
        },
        "options": [_option_row(case, s) for s in stats],
        "score": asdict(score),
        "rubric": {
            "decision": rules.decision_points,
            "flags": rules.flag_points,
            "reasons": rules.reason_points,
            "portfolio": rules.portfolio_points,
            "total": 100.0,
            "protection_cap": rules.protection_cap_points,
            "missed_critical_penalty": rules.missed_critical_penalty,
            "sacrifice_months": rules.protection_sacrifice_months,
            "wrong_reason_cost": rules.wrong_reason_cost,
            "false_flag_cost": rules.false_flag_cost,
            "approve_after_fraud_flag_penalty": rules.approve_after_fraud_flag_penalty,
            "decline_with_approval_reasons_penalty": rules.decline_with_approval_reasons_penalty,
        },
        "flags": {
            "found": [_flag(case, f) for f in score.found_flags],
            "missed": [_flag(case, f) for f in score.missed_flags],
            "false": [_flag(case, f) for f in score.false_flags],
        },
        "reasons": [
            {
                "id": r,
                "text": reason_text.get(r, r),
                "key": r in key_reasons,
                "side": reason_side.get(r, "neutral"),
                "wrong": r in wrong,
                "lesson": reason_lesson.get(r),
            }
            for r in reasons
        ],
        "key_reasons": [
            {"id": r, "text": reason_text.get(r, r), "lesson": reason_lesson.get(r)}
            for r in case.spec.key.key_reasons
        ],
        "path": path_data(path),
        "loan": asdict(loan),
        "expert_path": path_data(expert_path),
        "expert": asdict(expert),
        "debrief": case.spec.key.debrief,
    }
    return plain(record)


def decision_record_of(data: Mapping[str, Any]) -> DecisionRecord:
    """A stored loan-book entry back as the engine's DecisionRecord."""
    return DecisionRecord(**{k: data[k] for k in DecisionRecord.__dataclass_fields__})


# Figures a v1 decision's record (made before loan cases v2) does not hold.
V2_OPTION_FIELDS = (
    "expected_welfare",
    "value",
    "worst_month_ratio",
    "p_asset_loss",
    "effective_annual_rate",
    "procedure_note",
)


def record_for_page(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored record with the v2 fields present (None where it lacks them)."""
    copy = dict(record)
    copy["options"] = [{**dict.fromkeys(V2_OPTION_FIELDS), **o} for o in record["options"]]
    copy.setdefault("variant", None)
    copy.setdefault("welfare_lambda", None)
    copy["reasons"] = [{"wrong": False, **r} for r in record.get("reasons", [])]
    rubric = dict(record.get("rubric", {}))
    for name in (
        "wrong_reason_cost",
        "false_flag_cost",
        "approve_after_fraud_flag_penalty",
        "decline_with_approval_reasons_penalty",
    ):
        rubric.setdefault(name, None)
    copy["rubric"] = rubric
    return copy
