"""YAML files edited in place: ruamel.yaml's round-trip mode keeps comments, key order,
block scalars and flow collections. A file is edited only when its unchanged text comes back
byte for byte with one of the usual indentation styles, so an edit never re-formats the rest.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML

INDENTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0), (3, 3, 1))


def round_trip_yaml(indent: tuple[int, int, int]) -> YAML:
    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    handler.width = 4096
    mapping, sequence, offset = indent
    handler.indent(mapping=mapping, sequence=sequence, offset=offset)
    return handler


def dump_yaml(handler: YAML, data: Any) -> str:
    out = io.StringIO()
    handler.dump(data, out)
    return out.getvalue()


def load_exact(text: str) -> tuple[YAML, Any] | None:
    """The data and a handler that writes the unchanged text back exactly; None when no
    usual indentation style does. Invalid YAML raises ruamel's YAMLError."""
    for indent in INDENTS:
        handler = round_trip_yaml(indent)
        data = handler.load(text)
        if dump_yaml(handler, data) == text:
            return handler, data
    return None
