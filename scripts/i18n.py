"""Keep the Babel catalogues in step with the code.

    python scripts/i18n.py update    # extract, merge into zh_Hant and en, compile
    python scripts/i18n.py check     # exit 1 when a message lacks a translation or a
                                     # zh_Hant one breaks the UI glossary

Message ids are English, so the English catalogue is the id itself; zh_Hant
is translated by hand in courseware/translations/zh_Hant/LC_MESSAGES/messages.po.
courseware/translations/ui-glossary.yaml names each concept once in zh-Hant and lists
the variants a translation must not use.
"""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import NamedTuple

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from yaml import safe_load

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "courseware" / "translations"
GLOSSARY = TRANSLATIONS / "ui-glossary.yaml"
LOCALES = ("zh_Hant", "en")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}
METHODS = [
    ("courseware/**.py", "python"),
    ("courseware/templates/**.html", "jinja2"),
]


def extract() -> Catalog:
    catalog = Catalog(project="courseware", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="courseware", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update() -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        for message in catalog:
            if not message.id:
                continue
            message.flags.discard("fuzzy")
            if locale == "en":
                message.string = message.id
        catalog.obsolete.clear()
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        write_po(
            buffer, catalog, omit_header=False, sort_output=True, include_lineno=False, width=100
        )
        path.write_bytes(buffer.getvalue())
    compile_all()


def compile_all() -> None:
    for locale in LOCALES:
        catalog = load(locale)
        with po_path(locale).with_suffix(".mo").open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)


def missing() -> dict[str, list[str]]:
    """Message ids in the code without a translation, per locale."""
    wanted = {m.id for m in extract() if m.id}
    gaps: dict[str, list[str]] = {}
    for locale in LOCALES:
        catalog = load(locale)
        done = {
            m.id
            for m in catalog
            if m.id
            and m.string
            and not (isinstance(m.string, tuple) and not all(m.string))
            and "fuzzy" not in m.flags
        }
        gaps[locale] = sorted(str(i) for i in wanted - done)
    return gaps


class Term(NamedTuple):
    concept: str
    use: str
    avoid: tuple[re.Pattern[str], ...]


def load_glossary(path: Path = GLOSSARY) -> list[Term]:
    data = safe_load(path.read_text(encoding="utf-8")) or {}
    return [
        Term(
            str(entry["concept"]),
            str(entry["use"]),
            tuple(re.compile(str(v)) for v in entry.get("avoid") or ()),
        )
        for entry in data.get("terms") or []
    ]


def glossary_offences(catalog: Catalog, terms: list[Term], path: str) -> list[str]:
    """Each translation that names a concept by a variant the glossary rules out."""
    found = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        text = "\n".join(strings)
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        where = ", ".join(sorted({file for file, _line in message.locations})) or path
        for term in terms:
            for pattern in term.avoid:
                if match := pattern.search(text):
                    found.append(
                        f"{path}: {msgid!r} ({where}): says {match.group(0)!r} for "
                        f"{term.concept}; the glossary says {term.use!r}"
                    )
    return found


def glossary_problems() -> list[str]:
    path = po_path("zh_Hant")
    return glossary_offences(load("zh_Hant"), load_glossary(), str(path.relative_to(ROOT)))


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    gaps = missing()
    for locale, ids in gaps.items():
        for message_id in ids:
            print(f"{locale}: untranslated: {message_id}")
    offences = glossary_problems()
    for offence in offences:
        print(f"zh_Hant: glossary: {offence}")
    return 1 if any(gaps.values()) or offences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
