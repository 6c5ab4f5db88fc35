"""Translations for code that runs outside a request (domain modules, the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"
DEFAULT_LOCALE = "zh_Hant"


@lru_cache(maxsize=8)
def _catalogue(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")


def translator(locale: str = DEFAULT_LOCALE) -> Callable[[str], str]:
    """A gettext function for ``locale`` (falls back to the message id)."""
    return _catalogue(locale).gettext
