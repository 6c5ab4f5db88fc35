"""Edit one question of a bank's YAML text and keep the rest of the file as written.

ruamel.yaml's round-trip mode loads the bank with its comments, key order, block
scalars and flow lists, the one question is changed or appended, and the file is dumped
again. Before editing, the unchanged file must come back byte for byte from a round trip
with one of the usual indentation styles; otherwise the form refuses (the trainer edits
the file text instead), so no edit ever re-formats the rest of a bank.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass, fields
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from courseware.assessment.bank import parse_question
from courseware.assessment.drawing import serve
from courseware.assessment.questions import TYPES, format_number
from courseware.core.errors import N_, ContentError
from courseware.core.models import AttemptQuestion, QuestionText
from courseware.core.question_texts import digest_of
from courseware.studio.roundtrip import dump_yaml, load_exact

# The keys of a question in the order a new one is written.
QUESTION_KEYS = (
    "id",
    "type",
    "lesson",
    "prompt",
    "choices",
    "items",
    "answer",
    "tolerance",
    "unit",
    "explanation",
    "retired",
)
BLOCK_TEXT = ("prompt", "explanation")
CHOICE_LINE = re.compile(r"^\s*([^:：\s]+)\s*[:：]\s?(.*?)\s*$")
Problem = tuple[str, str, dict[str, Any]]


class QuestionEditError(Exception):
    """The bank text cannot be edited through the form; ``message`` is a message id."""

    def __init__(self, message: str, params: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.params = params or {}


@dataclass
class QuestionForm:
    """A question as the form shows it: every value as text."""

    id: str = ""
    type: str = "single"
    lesson: str = ""
    prompt: str = ""
    choices: str = ""  # one "key: text" per line
    answer: str = ""  # b | a, c | true | 945.6
    tolerance: str = ""
    unit: str = ""
    items: str = ""  # one step per line, in the right order
    explanation: str = ""
    retired: bool = False

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


@dataclass(frozen=True)
class QuestionRow:
    index: int
    id: str
    type: str
    lesson: str
    prompt: str
    retired: bool


def _load(text: str) -> tuple[YAML, CommentedMap]:
    """The bank, with a handler that writes the unchanged file back exactly."""
    try:
        loaded = load_exact(text)
    except YAMLError:
        raise QuestionEditError(N_("The bank file is not valid YAML: edit its text.")) from None
    if loaded is not None and not (
        isinstance(loaded[1], CommentedMap) and isinstance(loaded[1].get("questions"), list)
    ):
        raise QuestionEditError(N_("The bank file has no list of questions: edit its text."))
    if loaded is None:
        raise QuestionEditError(
            N_("This bank's layout cannot be kept by the form editor: edit the file text instead.")
        )
    return loaded


def bank_rows(text: str) -> tuple[dict[str, Any], list[QuestionRow]]:
    """The bank's settings and one row per question, as PyYAML (the loader) reads them."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}, []
    if not isinstance(data, dict):
        return {}, []
    rows = []
    for index, q in enumerate(data.get("questions") or []):
        if isinstance(q, dict):
            rows.append(
                QuestionRow(
                    index,
                    str(q.get("id", "")),
                    str(q.get("type", "")),
                    str(q.get("lesson", "")),
                    str(q.get("prompt", "")).strip(),
                    q.get("retired") is True,
                )
            )
    settings = {k: v for k, v in data.items() if k != "questions"}
    return settings, rows


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    return format_number(value)


def question_form(text: str, question_id: str) -> QuestionForm | None:
    """The form's values for one question of the bank text."""
    data = yaml.safe_load(text)
    for q in data.get("questions") or []:
        if isinstance(q, dict) and q.get("id") == question_id:
            answer = q.get("answer")
            if isinstance(answer, bool):
                answer_text = "true" if answer else "false"
            elif isinstance(answer, list):
                answer_text = ", ".join(str(a) for a in answer)
            else:
                answer_text = _number(answer)
            choices = q.get("choices") if isinstance(q.get("choices"), dict) else {}
            return QuestionForm(
                id=question_id,
                type=str(q.get("type", "")),
                lesson=str(q.get("lesson", "")),
                prompt=str(q.get("prompt", "")).rstrip("\n"),
                choices="\n".join(f"{k}: {v}" for k, v in choices.items()),
                answer=answer_text,
                tolerance=_number(q.get("tolerance")),
                unit=str(q.get("unit", "") or ""),
                items="\n".join(str(i) for i in q.get("items") or []),
                explanation=str(q.get("explanation", "")).rstrip("\n"),
                retired=q.get("retired") is True,
            )
    return None


def _parse_number(text: str) -> float | int | None:
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value.is_integer() and "." not in cleaned else value


