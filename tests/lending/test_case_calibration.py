"""Each template teaches what its file says: in every variant the model's best option respects
client protection, and the file's own answer is the best in some of them (variants where
other facts hold have other answers: tests/lending/test_audit.py wants them)."""

from __future__ import annotations

from collections import Counter

import pytest

from courseware.lending.cases import Case
from courseware.lending.simulation import evaluate_options
from courseware.lending.variants import draw_variant
from tests.lending.test_cases import SLUGS

VARIANTS = 24


@pytest.mark.parametrize("slug", sorted(SLUGS))
def test_every_variants_best_option_protects_the_client(
    library: dict[str, Case], slug: str
) -> None:
    template = library[slug]
    wins: Counter[str] = Counter()
    for seed in range(VARIANTS):
        stats = evaluate_options(draw_variant(template, seed), 200)
        best = [s for s in stats if s.is_best]
        assert len(best) == 1 and best[0].client_protection_ok, (slug, seed)
        wins[best[0].option_id] += 1
    # The answer the file names (its tie-breaker, and the debrief's main story) is the model's
    # answer in some of the variants; other facts present in others call for other answers.
    assert wins[template.spec.key.best_option] >= 1, (slug, dict(wins))
