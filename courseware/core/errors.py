"""Located validation errors for course files.

Every file a trainer writes (lessons, question banks, cases) is validated on
load. A problem is reported as a ``ContentError`` naming the file, the field
and what is wrong, so the trainer can fix it without reading a traceback.
Messages are plain English message ids; the web layer and the CLI translate
them through Babel before showing them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it here."""
    return message


@dataclass(frozen=True)
class ContentError:
    """One problem in one course file."""

    path: str
    field: str
    message: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def text(self, gettext: Any = None) -> str:
        """The message, translated with ``gettext`` when one is given."""
        template = gettext(self.message) if gettext else self.message
        try:
            message = template % dict(self.params) if self.params else template
        except (KeyError, ValueError, TypeError):
            message = template
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {message}"

    def __str__(self) -> str:
        return self.text()


class ContentInvalid(Exception):
    """Raised when a file cannot be loaded; carries every error found."""

    def __init__(self, errors: Iterable[ContentError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


# pydantic error types mapped to messages a trainer understands.
_PYDANTIC_MESSAGES = {
    "missing": N_("this field is required"),
    "extra_forbidden": N_("unknown field (check the spelling)"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must not be empty"),
    "string_too_long": N_("is too long"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "list_type": N_("must be a list"),
    "dict_type": N_("must be a mapping of keys to values"),
    "greater_than": N_("must be greater than %(limit)s"),
    "greater_than_equal": N_("must be at least %(limit)s"),
    "less_than": N_("must be less than %(limit)s"),
    "less_than_equal": N_("must be at most %(limit)s"),
    "too_short": N_("needs at least %(limit)s entries"),
    "too_long": N_("allows at most %(limit)s entries"),
    "literal_error": N_("must be one of: %(expected)s"),
    "enum": N_("must be one of: %(expected)s"),
    "string_pattern_mismatch": N_("has characters that are not allowed here"),
}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def errors_from_validation(path: str, exc: ValidationError, prefix: str = "") -> list[ContentError]:
    """Turn a pydantic ValidationError into located, translatable errors."""
    found: list[ContentError] = []
    for err in exc.errors():
        loc = tuple(p for p in err.get("loc", ()) if not (isinstance(p, str) and "[" in p))
        where = _field_path(loc)
        if prefix:
            where = f"{prefix}.{where}" if where else prefix
        kind = err.get("type", "")
        ctx = err.get("ctx") or {}
        message = _PYDANTIC_MESSAGES.get(kind)
        params: dict[str, Any] = {}
        if message is None:
            # A custom check raised ValueError: its text is already ours.
            raw = str(ctx.get("error", "")) or err.get("msg", "")
            message = raw.removeprefix("Value error, ")
        else:
            limit = next(
                (ctx[k] for k in ("gt", "ge", "lt", "le", "min_length", "max_length") if k in ctx),
                None,
            )
            params = {"limit": limit, "expected": ctx.get("expected", "")}
            if "%(" not in message:
                params = {}
        found.append(ContentError(path, where, message, params))
    return found


# libyaml's safe loader when PyYAML was built with it (its wheels are): the same documents,
# several times faster, which is most of a cold start's reading of the course's case files.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load_yaml(path: str, text: str) -> tuple[Any, list[ContentError]]:
    """Parse YAML safely (no object tags); a syntax error comes back located."""
    try:
        return yaml.load(text, Loader=SAFE_LOADER), []  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [
            ContentError(path, where, N_("YAML syntax error: %(problem)s"), {"problem": problem})
        ]


M = TypeVar("M", bound=BaseModel)


def validate_model(
    model: type[M], path: str, data: Any, prefix: str = ""
) -> tuple[M | None, list[ContentError]]:
    """Validate ``data`` against ``model``; return the object or located errors."""
    if not isinstance(data, dict):
        return None, [ContentError(path, prefix, N_("must be a mapping of keys to values"))]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, errors_from_validation(path, exc, prefix)
