"""Line diffs between two texts, as plain data the template escapes and colours."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    kind: str  # head | hunk | add | del | same
    text: str


def diff_lines(
    old: str, new: str, old_label: str, new_label: str, context: int = 3
) -> list[DiffLine]:
    """A unified diff of ``old`` against ``new``; empty when they are equal."""
    lines: list[DiffLine] = []
    for line in difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, lineterm="", n=context
    ):
        if line.startswith(("---", "+++")) and len(lines) < 2:
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append(DiffLine(kind, line))
    return lines
