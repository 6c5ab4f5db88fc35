"""A synthetic 1,000-unit case for checking the model against DOMAIN.md's sanity figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from courseware.lending.cases import Case, load_shared, parse_case

CASE_DIR = Path(__file__).resolve().parents[2] / "case_studies"

REQUEST_RATE = 0.0105  # a month: 13.4% a year, lawful with the 0.5% fee (under 16%)
REQUEST_INSTALLMENT = 89.07  # 1,000 over 12 months at 1.05%/month, declining balance


def shared() -> tuple[Any, Any]:
    catalogue, model, errors = load_shared(CASE_DIR)
    assert not errors, errors
    return catalogue, model


def synthetic_data(
    ratio: float,
    *,
    slug: str = "synthetic",
    household_expenses: float = 300.0,
    fixed_costs: float = 150.0,
    margin: float = 0.25,
    willingness: str = "honest",
    guarantor_capacity: float = 600.0,
    extra_options: list[dict[str, Any]] | None = None,
    red_flags: list[Any] | None = None,
    variation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A household whose pre-loan surplus makes the requested installment ``ratio`` of it.

    Household expenses and fixed costs stay the same at every ratio; the sales
    level sets the surplus (a weaker business has a smaller surplus).
    """
    surplus = REQUEST_INSTALLMENT / ratio
    expenses = household_expenses
    gross_profit = surplus + expenses + fixed_costs
    options = [
        {"id": "approve", "label": "核准", "kind": "approve"},
        {"id": "guarantor", "label": "加保證人", "kind": "approve_modified", "guarantor": True},
        {"id": "term18", "label": "延長為18個月", "kind": "approve_modified", "term": 18},
        {"id": "reject", "label": "婉拒", "kind": "reject"},
        *(extra_options or []),
    ]
    return {
        "slug": slug,
        "title": "合成案例",
        "difficulty": 1,
        "summary": "用來檢查模型的合成案例。",
        "dossier": {
            "applicant": {"name": "測試", "age": 40, "family": "四口之家"},
            "business": {
                "type": "小吃攤",
                "years": 5,
                "location": "市場",
                "description": "合成資料。",
                "sales": {"good_day": 100, "normal_day": 80, "slow_day": 60},
                "margin": margin,
            },
            "household_budget": {"expenses": [{"label": "生活費", "amount": expenses}]},
            "credit_bureau": {"summary": "無其他貸款。"},
            "site_visit": ["攤位正常營業。"],
            "request": {
                "amount": 1000,
                "term": 12,
                "monthly_rate": REQUEST_RATE,
                "purpose": "進貨",
            },
        },
        "allowed": {
            "amount": {"min": 100, "max": 2000},
            "term": {"min": 3, "max": 24},
            "schedules": ["equal", "flat", "balloon"],
        },
        "options": options,
        "params": {
            "money_scale": 1,
            "base_sales": gross_profit / margin,
            "margin": margin,
            "fixed_costs": fixed_costs,
            "household_expenses": expenses,
            "willingness": willingness,
            "guarantor": {"capacity": guarantor_capacity},
        },
        "reasons": [
            {"id": f"r{i}", "text": f"理由{i}", "side": "approve" if i <= 3 else "decline"}
            for i in range(1, 7)
        ],
        "key": {
            "red_flags": red_flags or ["installment-over-80"],
            "key_reasons": ["r1", "r2", "r3"],
            "best_option": "approve",
            "debrief": "這是合成案例的講評。" * 16,
        },
        **({"variation": variation} if variation else {}),
    }


def synthetic_case(ratio: float, **kwargs: Any) -> Case:
    catalogue, model = shared()
    text = yaml.safe_dump(synthetic_data(ratio, **kwargs), allow_unicode=True)
    case, errors = parse_case("synthetic.yaml", text, catalogue, model)
    assert case is not None, errors
    return case
