"""Case templates and their variants: a fresh case on every attempt.

A case file is a template. Its ``variation`` block says how the figures vary
(factors for sales, household expenses, fixed costs and other income, each
scaling the dossier's figures and the hidden ones together) and which facts
are present only in some variants (``toggles``: a red flag, the story lines
that show it, what it changes in the hidden figures and in the key).
``draw_variant`` turns a template and a seed into a Case like any other, so
the dossier, the calculator, the simulation and the grading all read the same
variant. Texts may name the variant's figures as ``{ratio}``, ``{installment}``,
``{surplus}``, ``{sales}`` and ``{expenses}``; they are filled from the same
computation the calculator shows (``dossier_figures``).
"""

from __future__ import annotations

import hashlib
import math
import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from pydantic import ValidationError

from courseware.core.errors import N_, ContentError
from courseware.lending.arithmetic import installment_declining, installment_flat
from courseware.lending.case_schema import CaseFile, KeyFlag, Reason, Toggle, ToggleParams
from courseware.lending.params import deep_merge, override_model
from courseware.lending.world import stream_key

PLACEHOLDERS = ("ratio", "installment", "surplus", "sales", "expenses")
# Capacity flags the variant's own figures decide (where the dossier gives daily sales).
RATIO_FLAGS = {"installment-over-50": 0.5, "installment-over-80": 0.8}
NEGATIVE_FLAG = "negative-or-volatile-surplus"  # added where the dossier's surplus is <= 0
NO_SURPLUS = "無法計算（盈餘為零或負數）"  # {ratio} where there is no positive surplus


@dataclass(frozen=True)
class DossierFigures:
    """A month of the household's cash flow before the new loan, from the dossier alone.

    ``monthly_sales`` and ``surplus`` are None when the dossier gives no number of good,
    normal and slow days (a seasonal business): the trainee estimates them.
    """

    monthly_sales: float | None
    margin: float
    gross_profit: float | None
    fixed_costs: float
    household_income: float
    household_expenses: float
    other_debt_service: float
    surplus: float | None
    installment: float  # the requested loan's equal installment
    ratio: float | None  # installment / surplus; inf when the surplus is not positive


def _installment(amount: float, rate: float, term: int, rate_type: str) -> float:
    if rate_type == "flat":
        return installment_flat(amount, rate, term)
    return installment_declining(amount, rate, term)


def dossier_figures(spec: CaseFile) -> DossierFigures:
    dossier = spec.dossier
    business = dossier.business
    days = business.sales_days
    sales = None
    if days is not None:
        s = business.sales
        sales = s.good_day * days.good + s.normal_day * days.normal + s.slow_day * days.slow
    fixed = sum(item.amount for item in business.fixed_costs)
    income = sum(item.amount for item in dossier.household_budget.income)
    expenses = sum(item.amount for item in dossier.household_budget.expenses)
    existing = dossier.existing_loan
    debts = sum(
        line.installment
        for line in dossier.credit_bureau.lenders
        # The loan being decided on is in the bureau too: it is not "other" debt.
        if existing is None
        or not (
            math.isclose(line.balance, existing.balance)
            and math.isclose(line.installment, existing.installment)
        )
    )
    gross = sales * business.margin if sales is not None else None
    surplus = gross - fixed + income - expenses - debts if gross is not None else None
    request = dossier.request
    installment = _installment(
        request.amount, request.monthly_rate, request.term, request.rate_type
    )
    ratio = None
    if surplus is not None:
        ratio = installment / surplus if surplus > 0 else float("inf")
    return DossierFigures(
        sales, business.margin, gross, fixed, income, expenses, debts, surplus, installment, ratio
    )


