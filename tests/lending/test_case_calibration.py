"""Each case's expert answer is the model's best option (client protection respected)."""

from __future__ import annotations

import pytest

from courseware.lending.cases import Case
from courseware.lending.simulation import evaluate_options
from tests.lending.test_cases import SLUGS


@pytest.mark.parametrize("slug", sorted(SLUGS))
def test_expert_option_is_the_best_in_the_model(library: dict[str, Case], slug: str) -> None:
    case = library[slug]
    stats = {s.option_id: s for s in evaluate_options(case, 500)}
    expert = stats[case.spec.key.best_option]
    assert expert.client_protection_ok, slug
    best_protected = max(s.expected_profit for s in stats.values() if s.client_protection_ok)
    # The expert's pick has the highest expected profit among the options that respect
    # client protection; anything that earns more breaks it (and is capped in scoring).
    assert expert.expected_profit == pytest.approx(best_protected), slug
    assert expert.is_best, slug