def question_data(form: QuestionForm) -> tuple[dict[str, Any], list[Problem]]:
    """The question as it goes into the bank, or what in the form cannot be read."""
    problems: list[Problem] = []
    data: dict[str, Any] = {
        "id": form.id.strip(),
        "type": form.type,
        "lesson": form.lesson.strip(),
        "prompt": form.prompt.replace("\r\n", "\n").strip(),
    }
    if form.type in ("single", "multiple"):
        choices: dict[str, str] = {}
        for number, line in enumerate(form.choices.replace("\r\n", "\n").split("\n"), start=1):
            if not line.strip():
                continue
            match = CHOICE_LINE.match(line)
            if match is None:
                problems.append(
                    ("choices", N_("line %(n)s: write each choice as key: text"), {"n": number})
                )
                continue
            choices[match.group(1)] = match.group(2)
        data["choices"] = choices
        keys = [k for k in re.split(r"[\s,，、]+", form.answer.strip()) if k]
        data["answer"] = (
            keys
            if form.type == "multiple"
            else (keys[0] if len(keys) == 1 else form.answer.strip())
        )
    elif form.type == "true_false":
        word = form.answer.strip().lower()
        if word in ("true", "false"):
            data["answer"] = word == "true"
        else:
            problems.append(("answer", N_("must be true or false"), {}))
    elif form.type == "numeric":
        answer = _parse_number(form.answer)
        if answer is None:
            problems.append(("answer", N_("must be a number"), {}))
        data["answer"] = answer
        if form.tolerance.strip():  # none written means 0 (exact)
            data["tolerance"] = _parse_number(form.tolerance)
            if data["tolerance"] is None:
                problems.append(("tolerance", N_("must be a number"), {}))
        if form.unit.strip():
            data["unit"] = form.unit.strip()
    elif form.type == "ordering":
        data["items"] = [
            i.strip() for i in form.items.replace("\r\n", "\n").split("\n") if i.strip()
        ]
    else:
        problems.append(
            ("type", N_("must be one of: %(expected)s"), {"expected": ", ".join(TYPES)})
        )
    data["explanation"] = form.explanation.replace("\r\n", "\n").strip()
    if form.retired:
        data["retired"] = True
    return data, problems


def _text(value: str) -> Any:
    """A string node that PyYAML (the loader) reads back as the same string."""
    if "\n" in value:
        return LiteralScalarString(value + "\n")
    try:
        same = yaml.safe_load(value) == value
    except yaml.YAMLError:
        same = False
    return value if same else DoubleQuotedScalarString(value)


def _node(key: str, value: Any) -> Any:
    if key in BLOCK_TEXT:
        return LiteralScalarString(value + "\n")
    if isinstance(value, dict):
        return CommentedMap((_text(str(k)), _text(str(v))) for k, v in value.items())
    if isinstance(value, list):
        seq = CommentedSeq(_text(v) if isinstance(v, str) else v for v in value)
        if key == "answer":
            seq.fa.set_flow_style()
        return seq
    return _text(value) if isinstance(value, str) else value


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool):
        return bool(node)
    if isinstance(node, int | float):
        return float(node)  # 64 and 64.0 are the same answer: keep what the file says
    return node


def _same(key: str, old: Any, new: Any) -> bool:
    if key in BLOCK_TEXT and isinstance(old, str):
        return str(old).rstrip("\n") == new
    return json.dumps(_plain(old)) == json.dumps(_plain(new))


def _update(node: CommentedMap, data: dict[str, Any]) -> None:
    for key in list(node.keys()):
        if key in QUESTION_KEYS and key not in data:
            del node[key]
    for key in QUESTION_KEYS:
        if key not in data:
            continue
        if key in node:
            if not _same(key, node[key], data[key]):
                node[key] = _node(key, data[key])
            continue
        later = [
            k
            for k in node
            if k in QUESTION_KEYS and QUESTION_KEYS.index(k) > QUESTION_KEYS.index(key)
        ]
        position = list(node.keys()).index(later[0]) if later else len(node)
        node.insert(position, key, _node(key, data[key]))


def question_index(text: str, question_id: str) -> int | None:
    _handler, data = _load(text)
    return next(
        (
            i
            for i, q in enumerate(data["questions"])
            if isinstance(q, dict) and q.get("id") == question_id
        ),
        None,
    )


def put_question(text: str, question_id: str | None, data: dict[str, Any]) -> tuple[str, int]:
    """The bank text with one question replaced (or appended when ``question_id`` is None),
    and that question's index."""
    handler, bank = _load(text)
    questions = bank["questions"]
    if question_id is None:
        questions.append(CommentedMap((k, _node(k, data[k])) for k in QUESTION_KEYS if k in data))
        return dump_yaml(handler, bank), len(questions) - 1
    for index, node in enumerate(questions):
        if isinstance(node, CommentedMap) and node.get("id") == question_id:
            _update(node, data)
            return dump_yaml(handler, bank), index
    raise QuestionEditError(N_("There is no question %(id)s in this bank."), {"id": question_id})


def set_retired(text: str, question_id: str, retired: bool) -> tuple[str, int]:
    handler, bank = _load(text)
    for index, node in enumerate(bank["questions"]):
        if isinstance(node, CommentedMap) and node.get("id") == question_id:
            if retired:
                if "retired" in node:
                    node["retired"] = True
                else:
                    node.insert(len(node), "retired", True)
            elif "retired" in node:
                del node["retired"]
            return dump_yaml(handler, bank), index
    raise QuestionEditError(N_("There is no question %(id)s in this bank."), {"id": question_id})


QUESTION_FIELD = re.compile(r"^questions\[(\d+)\](?: \([^)]*\))?(?:\.([A-Za-z_]+))?")


def form_field(error: ContentError, index: int) -> str | None:
    """The form field a located bank error is about ("" for the question as a whole);
    None when it is about another question or the bank."""
    match = QUESTION_FIELD.match(error.field)
    if match is None or int(match.group(1)) != index:
        return None
    return match.group(2) or ""


def preview(
    path: str, module: str, data: dict[str, Any], lessons: set[str]
) -> tuple[AttemptQuestion | None, list[ContentError]]:
    """The question served as a trainee would get it (not stored), or why it cannot be."""
    question, errors = parse_question(path, 0, data, lessons)
    if question is None:
        return None, errors
    shown, definition = serve(question, random.Random(0))  # noqa: S311 - a preview's shuffle
    served = AttemptQuestion(
        position=1,
        question_id=question.id,
        bank_module=module,
        qtype=question.type,
        # texts of their own, not stored (a stored text is only ever interned)
        served_text=QuestionText(digest=digest_of(shown), body=shown),
        definition_text=QuestionText(digest=digest_of(definition), body=definition),
        answer=None,
        points=None,
        max_points=1.0,
        correct=None,
    )
    return served, []
