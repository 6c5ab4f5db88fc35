"""Benchmark and calibration table: ``python -m courseware.ops.case_bench [case folder]``.

Prints the cold time of drawing a variant and evaluating all its options
(500 seeds, cache cleared) for every case template, the slowest of ``--variants``
variants each, and the maximum; with ``--table`` also each option's default
rate, expected profit, household gain, value and client-protection figures
(of variant 0), which is what a trainer checks when calibrating a case.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from courseware.lending.cases import load_case_dir
from courseware.lending.simulation import clear_cache, evaluate_options
from courseware.lending.variants import draw_variant

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "case_studies"
TARGET_MS = 150.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--variants", type=int, default=5, help="variants timed per case")
    parser.add_argument("--table", action="store_true", help="print each option's statistics")
    args = parser.parse_args(argv)

    cases, errors = load_case_dir(args.folder)
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if not cases:
        return 1
    timings: dict[str, float] = {}
    for slug, template in sorted(cases.items()):
        slowest = 0.0
        for seed in range(args.variants):
            clear_cache()
            start = time.perf_counter()
            stats = evaluate_options(draw_variant(template, seed), args.seeds)
            slowest = max(slowest, (time.perf_counter() - start) * 1000)
            if seed == 0:
                table = stats
        timings[slug] = slowest
        print(f"{slug:32s} {len(table)} options  {timings[slug]:7.1f} ms")
        if args.table:
            for s in table:
                mark = "*" if s.is_best else " "
                ok = "" if s.client_protection_ok else "  (breaks client protection)"
                print(
                    f"   {mark} {s.option_id:30s} PD {s.default_rate:6.1%}  "
                    f"EV {s.expected_profit:10,.0f}  gain {s.expected_welfare:10,.0f}  "
                    f"value {s.value:10,.0f}  P(sacrifice) {s.p_sacrifice:5.1%}  "
                    f"worst month {s.worst_month_ratio:5.2f}{ok}"
                )
    worst = max(timings.values())
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(f"max {worst:.1f} ms ({verdict} the {TARGET_MS:.0f} ms target, {args.seeds} seeds)")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
