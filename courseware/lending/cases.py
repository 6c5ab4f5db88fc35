"""Load and check case files; resolve each decision option's effective loan terms.

``parse_case`` works on text, since the platform keeps case revisions in its
database; ``load_case_dir`` reads a folder of files (model.yaml, red_flags.yaml
and one YAML file per case). Every problem comes back as a located ContentError.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from courseware.core.errors import N_, ContentError, safe_load_yaml, validate_model
from courseware.lending.arithmetic import harvest_schedule
from courseware.lending.case_schema import Allowed, BookFile, CaseFile, KeyFlag, Option, Params
from courseware.lending.params import (
    ModelParams,
    RedFlagCatalogue,
    load_model_params,
    load_red_flags,
    override_model,
)
from courseware.lending.pricing import check_prices
from courseware.lending.stages import book_loan_spec, check_stages
from courseware.lending.terms import (
    OPTION_KINDS,
    OptionKind,
    Terms,
    harvest_loan_months,
    resolve_terms,
)
from courseware.lending.variants import check_template, key_flags_of

__all__ = [
    "OPTION_KINDS",
    "Case",
    "OptionKind",
    "Terms",
    "harvest_loan_months",
    "load_case_dir",
    "load_shared",
    "parse_case",
    "resolve_terms",
]

MODEL_FILE = "model.yaml"
RED_FLAGS_FILE = "red_flags.yaml"


@dataclass(frozen=True)
class Case:
    spec: CaseFile
    model: ModelParams
    catalogue: RedFlagCatalogue
    key_flags: Mapping[str, str]  # red-flag id -> severity in this case
    content_hash: str
    # Set on a variant drawn from this case as a template (lending.variants):
    variant_seed: int | None = None
    toggles: tuple[str, ...] = ()  # the optional facts present in this variant
    template_hash: str | None = None  # the template's content hash
    parts: tuple[Case, ...] = ()  # a village book's loans, as templates (lending.stages)

    @property
    def slug(self) -> str:
        return self.spec.slug

    @property
    def title(self) -> str:
        return self.spec.title

    @property
    def options(self) -> list[Option]:
        return self.spec.options

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.spec.options if o.id == option_id), None)

    @property
    def reason_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.spec.reasons)

    @property
    def loan_size(self) -> float:
        """The money at stake: the existing balance, or the requested amount."""
        existing = self.spec.params.existing_loan
        return existing.balance if existing else self.spec.dossier.request.amount

    def terms(self, option_id: str) -> Terms:
        option = self.option(option_id)
        if option is None:
            raise KeyError(option_id)
        return resolve_terms(self.spec, option, self.model)


class _OptionErrors:
    """Errors found in one option, each located under ``where`` (options[i])."""

    def __init__(self, path: str, where: str) -> None:
        self.path = path
        self.where = where
        self.found: list[ContentError] = []

    def add(self, field: str, message: str, **values: object) -> None:
        where = f"{self.where}.{field}" if field else self.where
        self.found.append(ContentError(self.path, where, message, values))


def _check_option(
    path: str, spec: CaseFile, i: int, option: Option, model: ModelParams
) -> list[ContentError]:
    where = f"options[{i}]"
    kind = OPTION_KINDS.get(option.kind)
    if kind is None:
        return [
            ContentError(
                path,
                f"{where}.kind",
                N_("unknown kind; use one of: %(expected)s"),
                {"expected": ", ".join(OPTION_KINDS)},
            )
        ]
    params = spec.params
    errors = _OptionErrors(path, where)
    if kind.existing_loan and params.existing_loan is None:
        errors.add("kind", N_("this kind needs params.existing_loan"))
        return errors.found
    if not kind.moves_money:
        for name in ("amount", "term", "monthly_rate", "schedule", "member_amounts"):
            if getattr(option, name) is not None:
                errors.add(name, N_("a rejection has no terms of its own; remove this field"))
        return errors.found
    terms = resolve_terms(spec, option, model)
    _check_terms(errors, spec.allowed, option, kind, terms)
    if terms.guarantor and params.guarantor is None:
        errors.add("guarantor", N_("a guarantor option needs params.guarantor"))
    if terms.schedule == "harvest":
        _check_harvest(errors, params, terms)
    _check_members(errors, params, option, terms)
    return errors.found


def _check_terms(
    errors: _OptionErrors, allowed: Allowed, option: Option, kind: OptionKind, terms: Terms
) -> None:
    """The schedule suits the kind; a new loan (and a restructuring's term) stays within
    what the case allows."""
    if option.schedule == "restructure" and option.kind != "restructure":
        errors.add("schedule", N_("the restructure schedule is only for the restructure kind"))
    if kind.existing_loan and option.schedule not in (None, "restructure"):
        errors.add("schedule", N_("an existing loan keeps its schedule unless it is restructured"))
    if option.kind == "restructure" and not allowed.term.min <= terms.term <= allowed.term.max:
        errors.add(
            "term",
            N_("term %(value)s is outside the allowed range %(min)s to %(max)s"),
            value=terms.term,
            min=allowed.term.min,
            max=allowed.term.max,
        )
    if kind.existing_loan:
        return
    if not allowed.amount.min <= terms.amount <= allowed.amount.max:
        errors.add(
            "amount",
            N_("amount %(value)s is outside the allowed range %(min)s to %(max)s"),
            value=terms.amount,
            min=allowed.amount.min,
            max=allowed.amount.max,
        )
    if not allowed.term.min <= terms.term <= allowed.term.max:
        errors.add(
            "term",
            N_("term %(value)s is outside the allowed range %(min)s to %(max)s"),
            value=terms.term,
            min=allowed.term.min,
            max=allowed.term.max,
        )
    if terms.schedule not in allowed.schedules:
        errors.add(
            "schedule",
            N_("schedule %(value)s is not allowed in this case (allowed: %(expected)s)"),
            value=terms.schedule,
            expected=", ".join(allowed.schedules),
        )


def _check_harvest(errors: _OptionErrors, params: Params, terms: Terms) -> None:
    """A harvest schedule needs a harvest inside the term, and (when nothing else is wrong
    with the option) a schedule the arithmetic can build."""
    months = harvest_loan_months(params, terms.term)
    if not months:
        errors.add(
            "schedule",
            N_("a harvest schedule needs a harvest month (params.harvest_months) inside the term"),
        )
    if errors.found:
        return
    try:
        harvest_schedule(terms.amount, terms.monthly_rate, terms.term, months)
    except ValueError as exc:
        errors.add("schedule", str(exc))


def _check_members(errors: _OptionErrors, params: Params, option: Option, terms: Terms) -> None:
    """A group option lends each member an amount that adds up to the loan."""
    if params.members:
        if len(terms.member_amounts) != len(params.members):
            errors.add(
                "member_amounts",
                N_("needs one amount for each of the %(count)s group members"),
                count=len(params.members),
            )
        elif abs(sum(terms.member_amounts) - terms.amount) > 0.5:
            errors.add("amount", N_("must equal the sum of member_amounts"))
        elif sum(terms.member_amounts) <= 0:
            errors.add("member_amounts", N_("at least one member must borrow"))
    elif option.member_amounts is not None:
        errors.add("member_amounts", N_("member amounts need a group (params.members)"))


def _check_case(
    path: str, spec: CaseFile, catalogue: RedFlagCatalogue, model: ModelParams
) -> list[ContentError]:
    errors: list[ContentError] = []
    seen: set[str] = set()
    for i, option in enumerate(spec.options):
        if option.id in seen:
            errors.append(
                ContentError(path, f"options[{i}].id", N_("duplicate id %(id)s"), {"id": option.id})
            )
        seen.add(option.id)
        errors.extend(_check_option(path, spec, i, option, model))
    if spec.key.best_option not in seen:
        errors.append(
            ContentError(
                path,
                "key.best_option",
                N_("no option has the id %(id)s"),
                {"id": spec.key.best_option},
            )
        )
    flag_ids: set[str] = set()
    for i, entry in enumerate(spec.key.red_flags):
        flag_id = entry.id if isinstance(entry, KeyFlag) else entry
        if flag_id not in catalogue:
            errors.append(
                ContentError(
                    path,
                    f"key.red_flags[{i}]",
                    N_("unknown red flag %(id)s (see red_flags.yaml)"),
                    {"id": flag_id},
                )
            )
        elif flag_id in flag_ids:
            errors.append(
                ContentError(
                    path, f"key.red_flags[{i}]", N_("duplicate id %(id)s"), {"id": flag_id}
                )
            )
        flag_ids.add(flag_id)
    reason_ids = [r.id for r in spec.reasons]
    for i, reason_id in enumerate(reason_ids):
        if reason_id in reason_ids[:i]:
            errors.append(
                ContentError(path, f"reasons[{i}].id", N_("duplicate id %(id)s"), {"id": reason_id})
            )
    for i, reason_id in enumerate(spec.key.key_reasons):
        if reason_id not in reason_ids:
            errors.append(
                ContentError(
                    path,
                    f"key.key_reasons[{i}]",
                    N_("no reason has the id %(id)s"),
                    {"id": reason_id},
                )
            )
        elif reason_id in spec.key.key_reasons[:i]:
            errors.append(
                ContentError(
                    path, f"key.key_reasons[{i}]", N_("duplicate id %(id)s"), {"id": reason_id}
                )
            )
    return errors


def content_hash(spec: CaseFile, model: ModelParams) -> str:
    blob = json.dumps(
        {"case": spec.model_dump(mode="json"), "model": model.model_dump(mode="json")},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def parse_case(
    path: str, text: str, catalogue: RedFlagCatalogue, model_defaults: ModelParams
) -> tuple[Case | None, list[ContentError]]:
    """Parse and check one case from its YAML text."""
    data, errors = safe_load_yaml(path, text)
    if errors:
        return None, errors
    if isinstance(data, dict) and "book" in data:
        return _parse_book(path, data, catalogue, model_defaults)
    spec, errors = validate_model(CaseFile, path, data)
    if spec is None:
        return None, errors
    case, errors = _build_case(path, spec, catalogue, model_defaults)
    if case is not None and spec.stages:
        errors = check_stages(path, case, _check_stage)
        if errors:
            return None, errors
    return case, errors


def _build_case(
    path: str,
    spec: CaseFile,
    catalogue: RedFlagCatalogue,
    model_defaults: ModelParams,
    prefix: str = "",
) -> tuple[Case | None, list[ContentError]]:
    model, errors = override_model(
        path, model_defaults, spec.params.model_overrides, f"{prefix}params.model_overrides"
    )
    if model is None:
        return None, errors
    errors = _check_case(path, spec, catalogue, model)
    if not errors:
        errors = check_prices(path, spec, model) + check_template(path, spec, model)
    if errors:
        return None, [replace(e, field=f"{prefix}{e.field}") for e in errors] if prefix else errors
    return Case(
        spec, model, catalogue, key_flags_of(spec, catalogue), content_hash(spec, model)
    ), []


def _check_stage(path: str, case: Case) -> list[ContentError]:
    """The single-case checks on a later stage built from the template."""
    return _check_case(path, case.spec, case.catalogue, case.model) + check_prices(
        path, case.spec, case.model
    )


def _parse_book(
    path: str, data: dict, catalogue: RedFlagCatalogue, model_defaults: ModelParams
) -> tuple[Case | None, list[ContentError]]:
    """A village book: each loan is checked as a case; the book's case is its first loan
    under the book's slug and title, with the book attached (lending.stages)."""
    book_file, errors = validate_model(BookFile, path, data)
    if book_file is None:
        return None, errors
    loans: list[Case] = []
    for i in range(len(book_file.book.loans)):
        prefix = f"book.loans[{i}]."
        spec, loan_errors = validate_model(
            CaseFile, path, book_loan_spec(book_file, i), prefix=prefix.rstrip(".")
        )
        case = None
        if spec is not None:
            case, loan_errors = _build_case(path, spec, catalogue, model_defaults, prefix)
        errors.extend(loan_errors)
        if case is not None:
            loans.append(case)
    ids = [loan.id for loan in book_file.book.loans]
    for i, loan_id in enumerate(ids):
        if loan_id in ids[:i]:
            errors.append(
                ContentError(
                    path, f"book.loans[{i}].id", N_("duplicate id %(id)s"), {"id": loan_id}
                )
            )
    if errors:
        return None, errors
    head = book_loan_spec(book_file, 0)
    head.update(
        slug=book_file.slug,
        title=book_file.title,
        summary=book_file.summary,
        book=book_file.book.model_dump(),
    )
    spec = CaseFile.model_validate(head)
    case, errors = _build_case(path, spec, catalogue, model_defaults)
    if case is None:
        return None, errors
    return replace(case, parts=tuple(loans)), []


def load_case_sources(
    files: Mapping[str, str],
) -> tuple[dict[str, Case], RedFlagCatalogue | None, ModelParams | None, list[ContentError]]:
    """Parse a case folder given as {path: text}: shared files first, then each case.

    A broken case file is reported and skipped; the others load.
    """
    by_name = {PurePosixPath(path).name: path for path in files}
    errors: list[ContentError] = []
    for name in (MODEL_FILE, RED_FLAGS_FILE):
        if name not in by_name:
            errors.append(ContentError(f"case_studies/{name}", "", N_("file not found")))
    if errors:
        return {}, None, None, errors
    model, model_errors = load_model_params(by_name[MODEL_FILE], files[by_name[MODEL_FILE]])
    catalogue, flag_errors = load_red_flags(by_name[RED_FLAGS_FILE], files[by_name[RED_FLAGS_FILE]])
    errors = model_errors + flag_errors
    if catalogue is None or model is None:
        return {}, catalogue, model, errors
    shared = (files[by_name[MODEL_FILE]], files[by_name[RED_FLAGS_FILE]])
    cases: dict[str, Case] = {}
    for path in sorted(files):
        stem = PurePosixPath(path).stem
        if PurePosixPath(path).name in (MODEL_FILE, RED_FLAGS_FILE):
            continue
        case, case_errors = _parsed(path, files[path], shared, catalogue, model)
        if case is not None and case.slug != stem:
            case, case_errors = (
                None,
                [
                    ContentError(
                        path, "slug", N_("must match the file name (%(stem)s)"), {"stem": stem}
                    )
                ],
            )
        if case is not None and case.slug in cases:
            case, case_errors = None, [ContentError(path, "slug", N_("duplicate slug"))]
        errors.extend(case_errors)
        if case is not None:
            cases[case.slug] = case
    return cases, catalogue, model, errors


# Parsed case files by (path, text, shared files' texts): a case depends on nothing else, and
# a Case is frozen. Checking a studio edit, a publish and each worker's catalogue rebuild
# build the whole course; each then parses only the case files that changed (a case file
# takes 20-70 ms: its variants are drawn and checked).
PARSED_KEEP = 64  # about 150 KB each: the shipped course has 25 case files
_parsed_cases: OrderedDict[tuple[str, str, tuple[str, str]], tuple[Case | None, list[ContentError]]]
_parsed_cases = OrderedDict()
_parsed_lock = threading.Lock()


def _parsed(
    path: str,
    text: str,
    shared: tuple[str, str],
    catalogue: RedFlagCatalogue,
    model: ModelParams,
) -> tuple[Case | None, list[ContentError]]:
    """``parse_case`` of ``text``, kept for the next build of the same text."""
    key = (path, text, shared)
    with _parsed_lock:
        found = _parsed_cases.get(key)
        if found is not None:
            _parsed_cases.move_to_end(key)
    if found is None:
        found = parse_case(path, text, catalogue, model)
        with _parsed_lock:
            _parsed_cases[key] = found
            while len(_parsed_cases) > PARSED_KEEP:
                _parsed_cases.popitem(last=False)
    case, errors = found
    return case, list(errors)


def forget_parsed_cases() -> None:
    """Parse every case file afresh on the next build (tests)."""
    with _parsed_lock:
        _parsed_cases.clear()


def load_shared(
    directory: str | Path,
) -> tuple[RedFlagCatalogue | None, ModelParams | None, list[ContentError]]:
    """Read model.yaml and red_flags.yaml from a case folder."""
    folder = Path(directory)
    files = {
        str(folder / name): (folder / name).read_text(encoding="utf-8")
        for name in (MODEL_FILE, RED_FLAGS_FILE)
        if (folder / name).is_file()
    }
    _cases, catalogue, model, errors = load_case_sources(files)
    return catalogue, model, errors


def load_case_dir(directory: str | Path) -> tuple[dict[str, Case], list[ContentError]]:
    """Load every case in a folder; a broken file is reported and skipped."""
    folder = Path(directory)
    files = {str(file): file.read_text(encoding="utf-8") for file in sorted(folder.glob("*.yaml"))}
    cases, _catalogue, _model, errors = load_case_sources(files)
    return cases, errors
