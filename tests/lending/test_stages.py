"""Multi-visit cases and village books in the domain: what was decided earlier shapes the
later stages, the shock is shared by the whole book, the audit plays every stage."""

from __future__ import annotations

import numpy as np
import pytest

from courseware.lending.cases import load_case_dir
from courseware.lending.simulation import evaluate_options
from courseware.lending.stages import stage_case, walk, with_shock
from courseware.lending.strategies import audit_staged
from courseware.lending.world import shock_draws
from tests.conftest import DATA


@pytest.fixture(scope="module")
def cases():
    found, errors = load_case_dir(DATA / "case_studies")
    assert not errors
    return found


def test_the_loan_approved_is_the_loan_the_visit_finds(cases):
    template = cases["kiosk-visits"]
    full = walk(template, 3, ["approve-as-requested"])
    smaller = walk(template, 3, ["approve-smaller"])
    big, small = full.visits[-1], smaller.visits[-1]
    assert big.state.amount == 24000 and small.state.amount == 15000
    assert small.balance < big.balance and small.installment < big.installment
    stage = full.cases[-1]
    loan = stage.spec.params.existing_loan
    assert loan.balance == pytest.approx(big.balance)
    assert loan.arrears_installments == big.state.arrears
    assert stage.spec.dossier.existing_loan.installment == round(big.installment)
    assert f"{big.installment:,.0f}" in " ".join(stage.spec.dossier.site_visit)
    assert stage.options[0].id == "keep-collecting"
    # Four months on from a November loan: the visit's run starts in March.
    assert template.spec.params.start_month == 11 and stage.spec.params.start_month == 3


def test_a_rejection_or_a_write_off_ends_the_case(cases):
    template = cases["kiosk-visits"]
    assert stage_case(template, 3, ["reject-competition"]) is None
    assert stage_case(template, 3, ["approve-as-requested", "write-off"]) is None
    assert stage_case(template, 3, ["approve-as-requested"]) is not None
    with pytest.raises(KeyError):
        walk(template, 3, ["no-such-option"])


def test_a_restructure_respreads_the_balance_found(cases):
    template = cases["kiosk-visits"]
    played = walk(template, 5, ["approve-as-requested", "restructure-grace", "keep-collecting"])
    first_visit = played.visits[1]
    after = played.visits[2].state
    assert after.principal == pytest.approx(first_visit.balance)
    assert len(after.due) == 2 + 12  # two months of grace, then twelve installments


def test_the_shock_is_drawn_once_for_the_whole_book(cases):
    book = cases["lane-book"]
    seeds = list(range(400))
    hits = [shock_draws(loan.spec.params, seeds, 12)[0] for loan in book.parts]
    for other in hits[1:]:
        assert np.array_equal(hits[0], other)
    assert 0.2 < hits[0].mean() < 0.4  # the book's stated chance, 0.3
    exposed = stage_case(book, 1, [])  # the first household lives on the low ground
    on = evaluate_options(with_shock(exposed, "on"), 200)
    off = evaluate_options(with_shock(exposed, "off"), 200)
    as_requested = [s.option_id for s in on].index("approve-as-requested")
    assert on[as_requested].default_rate > off[as_requested].default_rate


def test_naive_play_through_the_stages_scores_below_the_expert(cases):
    for slug in ("kiosk-visits", "lane-book"):
        audit = audit_staged(cases[slug], variants=6, seeds=100, flags=[])
        expert = np.mean(audit.scores["expert"])
        assert expert >= 85
        for name in ("always-reject", "approve-as-requested", "first-listed-reasons"):
            assert np.mean(audit.scores[name]) < expert - 25, (slug, name)


def test_a_visits_key_follows_what_the_visit_shows(cases):
    """A later stage's key is not the same in every variant: whether the loan is behind
    decides its flags (flags_behind) and which reasons are key (when_behind), so the
    answer remembered from another attempt misses where the loan stands now."""
    template = cases["kiosk-visits"]
    keys = {}
    for seed in range(12):
        played = walk(template, seed, ["approve-as-requested", "keep-collecting"])
        if played.ended:
            continue
        stage, visit = played.cases[-1], played.visits[-1]
        keys[visit.behind] = (set(stage.key_flags), list(stage.spec.key.key_reasons))
    assert set(keys) == {True, False}, "the fixture should show the loan both behind and current"
    behind_flags, behind_reasons = keys[True]
    current_flags, current_reasons = keys[False]
    assert "bureau-arrears-or-rescheduling" in behind_flags - current_flags
    assert "v2-collect" in behind_reasons and "v2-collect" not in current_reasons
    assert "v2-recover" in current_reasons and "v2-recover" not in behind_reasons
