"""Every message a user reads has its zh-Hant and English translation, and the zh-Hant
ones name each concept the way the UI glossary (translations/ui-glossary.yaml) says."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from babel.messages.catalog import Catalog

from courseware.core.config import REPO_ROOT


def _i18n():
    spec = importlib.util.spec_from_file_location("i18n", REPO_ROOT / "scripts" / "i18n.py")
    i18n = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(i18n)
    return i18n


def test_no_untranslated_message_ids():
    gaps = _i18n().missing()
    assert gaps == {"zh_Hant": [], "en": []}


def test_the_catalogue_keeps_to_the_ui_glossary():
    assert _i18n().glossary_problems() == []


def test_a_forbidden_variant_is_reported_with_file_and_msgid(tmp_path: Path):
    i18n = _i18n()
    glossary = tmp_path / "ui-glossary.yaml"
    glossary.write_text(
        "terms:\n"
        "  - concept: branch manager\n    use: 分行主管\n    avoid: [分行經理]\n"
        "  - concept: loan case\n    use: 案例\n    avoid: ['(?<![這])個案']\n",
        encoding="utf-8",
    )
    catalog = Catalog(locale="zh_Hant")
    catalog.add("Branch manager", "分行經理", [("courseware/web/common/forms.py", 1)])
    catalog.add("Manager", "分行主管")
    catalog.add("This case", "這個案例")  # 個案 inside 這個案例 is not the variant
    catalog.add("Cases", "個案清單", [("courseware/templates/x.html", 3)])
    found = i18n.glossary_offences(catalog, i18n.load_glossary(glossary), "messages.po")
    assert found == [
        "messages.po: 'Branch manager' (courseware/web/common/forms.py): says '分行經理' for "
        "branch manager; the glossary says '分行主管'",
        "messages.po: 'Cases' (courseware/templates/x.html): says '個案' for loan case; "
        "the glossary says '案例'",
    ]


def test_check_fails_on_a_glossary_offence(monkeypatch, capsys):
    i18n = _i18n()
    monkeypatch.setattr(i18n, "missing", lambda: {"zh_Hant": [], "en": []})
    monkeypatch.setattr(i18n, "glossary_problems", lambda: ["messages.po: 'X' (a.py): says"])
    assert i18n.main(["i18n.py", "check"]) == 1
    assert "zh_Hant: glossary: messages.po: 'X'" in capsys.readouterr().out
