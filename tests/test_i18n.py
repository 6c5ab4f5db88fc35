"""Every message a user reads has its zh-Hant and English translation."""

from __future__ import annotations

import importlib.util

from courseware.core.config import REPO_ROOT


def test_no_untranslated_message_ids():
    spec = importlib.util.spec_from_file_location("i18n", REPO_ROOT / "scripts" / "i18n.py")
    i18n = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(i18n)
    gaps = i18n.missing()
    assert gaps == {"zh_Hant": [], "en": []}
