"""The random world a loan meets: named streams with common random numbers.

Each stream (sales noise, illness, downturn, weather, willingness, guarantor)
has its own generator, seeded from a SHA-256 hash of (case slug, seed, stream
name). The generator is SplitMix64 evaluated in closed form, so the draws for
every seed and month are computed at once with NumPy: month m of a stream is
always the m-th number, whatever happens in the loan and whatever the option.
Every decision option for the same seed therefore faces the same world.

On top of the raw draws this module computes what does not depend on the
decision: sales, illness and downturn episodes, harvest factors and the
household's monthly cash flow before any loan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from courseware.lending.case_schema import Household, Params
from courseware.lending.params import ModelParams

PER_BORROWER_STREAMS = ("sales", "illness", "willingness", "guarantor")
SHARED_STREAMS = ("downturn", "weather")

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO32 = 4294967296.0


def stream_key(slug: str, seed: int, stream: str) -> int:
    """A stable 64-bit seed for one stream (not Python's hash, which varies by process)."""
    digest = hashlib.sha256(f"{slug}\x1f{seed}\x1f{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _splitmix(keys: np.ndarray, months: int) -> np.ndarray:
    """The first ``months`` outputs of SplitMix64 for each key: shape (len(keys), months)."""
    steps = np.arange(1, months + 1, dtype=np.uint64)
    z = keys[:, None] + steps[None, :] * _GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def uniforms(keys: np.ndarray, months: int) -> np.ndarray:
    """Uniform draws in (0, 1), one per month."""
    return ((_splitmix(keys, months) >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def normals(keys: np.ndarray, months: int) -> np.ndarray:
    """Standard normal draws, one per month (Box-Muller on the two halves of one number)."""
    z = _splitmix(keys, months)
    u1 = ((z >> np.uint64(32)).astype(np.float64) + 0.5) / _TWO32
    u2 = ((z & np.uint64(0xFFFFFFFF)).astype(np.float64) + 0.5) / _TWO32
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def _keys(slug: str, seeds: Sequence[int], stream: str) -> np.ndarray:
    return np.array([stream_key(slug, int(s), stream) for s in seeds], dtype=np.uint64)


def _stream_name(name: str, borrower: int) -> str:
    return name if borrower == 0 else f"{name}/{borrower}"


@dataclass(frozen=True)
class Draws:
    """Raw draws: per-borrower streams (S, B, M), shared streams (S, M)."""

    seeds: tuple[int, ...]
    sales_z: np.ndarray
    illness_u: np.ndarray
    willingness_u: np.ndarray
    guarantor_u: np.ndarray
    downturn_u: np.ndarray
    weather_u: np.ndarray


def draw(slug: str, seeds: Sequence[int], borrowers: int, months: int) -> Draws:
    per: dict[str, np.ndarray] = {}
    for name in PER_BORROWER_STREAMS:
        layers = []
        for b in range(borrowers):
            keys = _keys(slug, seeds, _stream_name(name, b))
            layers.append(normals(keys, months) if name == "sales" else uniforms(keys, months))
        per[name] = np.stack(layers, axis=1)
    return Draws(
        seeds=tuple(int(s) for s in seeds),
        sales_z=per["sales"],
        illness_u=per["illness"],
        willingness_u=per["willingness"],
        guarantor_u=per["guarantor"],
        downturn_u=uniforms(_keys(slug, seeds, "downturn"), months),
        weather_u=uniforms(_keys(slug, seeds, "weather"), months),
    )


@dataclass(frozen=True)
class Households:
    """Borrowers' figures as arrays of shape (B,), months and seasons as (B, M)."""

    names: tuple[str, ...]
    requested: np.ndarray
    household_expenses: np.ndarray
    savings: np.ndarray
    willingness: np.ndarray  # chance the borrower is willing (character drawn once per loan)
    fraud: np.ndarray  # (B,) bool: a ghost borrower, the money leaves and nothing is paid
    expected_surplus: np.ndarray  # (B, M): pre-loan surplus with no shocks and mean noise


def _household_list(params: Params) -> list[tuple[str, Household, float]]:
    if not params.members:
        return [("", params, 0.0)]
    return [(m.name, m.household(params), m.requested) for m in params.members]


def _willingness(h: Household, model: ModelParams) -> float:
    if h.willingness_prob is not None:
        return h.willingness_prob
    return float(getattr(model.willingness, h.willingness))


def harvest_mask(params: Params, months: int) -> np.ndarray:
    """(M,) bool: loan month m (index m-1) falls in a harvest calendar month."""
    calendar = (params.start_month - 1 + np.arange(1, months + 1)) % 12 + 1
    return np.isin(calendar, params.harvest_months)


def _episodes(starts: np.ndarray, length: int) -> np.ndarray:
    """True where an episode that starts at a True lasts ``length`` months (last axis)."""
    counts = np.cumsum(starts, axis=-1, dtype=np.int32)
    lagged = np.zeros_like(counts)
    lagged[..., length:] = counts[..., :-length]
    return (counts - lagged) > 0


@dataclass(frozen=True)
class World:
    """What every option of one case meets, for a set of seeds."""

    draws: Draws
    households: Households
    harvest_months: np.ndarray  # (M,) bool
    harvest_factor: np.ndarray  # (S, M), 1 outside harvest months
    illness_start: np.ndarray  # (S, B, M) bool
    illness_cost: np.ndarray  # (S, B, M)
    downturn_start: np.ndarray  # (S, M) bool
    cash_flow: np.ndarray  # (S, B, M): pre-loan monthly surplus before shock expenses
    shock_hit: np.ndarray | None = None  # (S,) bool: a book's shared shock hit in this run


def shock_draws(params: Params, seeds: Sequence[int], months: int) -> tuple[np.ndarray, np.ndarray]:
    """((S,) whether the shared shock hits, (S, M) its sales factor). The stream is keyed
    by the book, not the loan, so every loan of a book sees the same draw for a seed."""
    shock = params.shock
    count = len(seeds)
    if shock is None:
        return np.zeros(count, dtype=bool), np.ones((count, months))
    if shock.force is not None:
        hit = np.full(count, shock.force == "on")
    else:
        hit = uniforms(_keys(shock.key, seeds, "shock"), 1)[:, 0] < shock.prob
    window = np.zeros(months, dtype=bool)
    window[shock.month - 1 : shock.month - 1 + shock.months] = True
    factor = np.where(hit[:, None] & window[None, :], shock.sales_factor, 1.0)
    return hit, factor


def build_world(
    slug: str, params: Params, model: ModelParams, seeds: Sequence[int], months: int
) -> World:
    people = _household_list(params)
    count = len(people)
    d = draw(slug, seeds, count, months)
    calendar = (params.start_month - 1 + np.arange(1, months + 1)) % 12  # 0-based month index
    harvest = harvest_mask(params, months)

    # Harvest quality: one draw per harvest, taken at the first month of each harvest run.
    run_start = np.arange(months)
    for m in range(1, months):
        if harvest[m] and harvest[m - 1]:
            run_start[m] = run_start[m - 1]
    thresholds = np.cumsum(model.harvest.probs)[:-1]
    factors = np.asarray(model.harvest.factors)
    drawn = factors[np.searchsorted(thresholds, d.weather_u[:, run_start], side="right")]
    harvest_factor = np.where(harvest[None, :], drawn, 1.0)

    ill = model.illness
    illness_start = d.illness_u < ill.monthly_prob
    ill_mult = np.where(_episodes(illness_start, ill.months), ill.sales_factor, 1.0)
    down = model.downturn
    downturn_start = d.downturn_u < down.monthly_prob
    down_mult = np.where(_episodes(downturn_start, down.months), down.sales_factor, 1.0)

    sigma = np.array(
        [h.sales_sigma if h.sales_sigma is not None else model.sales_sigma for _, h, _ in people]
    )
    season = np.array([[h.season[c] for c in calendar] for _, h, _ in people])  # (B, M)
    ramp = np.ones((count, months))
    for b, (_, h, _) in enumerate(people):
        n = min(len(h.ramp), months)
        ramp[b, :n] = h.ramp[:n]
    base = np.array([h.base_sales for _, h, _ in people])[:, None] * season * ramp
    noise = np.exp(sigma[None, :, None] * d.sales_z - 0.5 * sigma[None, :, None] ** 2)
    shock_hit, shock_mult = shock_draws(params, d.seeds, months)
    sales = base[None] * noise * ill_mult * (down_mult * harvest_factor * shock_mult)[:, None, :]

    margin = np.array([h.margin for _, h, _ in people])
    fixed = np.array(
        [
            h.fixed_costs + h.household_expenses + h.other_debt_service - h.other_income
            for _, h, _ in people
        ]
    )
    cash_flow = sales * margin[None, :, None] - fixed[None, :, None]
    expenses = np.array([h.household_expenses for _, h, _ in people])
    illness_cost = illness_start * (ill.cost_share_of_household_expenses * expenses)[None, :, None]

    expected_harvest = np.where(harvest, model.harvest.expected_factor, 1.0)
    expected = base * expected_harvest[None, :] * margin[:, None] - fixed[:, None]
    households = Households(
        names=tuple(name for name, _, _ in people),
        requested=np.array([r for _, _, r in people]),
        household_expenses=expenses,
        savings=np.array([h.savings for _, h, _ in people]),
        willingness=np.array([_willingness(h, model) for _, h, _ in people]),
        fraud=np.array([h.willingness == "ghost" for _, h, _ in people]),
        expected_surplus=expected,
    )
    return World(
        draws=d,
        households=households,
        harvest_months=harvest,
        harvest_factor=harvest_factor,
        illness_start=illness_start,
        illness_cost=illness_cost,
        downturn_start=downturn_start,
        cash_flow=cash_flow,
        shock_hit=shock_hit,
    )
