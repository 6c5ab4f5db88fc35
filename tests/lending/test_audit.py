"""Resistance to gaming: no decision rule that ignores the material passes a case.

The full audit (200 variants x 200 runs of every case) runs in CI as
``courseware cases audit --check``; this test plays the same strategies on fewer
variants so that a change to the rubric or a case that opens a shortcut fails here.
"""

from __future__ import annotations

import pytest

from courseware.lending.cases import Case
from courseware.lending.strategies import LISTED, NAIVE, STRATEGIES, audit_cases, audit_failures


@pytest.fixture(scope="module")
def report(library: dict[str, Case]):
    return audit_cases(library, variants=24, seeds=80, pass_mark=70, cases_required=8)


def test_the_issue_lists_every_strategy() -> None:
    listed = {
        "expert",
        "always-reject",
        "approve-as-requested",
        "smallest-amount",
        "most-secured",
        "always-defer",
        "random-option",
        "first-listed-reasons",
        "all-flags",
    }
    assert listed <= set(STRATEGIES) and set(LISTED) == listed - {"expert"}
    # and the answer another variant had (memorised, shared): judgement, not recall
    assert "last-time-answer" in STRATEGIES


def test_the_expert_passes_every_case(report) -> None:
    expert = report.strategies["expert"]
    assert expert.mean >= 85 and expert.certifies
    for slug, means in report.per_case.items():
        assert means["expert"] >= 75, slug


@pytest.mark.parametrize("name", NAIVE)
def test_no_naive_strategy_reaches_half_the_points_or_certifies(report, name: str) -> None:
    result = report.strategies[name]
    assert result.mean <= 50, (name, result)
    assert not result.certifies, (name, result)
    if name in LISTED:
        assert result.certify_rate == 0, (name, result)


def test_the_audit_reports_what_ci_refuses(report) -> None:
    assert audit_failures(report) == []
    payload = report.as_json()
    assert set(payload["strategies"]) == set(STRATEGIES)
    assert payload["pass_mark"] == 70
    assert 0 <= payload["expert_book"]["par30"] <= 0.05
    assert 0 <= payload["expert_book"]["write_off_rate"] <= 0.02


def test_a_library_that_mostly_refuses_fails_the_audit(report) -> None:
    """At least a third of the templates have a lending answer as best in most variants:
    a library of refusals would teach that refusing is safe."""
    from dataclasses import replace

    assert len(report.lending_cases) * 3 >= len(report.per_case)
    assert report.as_json()["lending_cases"] == len(report.lending_cases)
    few = replace(report, lending_cases=report.lending_cases[:1])
    assert any("at least a third should" in p for p in audit_failures(few))
