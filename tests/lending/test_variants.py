"""Case templates and their variants: a fresh case on every attempt, coherent figures."""

from __future__ import annotations

import re

import pytest

from courseware.casework.dossier import calculate, surplus_estimate
from courseware.lending.cases import Case, parse_case
from courseware.lending.variants import (
    corner_draws,
    dossier_figures,
    draw_variant,
    shuffled_reasons,
    variant_spec,
)
from tests.lending.synthetic import shared, synthetic_data

VARIATION = {
    "sales": {"min": 0.9, "max": 1.1},
    "expenses": {"min": 0.9, "max": 1.2},
    "toggles": [
        {
            "id": "moneylender",
            "prob": 0.5,
            "flag": "loan-to-repay-loan",
            "site_visit": ["訪查時鄰居說她每月要還地下錢莊三千元。"],
            "site_visit_absent": ["鄰居說她從不向人借錢。"],
            "expenses": [{"label": "地下錢莊還款", "amount": 30}],
            "reasons": [{"id": "r7", "text": "另有民間借款，盈餘已被吃掉。", "side": "decline"}],
            "key_reasons_add": ["r7"],
            "key_reasons_drop": ["r3"],
        }
    ],
}


def _daily_sales(data: dict) -> None:
    """The dossier states the hidden figures as a trainee reads them: 30 normal days."""
    params, business = data["params"], data["dossier"]["business"]
    day = round(params["base_sales"] / 30, 2)
    business["sales"] = {"good_day": day, "normal_day": day, "slow_day": day}
    business["sales_days"] = {"good": 0, "normal": 30, "slow": 0}
    business["fixed_costs"] = [{"label": "攤租", "amount": params["fixed_costs"]}]


def _template(**changes: object) -> Case:
    import yaml

    catalogue, model = shared()
    data = synthetic_data(0.42, variation=VARIATION)
    _daily_sales(data)
    data["reasons"][0]["text"] = "月付金約為盈餘的{ratio}，還款能力寬裕。"
    data["reasons"][0]["ratio_below"] = 0.5
    data.update(changes)
    case, errors = parse_case(
        "synthetic.yaml", yaml.safe_dump(data, allow_unicode=True), catalogue, model
    )
    assert case is not None, [str(e) for e in errors]
    return case


def test_the_same_seed_draws_the_same_variant() -> None:
    case = _template()
    a, b = draw_variant(case, 17), draw_variant(case, 17)
    assert a.spec == b.spec and a.content_hash == b.content_hash
    assert a.content_hash != case.content_hash and a.template_hash == case.content_hash


def test_figures_vary_and_stay_coherent() -> None:
    case = _template()
    seen = set()
    for seed in range(30):
        variant = draw_variant(case, seed)
        figures = dossier_figures(variant.spec)
        seen.add(round(figures.surplus or 0))
        # The hidden figures move with the dossier's: the expected surplus the model runs on
        # stays as close to the dossier's as in the template.
        p = variant.spec.params
        hidden = p.base_sales * p.margin - p.fixed_costs - p.household_expenses
        hidden += p.other_income - p.other_debt_service
        template = dossier_figures(case.spec)
        tp = case.spec.params
        template_hidden = tp.base_sales * tp.margin - tp.fixed_costs - tp.household_expenses
        assert figures.surplus is not None and template.surplus is not None
        gap = abs(hidden - figures.surplus) / abs(figures.surplus)
        template_gap = abs(template_hidden - template.surplus) / abs(template.surplus)
        assert gap <= template_gap + 0.1, seed
    assert len(seen) > 20


def test_a_toggle_brings_its_flag_story_lines_figures_and_key() -> None:
    case = _template()
    present = [draw_variant(case, s) for s in range(40)]
    with_it = [v for v in present if "moneylender" in v.toggles]
    without = [v for v in present if "moneylender" not in v.toggles]
    assert with_it and without
    for v in with_it:
        assert "loan-to-repay-loan" in v.key_flags
        assert "訪查時鄰居說她每月要還地下錢莊三千元。" in v.spec.dossier.site_visit
        assert any(e.label == "地下錢莊還款" for e in v.spec.dossier.household_budget.expenses)
        assert "r7" in v.spec.key.key_reasons and "r3" not in v.spec.key.key_reasons
        assert "r7" in v.reason_ids
    for v in without:
        assert "loan-to-repay-loan" not in v.key_flags
        assert "鄰居說她從不向人借錢。" in v.spec.dossier.site_visit
        assert "r7" not in v.reason_ids and "r3" in v.spec.key.key_reasons


