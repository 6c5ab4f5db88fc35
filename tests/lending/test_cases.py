"""Case files: every shipped case parses; a malformed case gives errors naming the field."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from courseware.lending.cases import Case, load_case_dir, parse_case
from courseware.lending.variants import corner_draws, variant_spec
from tests.lending.synthetic import CASE_DIR, synthetic_data

SLUGS = {
    "grocery-kiosk",
    "bar-owner",
    "tailor-borderline",
    "poultry-fraud",
    "market-trader-overindebted",
    "maize-farmer",
    "phone-accessory-shop",
    "motorcycle-taxi",
    "group-liability",
    "restructure-illness",
    "breakfast-startup",
    "fruit-stall-guarantor",
}


def test_every_case_file_parses(library: dict[str, Case]) -> None:
    assert set(library) >= SLUGS


def test_cases_follow_the_brief(library: dict[str, Case]) -> None:
    for case in library.values():
        spec = case.spec
        assert 3 <= len(spec.options) <= 8, case.slug
        assert 150 <= len(spec.key.debrief) <= 400, case.slug
        assert spec.key.best_option in {o.id for o in spec.options}
        # Every case is a template whose variants differ in the facts present (a village
        # book's loans may differ in their figures alone: the book varies by its shock).
        if spec.book is None:
            assert spec.variation is not None and spec.variation.toggles, case.slug
        flags: set[str] = set()
        for draw in corner_draws(spec):
            variant = variant_spec(spec, draw)
            assert 6 <= len(variant.reasons) <= 16, case.slug
            assert 1 <= len(variant.key.key_reasons) <= 3, case.slug
            # Plausible distractors beside the key, arguing both ways across the template.
            others = [r for r in variant.reasons if r.id not in variant.key.key_reasons]
            assert len(others) >= 3, case.slug
            flags |= {f if isinstance(f, str) else f.id for f in variant.key.red_flags}
        assert flags, case.slug
        sides = {r.side for r in spec.reasons if r.id not in spec.key.key_reasons}
        assert sides >= {"approve", "decline"} or "neutral" in sides, case.slug


def _parse(data: dict[str, Any], catalogue_and_model: tuple) -> tuple[Case | None, list]:
    catalogue, model = catalogue_and_model
    return parse_case("case.yaml", yaml.safe_dump(data, allow_unicode=True), catalogue, model)


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node: Any = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if value is _DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


_DELETE = object()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_set("options.0.amount", 5000), "options[0].amount"),
        (_set("options.2.term", 48), "options[2].term"),
        (_set("options.0.schedule", "harvest"), "options[0].schedule"),
        (_set("options.0.kind", "approve_maybe"), "options[0].kind"),
        (_set("options.0.kind", "restructure"), "options[0].kind"),
        (_set("options.3.amount", 500), "options[3].amount"),
        (_set("options.1.id", "approve"), "options[1].id"),
        (_set("key.red_flags", ["no-such-flag"]), "key.red_flags[0]"),
        (_set("key.key_reasons", ["r1", "r2", "r9"]), "key.key_reasons[2]"),
        (_set("key.best_option", "lend-everything"), "key.best_option"),
        (_set("key.debrief", "太短"), "key.debrief"),
        (_set("dossier.request.amount", _DELETE), "dossier.request.amount"),
        (_set("dossier.request.monthly_rate", 3), "dossier.request.monthly_rate"),
        (_set("difficulty", 5), "difficulty"),
        (_set("slug", "Not A Slug"), "slug"),
        (_set("params.season", [1, 1, 1]), "params.season"),
        (_set("params.margni", 0.2), "params.margni"),
        (_set("params.guarantor", _DELETE), "options[1].guarantor"),
        (_set("params.model_overrides", {"fee_rate": 2}), "params.model_overrides.fee_rate"),
        (_set("reasons", [{"id": "r1", "text": "只有一個"}]), "reasons"),
        (_set("options.0.member_amounts", [500, 500]), "options[0].member_amounts"),
    ],
)
def test_malformed_case_names_the_field(
    change: Callable[[dict[str, Any]], None], field: str, catalogue_and_model: tuple
) -> None:
    data = synthetic_data(0.8)
    change(data)
    case, errors = _parse(data, catalogue_and_model)
    assert case is None
    assert field in [e.field for e in errors], [str(e) for e in errors]
    assert all(e.path == "case.yaml" and e.message for e in errors)
    assert all("%(" not in e.text() for e in errors)  # every placeholder is filled


def test_a_rejection_may_not_carry_terms(catalogue_and_model: tuple) -> None:
    data = synthetic_data(0.8)
    data["options"][3]["amount"] = 800
    case, errors = _parse(data, catalogue_and_model)
    assert case is None
    assert [e.field for e in errors] == ["options[3].amount"]


def test_yaml_syntax_error_is_located(catalogue_and_model: tuple) -> None:
    catalogue, model = catalogue_and_model
    case, errors = parse_case("case.yaml", "slug: x\ntitle: [oops\n", catalogue, model)
    assert case is None
    assert errors[0].field.startswith("line ")


def test_not_a_mapping(catalogue_and_model: tuple) -> None:
    catalogue, model = catalogue_and_model
    case, errors = parse_case("case.yaml", "- just\n- a list\n", catalogue, model)
    assert case is None
    assert errors[0].message


def test_options_default_to_the_request(catalogue_and_model: tuple) -> None:
    case, errors = _parse(synthetic_data(0.8), catalogue_and_model)
    assert case is not None, errors
    terms = case.terms("approve")
    assert (terms.amount, terms.term, terms.monthly_rate) == (1000, 12, 0.0105)
    assert terms.fee_rate == case.model.fee_rate
    assert case.terms("term18").term == 18
    assert case.terms("guarantor").guarantor is True


def test_content_hash_follows_the_content(catalogue_and_model: tuple) -> None:
    a, _ = _parse(synthetic_data(0.8), catalogue_and_model)
    b, _ = _parse(synthetic_data(0.8), catalogue_and_model)
    c, _ = _parse(synthetic_data(0.9), catalogue_and_model)
    assert a is not None and b is not None and c is not None
    assert a.content_hash == b.content_hash != c.content_hash


def test_load_case_dir_reports_and_skips_a_broken_file(tmp_path: Path) -> None:
    for name in ("model.yaml", "red_flags.yaml", "grocery-kiosk.yaml", "bar-owner.yaml"):
        shutil.copy(CASE_DIR / name, tmp_path / name)
    broken = yaml.safe_load((CASE_DIR / "bar-owner.yaml").read_text(encoding="utf-8"))
    broken = copy.deepcopy(broken)
    broken["options"][0]["amount"] = 999999
    (tmp_path / "bar-owner.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True))
    (tmp_path / "renamed.yaml").write_text(
        (CASE_DIR / "grocery-kiosk.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    cases, errors = load_case_dir(tmp_path)
    assert set(cases) == {"grocery-kiosk"}
    located = {(Path(e.path).name, e.field) for e in errors}
    assert ("bar-owner.yaml", "options[0].amount") in located
    assert ("renamed.yaml", "slug") in located


def test_missing_shared_files_are_reported(tmp_path: Path) -> None:
    cases, errors = load_case_dir(tmp_path)
    assert cases == {}
    assert {Path(e.path).name for e in errors} == {"model.yaml", "red_flags.yaml"}


def _case_folder() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(CASE_DIR.glob("*.yaml"))}


def test_a_rebuild_parses_only_the_case_files_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checking an edit builds the whole course; a case file whose text (and the shared
    model and red flags) did not change is not parsed again, and the result is the same."""
    from courseware.lending import cases as case_module

    parsed: list[str] = []
    real = case_module.parse_case

    def counted(path: str, *args: Any) -> Any:
        parsed.append(path)
        return real(path, *args)

    monkeypatch.setattr(case_module, "parse_case", counted)
    case_module.forget_parsed_cases()
    files = _case_folder()
    every = [p for p in files if p not in (case_module.MODEL_FILE, case_module.RED_FLAGS_FILE)]
    first, _c, _m, errors = case_module.load_case_sources(files)
    assert sorted(parsed) == sorted(every) and errors == []

    parsed.clear()
    again, _c, _m, errors = case_module.load_case_sources(files)
    assert parsed == [] and errors == []
    assert {slug: c.content_hash for slug, c in again.items()} == {
        slug: c.content_hash for slug, c in first.items()
    }

    # One case edited: that file alone is parsed, and the edit shows.
    edited = yaml.safe_load(files["grocery-kiosk.yaml"])
    edited["title"] = "改過的標題"
    changed = {**files, "grocery-kiosk.yaml": yaml.safe_dump(edited, allow_unicode=True)}
    parsed.clear()
    third, _c, _m, errors = case_module.load_case_sources(changed)
    assert parsed == ["grocery-kiosk.yaml"] and errors == []
    assert third["grocery-kiosk"].title == "改過的標題"

    # A broken file is reported on every build, not only on the one that parsed it.
    broken = {**files, "grocery-kiosk.yaml": "slug: [unclosed"}
    for _build in range(2):
        cases, _c, _m, errors = case_module.load_case_sources(broken)
        assert "grocery-kiosk" not in cases
        assert [e.path for e in errors] == ["grocery-kiosk.yaml"]

    # The shared model changes what every case is: all are parsed again.
    model = yaml.safe_load(files[case_module.MODEL_FILE])
    shared = {**files, case_module.MODEL_FILE: yaml.safe_dump(model) + "\n# touched\n"}
    parsed.clear()
    case_module.load_case_sources(shared)
    assert sorted(parsed) == sorted(every)
