"""The learner's pages: dashboard, modules, lessons, glossary."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from courseware.assessment.services import quiz_standing
from courseware.certification.policy import LearningRules
from courseware.content.catalogue import Catalogue, Lesson, Module
from courseware.content.render import PRACTICE_SLOT_RE, RenderedPractice, render_markdown
from courseware.content.search import MAX_QUERY_LENGTH, index_for
from courseware.core.db import begin_write
from courseware.learning import practice as practice_answers
from courseware.learning import progress
from courseware.learning.practice import PracticeRecord
from courseware.web.common import lesson_html as practice_html
from courseware.web.common.access import has_role
from courseware.web.common.assets import quiet_session
from courseware.web.common.certify import certify_if_earned
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.navigation import home_endpoint
from courseware.web.common.page_cache import (
    LRU,
    personal,
    render_shell,
    shell_allowed,
    shell_context,
)
from courseware.web.common.policy import policy
from courseware.web.learner.notices import notice_count

bp = Blueprint("learn", __name__)


def _module_or_404(slug: str) -> Module:
    module = catalogue().module(slug)
    if module is None:
        abort(404)
    return module


def _lesson_or_404(module: Module, slug: str) -> Lesson:
    lesson = module.lesson(slug)
    if lesson is None:
        abort(404)
    return lesson


@bp.get("/")
def dashboard():
    """Each role's home: staff go to theirs (navigation.HOMES), trainees see their course."""
    home = home_endpoint(current_user.role)
    if home != "learn.dashboard":
        return redirect(url_for(home))
    return _learner_dashboard()


@bp.get("/course")
def course():
    """The learner dashboard for everyone, so staff keep the learner's view of the course."""
    return _learner_dashboard()


def _learner_dashboard():
    cat = catalogue()
    data = progress.dashboard(db_session(), current_user.id, cat)
    errors = cat.errors if has_role("trainer", "admin") else []
    return render_template("learner/learn/dashboard.html", data=data, content_errors=errors)


@bp.get("/modules/<slug>")
def module(slug: str):
    mod = _module_or_404(slug)
    updates = progress.material_updates(db_session(), catalogue())
    lessons = progress.lesson_statuses(db_session(), current_user.id, mod, updates)
    intro = render_markdown(mod.intro, locale=str(get_locale())).html if mod.intro else ""
    return render_template(
        "learner/learn/module.html",
        module=mod,
        lessons=lessons,
        intro=intro,
        quiz=quiz_standing(db_session(), current_user.id, slug),
        has_quiz=slug in catalogue().quizzes,
    )


@bp.get("/modules/<slug>/<lesson_slug>")
def lesson(slug: str, lesson_slug: str):
    mod = _module_or_404(slug)
    les = _lesson_or_404(mod, lesson_slug)
    session = db_session()
    row = progress.recent_view(session, current_user.id, les)
    if row is None:  # a view worth recording: write it in a transaction of its own
        session.commit()
        begin_write(session)
        row = progress.record_view(session, current_user.id, les)
        session.commit()
    done = row.completed_at is not None
    updated = done and (les.path, row.completed_revision_id) in progress.material_updates(
        session, catalogue()
    )
    if not shell_allowed():
        return _full_lesson(mod, les, done, updated)
    shell = _lesson_shell(mod, les, done, updated)
    page = shell.blank
    if shell.practices:
        records = practice_answers.last_answers(session, current_user.id, les)
        if records:
            page = _with_answers(shell, les, records)
    return personal(page)


@dataclass(frozen=True)
class LessonShell:
    """A lesson page as every reader in the same state sees it (``page_cache`` markers in
    place of the reader's CSRF token and name)."""

    page: str  # the practice slots still empty
    blank: str  # every exercise unanswered: what a reader without answers sees
    forms: tuple[str, ...]  # each exercise's unanswered form, by slot
    practices: tuple[RenderedPractice, ...]


# Shells kept per catalogue: lessons x locales x reading states x roles that read them.
SHELLS_KEPT = 1024


