"""The right answers to a quiz attempt on the page, looked up in the question bank.

Questions and choices are drawn and shuffled per attempt, so answers are matched by the
text the page shows (prompt, choice, step), never by position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import Locator, Page

QUIZ_DIR = Path(__file__).resolve().parents[2] / "quizzes"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


@dataclass(frozen=True)
class Key:
    """What to do with each control of one question on the page."""

    kind: str
    choose: frozenset[str]  # texts of the choices to pick (single, multiple)
    truth: bool | None = None
    number: str = ""
    ranks: tuple[tuple[str, int], ...] = ()  # (step text, rank)


def bank(module: str) -> dict[str, Key]:
    """Prompt (without whitespace) -> its key, for every live question of the bank."""
    data = yaml.safe_load((QUIZ_DIR / f"{module}.yaml").read_text(encoding="utf-8"))
    keys: dict[str, Key] = {}
    for q in data["questions"]:
        if q.get("retired"):
            continue
        kind = q["type"]
        answer: Any = q.get("answer")
        if kind in ("single", "multiple"):
            picked = [answer] if kind == "single" else list(answer)
            key = Key(kind, frozenset(squash(str(q["choices"][k])) for k in picked))
        elif kind == "true_false":
            key = Key(kind, frozenset(), truth=bool(answer))
        elif kind == "numeric":
            key = Key(kind, frozenset(), number=str(answer))
        elif kind == "ordering":
            ranks = tuple((squash(str(item)), i + 1) for i, item in enumerate(q["items"]))
            key = Key(kind, frozenset(), ranks=ranks)
        else:  # pragma: no cover - a new question type needs a line here
            raise AssertionError(f"unknown question type {kind}")
        keys[squash(str(q["prompt"]))] = key
    return keys


def key_for(question: Locator, keys: dict[str, Key]) -> Key:
    prompt = squash(question.locator("legend .q-prompt").inner_text())
    assert prompt in keys, f"question not in the bank: {prompt[:40]}"
    return keys[prompt]


def answer_rightly(page: Page, module: str) -> int:
    """Answer every question on the attempt page as the bank says; returns how many."""
    keys = bank(module)
    questions = page.locator("li.quiz-question")
    for i in range(questions.count()):
        question = questions.nth(i)
        key = key_for(question, keys)
        if key.kind in ("single", "multiple"):
            labels = question.locator("label.choice")
            for j in range(labels.count()):
                label = labels.nth(j)
                if squash(label.inner_text()) in key.choose:
                    label.locator("input").check()
        elif key.kind == "true_false":
            question.locator(f"input[value={'true' if key.truth else 'false'}]").check()
        elif key.kind == "numeric":
            question.locator("input[type=text]").fill(key.number)
        else:
            ranks = dict(key.ranks)
            items = question.locator(".ordering-item")
            for j in range(items.count()):
                item = items.nth(j)
                rank = ranks[squash(item.locator("label").inner_text())]
                item.locator("select").select_option(str(rank))
    return questions.count()