def placeholder_values(figures: DossierFigures) -> dict[str, str]:
    """The texts' {names}, as the page prints them (whole amounts, whole percent)."""
    values = {
        "installment": f"{figures.installment:,.0f}",
        "expenses": f"{figures.household_expenses:,.0f}",
    }
    if figures.monthly_sales is not None:
        values["sales"] = f"{figures.monthly_sales:,.0f}"
    if figures.surplus is not None:
        values["surplus"] = f"{figures.surplus:,.0f}"
    if figures.ratio is not None:
        # No positive surplus: the installment is no share of it; the text says so.
        finite = math.isfinite(figures.ratio)
        values["ratio"] = f"{round(figures.ratio * 100)}%" if finite else NO_SURPLUS
    return values


def text_fields(text: str) -> list[str]:
    """The {names} a text uses."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def fill(text: str, values: Mapping[str, str]) -> str:
    if "{" not in text:
        return text
    return text.format_map({name: values.get(name, "{" + name + "}") for name in text_fields(text)})


@dataclass(frozen=True)
class Draw:
    """The random part of a variant: its factors and which toggles are present."""

    factors: Mapping[str, float]
    present: frozenset[str]


def draw_factors(spec: CaseFile, seed: int) -> Draw:
    """The variant's factors and toggles for ``seed`` (its own stream: the same seed gives
    the same variant in every process)."""
    variation = spec.variation
    rng = np.random.default_rng(stream_key(spec.slug, int(seed), "variant"))
    factors: dict[str, float] = {}
    present: set[str] = set()
    if variation is None:
        return Draw({}, frozenset())
    for name in ("sales", "expenses", "fixed_costs", "income"):
        spread = getattr(variation, name)
        u = float(rng.random())  # always drawn, so adding a spread never shifts the others
        if spread is not None:
            factors[name] = spread.min + (spread.max - spread.min) * u
    for toggle in variation.toggles:
        if float(rng.random()) < toggle.prob:
            present.add(toggle.id)
    return Draw(factors, frozenset(present))


def _nice(value: float) -> float:
    """A figure as a dossier would state it: to 100 from 1,000, to 10 from 100."""
    step = 100 if value >= 1000 else 10 if value >= 100 else 1
    return float(max(0.0, round(value / step) * step))


def _scale_items(items: list[dict[str, Any]], factor: float) -> float:
    """Scale the dossier's lines; the factor they actually moved by (after rounding)."""
    before = sum(item["amount"] for item in items)
    for item in items:
        item["amount"] = _nice(item["amount"] * factor)
    after = sum(item["amount"] for item in items)
    return after / before if before else factor


def _apply(spec: CaseFile, draw: Draw) -> dict[str, Any]:
    data = spec.model_dump()
    dossier, params = data["dossier"], data["params"]
    f = draw.factors
    fs, fe, ff, fi = (f.get(k, 1.0) for k in ("sales", "expenses", "fixed_costs", "income"))
    business = dossier["business"]
    sales = business["sales"]
    before = sales["good_day"] + sales["normal_day"] + sales["slow_day"]
    for key in ("good_day", "normal_day", "slow_day"):
        sales[key] = _nice(sales[key] * fs)
    after = sales["good_day"] + sales["normal_day"] + sales["slow_day"]
    # The hidden figures move exactly as far as the dossier's rounded ones did.
    fs = after / before if before else fs
    ff = _scale_items(business["fixed_costs"], ff)
    fe = _scale_items(dossier["household_budget"]["expenses"], fe)
    fi = _scale_items(dossier["household_budget"]["income"], fi)
    people = [params, *(params.get("members") or [])]
    for person in people:
        for key, factor in (
            ("base_sales", fs),
            ("household_expenses", fe),
            ("fixed_costs", ff),
            ("other_income", fi),
        ):
            if person.get(key) is not None:
                person[key] = round(person[key] * factor, 2)

    toggles: dict[str, Toggle] = {
        t.id: t for t in (spec.variation.toggles if spec.variation else [])
    }
    key = data["key"]
    for toggle_id, toggle in toggles.items():
        if toggle_id not in draw.present:
            dossier["site_visit"].extend(toggle.site_visit_absent)
            continue
        dossier["site_visit"].extend(toggle.site_visit)
        dossier["references"].extend(r.model_dump() for r in toggle.references)
        dossier["documents"].extend(d.model_dump() for d in toggle.documents)
        dossier["credit_bureau"]["lenders"].extend(b.model_dump() for b in toggle.bureau)
        dossier["household_budget"]["expenses"].extend(e.model_dump() for e in toggle.expenses)
        params["household_expenses"] += sum(e.amount for e in toggle.expenses)
        params["other_debt_service"] += sum(b.installment for b in toggle.bureau)
        if toggle.params is not None:
            apply_params(params, toggle.params)
        present = {_flag_id(f) for f in key["red_flags"]}
        for flag in ([toggle.flag] if toggle.flag else []) + list(toggle.flags):
            if flag in present:
                continue
            present.add(flag)
            key["red_flags"].append(
                {"id": flag, "severity": toggle.severity} if toggle.severity else flag
            )
        data["reasons"].extend(r.model_dump() for r in toggle.reasons)
        for option in data["options"]:
            if option["id"] in toggle.procedures:
                option["procedure"] = toggle.procedures[option["id"]].model_dump()
        key["key_reasons"] = [r for r in key["key_reasons"] if r not in toggle.key_reasons_drop]
        key["key_reasons"].extend(r for r in toggle.key_reasons_add if r not in key["key_reasons"])
        if toggle.key_reasons_replace is not None:
            key["key_reasons"] = list(toggle.key_reasons_replace)
        if toggle.flags_drop:
            key["red_flags"] = [f for f in key["red_flags"] if _flag_id(f) not in toggle.flags_drop]
    return data