def _lesson_shell(mod: Module, les: Lesson, done: bool, updated: bool) -> LessonShell:
    """The lesson's shell for this reader's locale, role and reading state, rendered once.

    Kept with the catalogue (the course as published now): a publish or an import builds
    a new catalogue on every worker's next request, so a changed lesson shows at once.
    """
    cat = catalogue()
    shells = cat.extras.get("lesson_shells")
    if shells is None:
        shells = cat.extras.setdefault("lesson_shells", LRU(SHELLS_KEPT))
    rule = reading_rule()
    locale = str(get_locale())
    key = shell_key(les, locale, current_user.role, done, updated, rule, notice_count())
    shell = shells.get(key)
    if shell is not None:
        return shell
    rendered = render_markdown(les.body, cat.glossary_terms, locale)
    before, after = mod.neighbours(les.slug)
    page = render_shell(
        "learner/learn/lesson.html",
        module=mod,
        lesson=les,
        rendered=rendered,
        html=rendered.html,
        done=done,
        updated=updated,
        before=before,
        after=after,
        rule=rule,
    )
    forms = tuple(
        practice_html.practice_form(p, les, None, **shell_context()) for p in rendered.practices
    )
    blank = _fill_slots(page, lambda index: forms[index] if index < len(forms) else "")
    return shells.put(key, LessonShell(page, blank, forms, rendered.practices))


def shell_key(
    les: Lesson,
    locale: str,
    role: str,
    done: bool,
    updated: bool,
    rule: progress.ReadingRule,
    unread_notices: int,
) -> tuple:
    """What tells apart the shells of one lesson: everything the page shows that is not the
    reader's token or name. The header shows the trainee's unread notices: a count of their
    own, so it is in the key. ``lesson_fast`` builds the same key without Flask's request."""
    return (les.path, locale, role, done, updated, rule.minutes_for(les), unread_notices)


def cached_shell(cat: Catalogue, key: tuple) -> LessonShell | None:
    """The shell kept for ``key`` with this catalogue, if one was rendered."""
    shells = cat.extras.get("lesson_shells")
    return shells.get(key) if shells is not None else None


def _fill_slots(page: str, fill: Callable[[int], str]) -> str:
    return PRACTICE_SLOT_RE.sub(lambda match: fill(int(match.group(1))), page)


def _with_answers(shell: LessonShell, les: Lesson, records: Mapping[str, PracticeRecord]) -> str:
    """The shell with this reader's answered exercises rendered for them alone."""

    def fill(index: int) -> str:
        if index >= len(shell.practices):
            return ""
        practice = shell.practices[index]
        exercise = practice.block.exercise
        record = records.get(exercise.id) if exercise else None
        if record is None:
            return shell.forms[index]
        return practice_html.practice_form(practice, les, record)

    return _fill_slots(shell.page, fill)


def _full_lesson(mod: Module, les: Lesson, done: bool, updated: bool) -> str:
    """The lesson page rendered for this request alone (flashed messages, an invalid answer)."""
    rendered = render_markdown(les.body, catalogue().glossary_terms, str(get_locale()))
    html = rendered.html
    if rendered.practices:
        records = practice_answers.last_answers(db_session(), current_user.id, les)
        invalid = request.args.get("invalid", "")
        html = practice_html.lesson_html(rendered, les, records, invalid)
    before, after = mod.neighbours(les.slug)
    return render_template(
        "learner/learn/lesson.html",
        module=mod,
        lesson=les,
        rendered=rendered,
        html=html,
        done=done,
        updated=updated,
        before=before,
        after=after,
        rule=reading_rule(),
    )


def reading_rule(rules: LearningRules | None = None) -> progress.ReadingRule:
    """What marking a lesson done asks: the policy's learning rules (``rules``, when the
    caller has them without an application context)."""
    rules = rules or policy().learning
    return progress.ReadingRule(
        rules.read_min_seconds, rules.read_min_share, rules.read_requires_end
    )


def _whole_seconds(text: str | None) -> int:
    try:
        return max(0, int(text or 0))
    except ValueError:
        return 0


