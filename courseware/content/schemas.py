"""Schemas for the course files trainers write, with located errors."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from courseware.core.errors import N_, ContentError, safe_load_yaml

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ModuleMeta(_Strict):
    slug: Slug
    order: int = Field(ge=1, le=99)
    title: Title
    summary: Annotated[str, StringConstraints(min_length=1, max_length=600)]
    objectives: list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        min_length=1, max_length=12
    )
    estimated_minutes: int = Field(ge=1, le=6000)


class LessonMeta(_Strict):
    slug: Slug
    title: Title
    order: int = Field(ge=1, le=999)
    minutes: int = Field(ge=1, le=600)


class GuideMeta(_Strict):
    """A module's facilitator's guide (content/NN-slug/guide.md), for trainers only."""

    module: Slug
    title: Title
    minutes: int = Field(ge=1, le=600)
    cases: list[Slug] = Field(min_length=1, max_length=12)


class GlossaryMeta(_Strict):
    title: Title


FRONT_MATTER_RE = re.compile(r"\A---[ \t]*\r?\n(?P<meta>.*?)^---[ \t]*\r?\n?", re.DOTALL | re.M)


def split_front_matter(
    path: str, text: str
) -> tuple[dict[str, Any] | None, str, int, list[ContentError]]:
    """Return (front matter, body, body's first line number, errors)."""
    text = text.removeprefix("\ufeff")
    match = FRONT_MATTER_RE.match(text)
    if match is None:
        return (
            None,
            text,
            1,
            [ContentError(path, "front matter", N_("the file must start with a '---' block"))],
        )
    data, errors = safe_load_yaml(path, match.group("meta"))
    body = text[match.end() :]
    body_line = text.count("\n", 0, match.end()) + 1
    if errors:
        return None, body, body_line, errors
    if not isinstance(data, dict):
        return (
            None,
            body,
            body_line,
            [ContentError(path, "front matter", N_("must be a mapping of keys to values"))],
        )
    return data, body, body_line, []
