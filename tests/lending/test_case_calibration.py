"""Each template teaches what its file says: the expert's option is the model's best in a
good share of its variants, and the best option always respects client protection."""

from __future__ import annotations

from collections import Counter

import pytest

from courseware.lending.cases import Case
from courseware.lending.simulation import evaluate_options
from courseware.lending.variants import draw_variant
from tests.lending.test_cases import SLUGS

VARIANTS = 12


@pytest.mark.parametrize("slug", sorted(SLUGS))
def test_the_files_best_option_wins_in_its_variants(library: dict[str, Case], slug: str) -> None:
    template = library[slug]
    wins: Counter[str] = Counter()
    for seed in range(VARIANTS):
        stats = evaluate_options(draw_variant(template, seed), 200)
        best = [s for s in stats if s.is_best]
        assert len(best) == 1 and best[0].client_protection_ok, (slug, seed)
        wins[best[0].option_id] += 1
    # Where a fact present in some variants calls for another decision, another option
    # wins there; the file's answer must still win in at least a third of the variants.
    assert wins[template.spec.key.best_option] >= VARIANTS / 3, (slug, dict(wins))