def _not_read_yet(check: progress.ReadCheck) -> str:
    if check.seconds_left:
        minutes = -(-check.required_seconds // 60)
        return _(
            "Not marked done yet: this lesson asks for at least %(minutes)s minutes of "
            "reading, and you have been on it for %(spent)s. Read on, to the end, and "
            "mark it done then.",
            minutes=minutes,
            spent=_duration(check.seconds),
        )
    return _("Not marked done yet: read the lesson to its end first, then mark it done.")


def _duration(seconds: int) -> str:
    if seconds < 60:
        return _("%(n)s seconds", n=seconds)
    return _("%(n)s minutes", n=seconds // 60)


@bp.post("/modules/<slug>/<lesson_slug>/done")
def mark_done(slug: str, lesson_slug: str):
    mod = _module_or_404(slug)
    les = _lesson_or_404(mod, lesson_slug)
    session = db_session()
    if request.form.get("undo") == "1":
        progress.mark_not_done(session, current_user.id, les)
        session.commit()
        return redirect(url_for("learn.lesson", slug=slug, lesson_slug=lesson_slug))
    session.commit()
    begin_write(session)  # it reads the row, then writes: take the write lock first
    check = progress.complete_reading(
        session,
        current_user.id,
        les,
        reading_rule(),
        reported_seconds=_whole_seconds(request.form.get("seconds")),
        end_reached=request.form.get("end") == "1",
        reread=request.form.get("reread") == "1",
    )
    if not check.done:
        session.commit()  # the time credited so far is kept
        flash(_not_read_yet(check), "warning")
        return redirect(
            url_for("learn.lesson", slug=slug, lesson_slug=lesson_slug, _anchor="lesson-end")
        )
    certify_if_earned(current_user.id)  # in the same transaction, and commits it
    if request.form.get("reread") == "1":
        flash(_("Thank you: the update is marked as read."), "success")
        return redirect(url_for("learn.module", slug=slug))
    _before, after = mod.neighbours(les.slug)
    if after is not None:
        return redirect(url_for("learn.lesson", slug=slug, lesson_slug=after.slug))
    return redirect(url_for("learn.module", slug=slug))


@bp.post("/modules/<slug>/<lesson_slug>/practice/<exercise_id>")
def practice(slug: str, lesson_slug: str, exercise_id: str):
    """Check and record an answer to a practice exercise; ungraded, for the learner's review.

    A plain form post is redirected back to the exercise, which shows the feedback; a
    script's fetch (Accept: application/json) gets the feedback as HTML in JSON.
    """
    mod = _module_or_404(slug)
    les = _lesson_or_404(mod, lesson_slug)
    rendered = render_markdown(les.body, catalogue().glossary_terms, str(get_locale()))
    exercise = practice_html.find_practice(rendered, exercise_id)
    if exercise is None or exercise.block.exercise is None:
        abort(404)
    session = db_session()
    session.commit()
    begin_write(session)
    checked, record = practice_answers.record_answer(
        session, current_user.id, les, exercise.block.exercise, request.form.get("answer", "")
    )
    session.commit()
    if request.accept_mimetypes.best == "application/json":
        feedback = practice_html.render_feedback(exercise, record, not checked.valid)
        status = 200 if checked.valid else 400
        return jsonify(valid=checked.valid, correct=checked.correct, feedback=feedback), status
    invalid = {} if checked.valid else {"invalid": exercise_id}
    return redirect(
        url_for(
            "learn.lesson",
            slug=slug,
            lesson_slug=lesson_slug,
            _anchor=f"practice-{exercise_id}",
            **invalid,
        )
    )


@bp.post("/modules/<slug>/<lesson_slug>/time")
@quiet_session
def reading_time(slug: str, lesson_slug: str):
    """Reading time reported by the page when it is hidden or left (a beacon)."""
    mod = _module_or_404(slug)
    les = _lesson_or_404(mod, lesson_slug)
    try:
        seconds = int(request.form.get("seconds", ""))
    except ValueError:
        return jsonify(error="seconds must be a whole number"), 400
    if seconds < 0:
        return jsonify(error="seconds must not be negative"), 400
    session = db_session()
    total = progress.add_reading_time(session, current_user.id, les, seconds)
    if request.form.get("end") == "1":
        progress.note_end_reached(session, current_user.id, les)
    session.commit()
    return jsonify(seconds_spent=total)


@bp.get("/search")
def search():
    query = (request.args.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    hits = index_for(catalogue()).search(query) if query else []
    return render_template("learner/learn/search.html", query=query, hits=hits)


@bp.get("/glossary")
def glossary():
    gl = catalogue().glossary
    if gl is None:
        abort(404)
    return render_template("learner/learn/glossary.html", glossary=gl)