def test_texts_show_the_same_ratio_as_the_calculator() -> None:
    case = _template()
    for seed in range(10):
        variant = draw_variant(case, seed)
        calc = calculate(variant)
        estimate = surplus_estimate(variant)
        # The calculator starts from the dossier's surplus in whole 元, as the page shows it.
        assert calc.surplus == str(round(estimate.surplus))
        assert calc.ratio == pytest.approx(estimate.ratio, rel=1e-2)
        text = next(r.text for r in variant.spec.reasons if r.id == "r1")
        shown = int(re.search(r"(\d+)%", text).group(1))
        assert shown == round(estimate.ratio * 100), (seed, text)
        assert abs(shown - calc.ratio * 100) <= 0.6, (seed, text)


def test_ratio_flags_and_reasons_follow_the_variants_figures() -> None:
    case = _template()
    for seed in range(40):
        variant = draw_variant(case, seed)
        ratio = dossier_figures(variant.spec).ratio
        assert ("installment-over-50" in variant.key_flags) == (ratio > 0.5)
        assert ("installment-over-80" in variant.key_flags) == (ratio > 0.8)
        # "The installment is comfortable" is a key reason only where it is true.
        assert ("r1" in variant.spec.key.key_reasons) == (ratio < 0.5)


def test_reason_order_is_shuffled_per_attempt() -> None:
    case = _template()
    orders = {
        tuple(r.id for r in shuffled_reasons(case.spec.reasons, s, case.slug)) for s in range(12)
    }
    assert len(orders) > 6
    again = shuffled_reasons(case.spec.reasons, 3, case.slug)
    assert again == shuffled_reasons(case.spec.reasons, 3, case.slug)


def test_every_corner_variant_validates(library: dict[str, Case]) -> None:
    for case in library.values():
        for draw in corner_draws(case.spec):
            spec = variant_spec(case.spec, draw)
            assert spec.key.key_reasons, (case.slug, draw)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("盈餘是{profit}。", "unknown figure {profit}"),
        ("盈餘是{surplus。", "unbalanced"),
    ],
)
def test_a_bad_placeholder_is_reported_with_file_and_field(text: str, problem: str) -> None:
    import yaml

    catalogue, model = shared()
    data = synthetic_data(0.42, variation=VARIATION)
    _daily_sales(data)
    data["reasons"][2]["text"] = text
    case, errors = parse_case(
        "case_studies/synthetic.yaml", yaml.safe_dump(data, allow_unicode=True), catalogue, model
    )
    assert case is None
    assert [(e.path, e.field) for e in errors] == [
        ("case_studies/synthetic.yaml", "reasons[2].text")
    ]
    assert problem in str(
        errors[0].message % errors[0].params if errors[0].params else errors[0].message
    )


def test_an_unlawful_price_is_refused_with_its_rate() -> None:
    import yaml

    catalogue, model = shared()
    data = synthetic_data(0.42)
    data["dossier"]["request"]["monthly_rate"] = 0.025
    case, errors = parse_case(
        "case_studies/synthetic.yaml", yaml.safe_dump(data, allow_unicode=True), catalogue, model
    )
    assert case is None
    assert {e.field for e in errors} == {"options[0]", "options[1]", "options[2]"}
    assert errors[0].params["rate"] > 16 and errors[0].params["cap"] == 16


def test_two_trainees_see_different_figures_and_reason_orders(library: dict[str, Case]) -> None:
    varied = 0
    for case in library.values():
        a, b = draw_variant(case, 101), draw_variant(case, 202)
        figures_differ = a.spec.dossier != b.spec.dossier
        order_a = [r.id for r in shuffled_reasons(a.spec.reasons, 101, case.slug)]
        order_b = [r.id for r in shuffled_reasons(b.spec.reasons, 202, case.slug)]
        varied += figures_differ and order_a != order_b
    assert varied >= 8