def apply_params(params: dict[str, Any], changes: ToggleParams) -> None:
    """Lay a toggle's (or a later stage's) changes over the hidden params, in place."""
    params["other_debt_service"] += changes.other_debt_service
    params["savings"] = round(params["savings"] * changes.savings_factor, 2)
    params["base_sales"] = round(params["base_sales"] * changes.base_sales_factor, 2)
    params["other_income"] += changes.other_income
    if changes.ramp is not None:
        params["ramp"] = list(changes.ramp)
    if changes.willingness is not None:
        params["willingness"] = changes.willingness
    if changes.loan_use is not None:
        params["loan_use"] = changes.loan_use.model_dump()
    if changes.model_overrides:
        params["model_overrides"] = deep_merge(
            params.get("model_overrides") or {}, changes.model_overrides
        )
    if params.get("guarantor") is not None:
        params["guarantor"]["capacity"] *= changes.guarantor_capacity_factor


def _reason_holds(reason: Reason, ratio: float | None, present: frozenset[str]) -> bool:
    if any(t not in present for t in reason.when_present):
        return False
    if any(t in present for t in reason.when_absent):
        return False
    if ratio is None:
        return True
    if reason.ratio_below is not None and not ratio < reason.ratio_below:
        return False
    return not (reason.ratio_above is not None and not ratio > reason.ratio_above)


def _finish(spec: CaseFile, data: dict[str, Any], present: frozenset[str]) -> dict[str, Any]:
    """Fill the texts, decide the ratio flags and the key reasons from the variant's figures."""
    key = data["key"]
    candidates = list(key["key_reasons"])
    key["key_reasons"] = candidates[:3]  # toggles may have added more; trimmed below
    variant = CaseFile.model_validate(data)
    figures = dossier_figures(variant)
    values = placeholder_values(figures)
    reasons = [Reason.model_validate(r) for r in data["reasons"]]
    holds = {r.id for r in reasons if _reason_holds(r, figures.ratio, present)}
    key["key_reasons"] = [r for r in candidates if r in holds][:3]
    decides_ratio = (
        figures.ratio is not None
        and variant.params.members is None
        and variant.params.existing_loan is None
        and variant.variation is not None
    )
    if decides_ratio:
        assert figures.ratio is not None
        flags = [f for f in key["red_flags"] if _flag_id(f) not in RATIO_FLAGS]
        for flag_id, threshold in RATIO_FLAGS.items():
            if figures.ratio > threshold:
                flags.append(flag_id)
        listed = {_flag_id(f) for f in flags}
        if not math.isfinite(figures.ratio) and NEGATIVE_FLAG not in listed:
            flags.append(NEGATIVE_FLAG)
        key["red_flags"] = flags
    for r in data["reasons"]:
        r["text"] = fill(r["text"], values)
    key["debrief"] = fill(key["debrief"], values)
    data["summary"] = fill(data["summary"], values)
    data["dossier"]["site_visit"] = [fill(line, values) for line in data["dossier"]["site_visit"]]
    return data


