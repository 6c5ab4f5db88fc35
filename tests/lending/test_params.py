"""model.yaml and red_flags.yaml: the shipped files load; bad files give located errors."""

from __future__ import annotations

import pytest
import yaml

from courseware.lending.params import load_model_params, load_red_flags, override_model
from tests.lending.synthetic import CASE_DIR


def _model_text() -> str:
    return (CASE_DIR / "model.yaml").read_text(encoding="utf-8")


def test_model_defaults_match_the_domain_notes() -> None:
    model, errors = load_model_params("model.yaml", _model_text())
    assert not errors
    assert model is not None
    assert model.return_on_capital == 0.04
    assert model.invested_share == 0.8
    assert model.sales_sigma == 0.15
    assert (model.illness.monthly_prob, model.illness.months, model.illness.sales_factor) == (
        0.02,
        2,
        0.5,
    )
    assert model.illness.cost_share_of_household_expenses == 0.5
    assert (model.downturn.monthly_prob, model.downturn.months) == (0.01, 4)
    assert model.downturn.sales_factor == pytest.approx(0.7)
    assert model.harvest.factors == [1.0, 0.7, 0.3]
    assert model.harvest.probs == [0.7, 0.2, 0.1]
    assert model.consumption_squeeze == 0.15
    assert (model.willingness.honest, model.willingness.weak_references) == (0.98, 0.6)
    assert model.willingness.ghost == 0
    assert model.guarantor.pay_prob == 0.7
    assert model.collateral_haircut.household_goods == 0.5
    assert model.collateral_haircut.titled_land == 0.7
    assert model.unsecured_recovery == 0.10
    # Loan cases v2: costs calibrated so a sound loan at a lawful price (<= 16% a year,
    # fees included) is profitable; DOMAIN.md asks for 2-3% a year cost of funds.
    assert 0.02 <= model.cost_of_funds_annual <= 0.03
    assert (model.costs.origination, model.costs.servicing_per_month) == (10, 1.5)
    assert model.costs.collection_per_month_in_arrears == 5
    assert model.fee_rate == 0.005
    assert model.default_dpd == 90
    assert model.write_off_dpd == 180
    assert model.legal_max_effective_annual_rate == 0.16
    assert model.welfare.weight == 1.0  # lambda, DOMAIN.md section 3
    assert model.group.contagion_willingness == 0.7
    rules = model.scoring
    assert (rules.decision_points, rules.flag_points, rules.reason_points) == (40, 35, 10)
    assert rules.portfolio_points == 15


def test_red_flag_catalogue_loads() -> None:
    text = (CASE_DIR / "red_flags.yaml").read_text(encoding="utf-8")
    catalogue, errors = load_red_flags("red_flags.yaml", text)
    assert not errors
    assert catalogue is not None
    assert "three-plus-lenders" in catalogue
    assert catalogue.get("installment-over-80").severity == "critical"
    fraud = [f for f in catalogue.flags if f.category == "fraud"]
    assert fraud and all(f.severity == "critical" for f in fraud)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"sales_sigma": -1}, "sales_sigma"),
        ({"illness": {"monthly_prob": 1.5}}, "illness.monthly_prob"),
        ({"harvest": {"probs": [0.5, 0.2, 0.1]}}, "harvest"),
        ({"costs": {"origination": "lots"}}, "costs.origination"),
        ({"colour": "blue"}, "colour"),
        ({"scoring": {"decision_points": 50}}, "scoring"),
    ],
)
def test_bad_model_file_gives_located_errors(change: dict, field: str) -> None:
    data = yaml.safe_load(_model_text())
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    model, errors = load_model_params("model.yaml", yaml.safe_dump(data))
    assert model is None
    assert any(e.field == field and e.path == "model.yaml" for e in errors), errors


def test_model_yaml_syntax_error_is_located() -> None:
    model, errors = load_model_params("model.yaml", "fee_rate: [0.02\n")
    assert model is None
    assert errors[0].field.startswith("line")


def test_duplicate_red_flag_id_is_located() -> None:
    text = yaml.safe_dump(
        {
            "flags": [
                {
                    "id": "a",
                    "category": "capacity",
                    "label": "甲",
                    "severity": "minor",
                    "description": "說明",
                },
                {
                    "id": "a",
                    "category": "fraud",
                    "label": "乙",
                    "severity": "critical",
                    "description": "說明",
                },
            ]
        },
        allow_unicode=True,
    )
    catalogue, errors = load_red_flags("red_flags.yaml", text)
    assert catalogue is None
    assert [e.field for e in errors] == ["flags[1].id"]


def test_unknown_severity_is_located() -> None:
    text = yaml.safe_dump(
        {
            "flags": [
                {
                    "id": "a",
                    "category": "capacity",
                    "label": "甲",
                    "severity": "huge",
                    "description": "說明",
                }
            ]
        },
        allow_unicode=True,
    )
    catalogue, errors = load_red_flags("red_flags.yaml", text)
    assert catalogue is None
    assert errors[0].field == "flags[0].severity"


def test_case_overrides_are_validated_under_their_prefix() -> None:
    model, _ = load_model_params("model.yaml", _model_text())
    assert model is not None
    merged, errors = override_model("x.yaml", model, {"illness": {"monthly_prob": 0.05}}, "p")
    assert merged is not None and not errors
    assert merged.illness.monthly_prob == 0.05
    assert merged.illness.months == model.illness.months
    merged, errors = override_model("x.yaml", model, {"illness": {"often": 1}}, "p")
    assert merged is None
    assert errors[0].field == "p.illness.often"