def _flag_id(entry: Any) -> str:
    return entry["id"] if isinstance(entry, Mapping) else entry


def variant_spec(spec: CaseFile, draw: Draw) -> CaseFile:
    """The template with one draw applied: a case file of its own, validated."""
    return CaseFile.model_validate(_finish(spec, _apply(spec, draw), draw.present))


def key_flags_of(spec: CaseFile, catalogue: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in spec.key.red_flags:
        if isinstance(entry, KeyFlag):
            found[entry.id] = entry.severity
        else:
            flag = catalogue.get(entry)
            found[entry] = flag.severity if flag else "minor"
    return found


def draw_variant(case: Any, seed: int) -> Any:
    """The variant of ``case`` (a lending.cases.Case) for ``seed``: a Case like any other,
    with ``variant_seed`` set and a content hash of its own."""
    return case_for_draw(case, draw_factors(case.spec, seed), seed)


def case_for_draw(case: Any, draw: Draw, seed: int) -> Any:
    spec = variant_spec(case.spec, draw)
    model = case.model
    if spec.params.model_overrides != case.spec.params.model_overrides:
        # A toggle changed the model (e.g. the return on capital): lay its overrides over
        # the case's model. check_template has checked that they validate.
        overrides = _toggle_overrides(case.spec, draw)
        model, _errors = override_model("", case.model, overrides, "variation")
        assert model is not None, _errors
    digest = hashlib.sha256(
        f"{case.content_hash}\x1f{seed}\x1f{sorted(draw.factors.items())}".encode()
    )
    digest.update(",".join(sorted(draw.present)).encode())
    return replace(
        case,
        spec=spec,
        model=model,
        key_flags=key_flags_of(spec, case.catalogue),
        content_hash=digest.hexdigest(),
        variant_seed=int(seed),
        toggles=tuple(sorted(draw.present)),
        template_hash=case.content_hash,
    )


def _toggle_overrides(spec: CaseFile, draw: Draw) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for toggle in spec.variation.toggles if spec.variation else ():
        if toggle.id in draw.present and toggle.params and toggle.params.model_overrides:
            merged = deep_merge(merged, toggle.params.model_overrides)
    return merged


def shuffled_reasons(reasons: Sequence[Reason], seed: int, slug: str) -> list[Reason]:
    """The reasons in an order of this attempt's own (not the file's order)."""
    order = list(reasons)
    random.Random(f"{slug}\x1f{seed}\x1freasons").shuffle(order)  # noqa: S311 - not security
    return order


# Checking a template ---------------------------------------------------------------


def corner_draws(spec: CaseFile) -> list[Draw]:
    """The variants a check must see: every factor at its low and its high end, with no
    toggle, each toggle alone, and all toggles together."""
    variation = spec.variation
    if variation is None:
        return [Draw({}, frozenset())]
    names = [n for n in ("sales", "expenses", "fixed_costs", "income") if getattr(variation, n)]
    ids = [t.id for t in variation.toggles]
    sets = [frozenset(), *(frozenset([i]) for i in ids), frozenset(ids)]
    draws: list[Draw] = []
    # Low sales with high costs is the tightest variant; high sales with low costs the loosest.
    for tight in (True, False):
        factors = {}
        for name in names:
            spread = getattr(variation, name)
            low_is_tight = name in ("sales", "income")
            factors[name] = spread.min if tight == low_is_tight else spread.max
        draws.extend(Draw(factors, present) for present in sets)
    return draws


def check_template(path: str, spec: CaseFile, model: Any = None) -> list[ContentError]:
    """Every variant's texts resolve, its key keeps a reason, and it validates."""
    toggles = spec.variation.toggles if spec.variation else []
    errors = _duplicate_toggles(path, toggles)
    known = set(placeholder_values(dossier_figures(spec)))
    errors += _check_texts(path, _template_texts(spec, toggles), known)
    if model is not None:
        errors += _check_toggle_overrides(path, toggles, model)
    if errors:
        return errors
    return _check_corners(path, spec)


def _duplicate_toggles(path: str, toggles: Sequence[Toggle]) -> list[ContentError]:
    errors: list[ContentError] = []
    seen: set[str] = set()
    for i, toggle in enumerate(toggles):
        if toggle.id in seen:
            errors.append(
                ContentError(
                    path, f"variation.toggles[{i}].id", N_("duplicate id %(id)s"), {"id": toggle.id}
                )
            )
        seen.add(toggle.id)
    return errors


def _template_texts(spec: CaseFile, toggles: Sequence[Toggle]) -> list[tuple[str, str]]:
    """(where, text) of every text that may name the variant's figures."""
    texts = [("summary", spec.summary), ("key.debrief", spec.key.debrief)]
    texts += [(f"reasons[{i}].text", r.text) for i, r in enumerate(spec.reasons)]
    texts += [(f"dossier.site_visit[{i}]", line) for i, line in enumerate(spec.dossier.site_visit)]
    for i, toggle in enumerate(toggles):
        texts += [
            (f"variation.toggles[{i}].reasons[{j}].text", r.text)
            for j, r in enumerate(toggle.reasons)
        ]
    return texts


def _check_texts(
    path: str, texts: Sequence[tuple[str, str]], known: set[str]
) -> list[ContentError]:
    """Each {name} is a figure the page can fill from this dossier."""
    errors: list[ContentError] = []
    for where, text in texts:
        try:
            names = text_fields(text)
        except ValueError:
            errors.append(ContentError(path, where, N_("unbalanced { or } in the text")))
            continue
        for name in names:
            if name not in PLACEHOLDERS:
                errors.append(
                    ContentError(
                        path,
                        where,
                        N_("unknown figure {%(name)s}; use one of: %(expected)s"),
                        {"name": name, "expected": ", ".join(PLACEHOLDERS)},
                    )
                )
            elif name not in known:
                errors.append(
                    ContentError(
                        path,
                        where,
                        N_("{%(name)s} cannot be computed: the dossier gives no daily sales"),
                        {"name": name},
                    )
                )
    return errors


def _check_toggle_overrides(path: str, toggles: Sequence[Toggle], model: Any) -> list[ContentError]:
    """A toggle's model overrides validate over the case's model."""
    errors: list[ContentError] = []
    for i, toggle in enumerate(toggles):
        if toggle.params and toggle.params.model_overrides:
            _model, found = override_model(
                path, model, toggle.params.model_overrides, f"variation.toggles[{i}].params"
            )
            errors.extend(found)
    return errors


def _check_corners(path: str, spec: CaseFile) -> list[ContentError]:
    """Every corner variant validates and keeps a key reason (the first failure only)."""
    for draw in corner_draws(spec):
        try:
            variant = variant_spec(spec, draw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            return [
                ContentError(
                    path,
                    "variation",
                    N_("a variant does not validate: %(field)s: %(problem)s"),
                    {"field": where, "problem": first["msg"]},
                )
            ]
        if not variant.key.key_reasons:
            return [
                ContentError(
                    path,
                    "key.key_reasons",
                    N_("no key reason holds in the variant with %(toggles)s"),
                    {"toggles": ", ".join(sorted(draw.present)) or "-"},
                )
            ]
    return []
