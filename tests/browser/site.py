"""The live site the browser tests drive, what they arrange in it, and what they watch for."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Flask
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Request, expect
from sqlalchemy.orm import Session

from courseware import certification
from courseware.accounts import users as accounts
from courseware.assessment import attempts as quiz_engine
from courseware.casework import decisions as casework
from courseware.casework import stages as case_stages
from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.content.store import published_sources
from courseware.core import clock
from courseware.core.db import begin_write
from courseware.core.models import Certificate, QuizAttempt, User
from courseware.hr import cohorts
from courseware.learning import progress
from courseware.lending.simulation import evaluate_options
from courseware.lending.stages import is_staged

# Installed into every page before the site's own scripts: CSP violations are collected.
WATCH_SCRIPT = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' +
    (e.sourceFile || '') + ':' + (e.lineNumber || ''));
});
"""


@dataclass
class Watch:
    """Everything that went wrong in the pages of one browser context."""

    context: BrowserContext
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.add_init_script(WATCH_SCRIPT)
        self.context.on("page", self._page)
        self.context.on("requestfailed", self._failed)
        self.context.on("response", self._response)

    def _page(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.problems.append(f"JS error: {error}"))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource"):
            return  # answered by status below: a 400 for a refused form is expected
        self.problems.append(f"console error: {message.text} ({message.location})")

    def _failed(self, request: Request) -> None:
        failure = request.failure or ""
        # A download or a navigation cut short by the next one is not a failure.
        if "ERR_ABORTED" in failure or request.resource_type == "document":
            return
        if "/static/" in request.url:
            self.problems.append(f"request failed: {request.url} {failure}")

    def _response(self, response: Any) -> None:
        own_file = "/static/" in response.url or response.url.endswith("/favicon.ico")
        if response.status >= 500 or (own_file and response.status >= 400):
            self.problems.append(f"{response.url}: HTTP {response.status}")

    def csp(self, page: Page) -> list[str]:
        try:
            return page.evaluate("window.__cspViolations || []")
        except Exception:  # noqa: BLE001 - the page may be closing: nothing to collect
            return []

    def assert_clean(self) -> None:
        for page in self.context.pages:
            self.problems.extend(f"CSP violation: {v}" for v in self.csp(page))
        assert not self.problems, "the browser saw problems:\n" + "\n".join(self.problems)


@dataclass
class LiveSite:
    url: str
    app: Flask
    password: str

    def session(self) -> Session:
        return self.app.extensions["courseware.core.db"].sessions()

    def catalogue(self) -> Catalogue:
        with self.session() as db:
            return build_catalogue(*published_sources(db))

    def user(
        self, role: str = "trainee", branch: str = "台北分行", name: str | None = None
    ) -> User:
        """A new account with a unique user name."""
        username = f"{role}-{secrets.token_hex(3)}"
        with self.session() as db:
            user = accounts.create_user(
                db,
                accounts.NewAccount(
                    username,
                    name or f"{username} 測試",
                    role,
                    employee_id=f"E-{username}",
                    branch=branch,
                ),
                self.password,
            )
            db.commit()
            db.refresh(user)
            db.expunge(user)
        return user

    # Arranging progress without the browser --------------------------------------

    def finish_lessons(self, user: User, *, except_: tuple[str, str] | None = None) -> None:
        cat = self.catalogue()
        with self.session() as db:
            for module in cat.modules:
                for lesson in module.lessons:
                    if (module.slug, lesson.slug) != except_:
                        progress.mark_done(db, user.id, lesson, clock.utcnow())
            db.commit()

    def pass_quizzes(self, user: User, *, except_: str | None = None) -> None:
        """Passed attempts as rows (the quiz flow itself is what the journeys drive)."""
        cat = self.catalogue()
        with self.session() as db:
            begin_write(db)
            for slug in cat.quizzes:
                if slug == except_:
                    continue
                now = clock.utcnow()
                db.add(
                    QuizAttempt(
                        user_id=user.id,
                        kind="module",
                        module_slug=slug,
                        token=secrets.token_hex(16),
                        status="submitted",
                        pass_mark=0.8,
                        started_at=now,
                        submitted_at=now,
                        score=9,
                        max_score=10,
                        passed=True,
                    )
                )
            db.commit()

    def decide_cases(self, user: User, slugs: list[str]) -> None:
        """Real decisions (scored and simulated), each the expert's own answer."""
        cat = self.catalogue()
        revisions = cat.extras.get("case_revisions") or {}
        for slug in slugs:
            case = cat.cases[slug]
            with self.session() as db:
                begin_write(db)
                ticket = casework.issue_ticket(db, user.id, case, revisions.get(slug))
                db.commit()
                if is_staged(case):
                    self._decide_stages(db, user, case, ticket)
                    continue
                # The expert's answer to the variant this ticket serves.
                variant = casework.variant_of(case, ticket.seed)
                stats = evaluate_options(variant, casework.SEEDS)
                best = next(s.option_id for s in stats if s.is_best)
                casework.submit_decision(
                    db,
                    user.id,
                    ticket.token,
                    case,
                    best,
                    sorted(variant.key_flags),
                    list(variant.spec.key.key_reasons),
                    ticket.seed,
                    "" if ticket.case_revision_id is None else ticket.case_revision_id,
                )
                db.commit()

    def begin_stages(self, user: User, slug: str) -> None:
        """A multi-visit case left after its first stage, decided with its first lending
        option, so the next visit is waiting."""
        cat = self.catalogue()
        case = cat.cases[slug]
        revisions = cat.extras.get("case_revisions") or {}
        lend = next(o.id for o in case.options if o.kind in ("approve", "approve_modified"))
        with self.session() as db:
            begin_write(db)
            ticket = casework.issue_ticket(db, user.id, case, revisions.get(slug))
            db.commit()
            begin_write(db)
            revision = "" if ticket.case_revision_id is None else ticket.case_revision_id
            case_stages.submit_stage(
                db, user.id, ticket.token, case, 0, lend, [], [], ticket.seed, revision
            )
            db.commit()

    def _decide_stages(self, db: Session, user: User, case: Any, ticket: Any) -> None:
        """The expert's answer at every stage of a multi-visit case or a village book."""
        revision = "" if ticket.case_revision_id is None else ticket.case_revision_id
        while (view := case_stages.current_stage(db, case, ticket)) is not None:
            stats = evaluate_options(view.case, casework.SEEDS)
            best = next(s.option_id for s in stats if s.is_best)
            begin_write(db)
            result = case_stages.submit_stage(
                db,
                user.id,
                ticket.token,
                case,
                view.index,
                best,
                sorted(view.case.key_flags),
                list(view.case.spec.key.key_reasons),
                ticket.seed,
                revision,
            )
            db.commit()
            if result.decision is not None:
                return

    def attempt(self, user: User, module: str, *, submit: bool, rng: Any = None) -> int:
        """A real attempt at a module's quiz: left open, or sent in blank (and failed).
        ``rng`` fixes the draw (the engine's own generator otherwise)."""
        bank = self.catalogue().quizzes[module]
        with self.session() as db:
            begin_write(db)
            attempt = quiz_engine.start_attempt(db, user.id, bank, rng=rng)
            db.commit()
            if submit:
                begin_write(db)
                quiz_engine.submit_attempt(db, user.id, attempt.id, attempt.token, {})
                db.commit()
            return attempt.id

    def decision_id(self, user: User, slug: str) -> int:
        with self.session() as db:
            found = casework.counting_decision(db, user.id, slug)
            assert found is not None
            return found.id

    def certify(self, user: User) -> Certificate:
        """Everything done, the certificate issued as the site would issue it."""
        self.finish_lessons(user)
        self.pass_quizzes(user)
        cat = self.catalogue()
        self.decide_cases(user, list(cat.cases)[:8])
        policy = self.app.extensions["courseware.certification.policy"].policy
        with self.session() as db:
            begin_write(db)
            cert = certification.check_and_issue(db, user.id, cat, policy)
            assert cert is not None, "the arranged learner was not certified"
            db.commit()
            db.refresh(cert)
            db.expunge(cert)
        return cert

    def cohort(self, name: str, branch: str, due: date, learners: list[User]) -> int:
        with self.session() as db:
            begin_write(db)
            group = cohorts.create_cohort(db, name, branch, due, None)
            db.flush()
            members = [db.get(User, u.id) for u in learners]
            cohorts.assign(db, group, [m for m in members if m is not None], None)
            db.commit()
            return group.id

    def remind(self) -> int:
        """What ``courseware reminders run`` would write now (in the app only, no email)."""
        from courseware.hr.notices import run_reminders

        policy = self.app.extensions["courseware.certification.policy"].policy
        with self.session() as db:
            begin_write(db)
            outcome = run_reminders(db, policy, self.app.config.get("TIMEZONE") or "Asia/Taipei")
            db.commit()
            return outcome.notices


# Driving pages -----------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(password)
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator(".user-link")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator(".logout-form button").click()
    expect(page.locator("#username")).to_be_visible()


def no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate("({doc: document.documentElement.scrollWidth, view: window.innerWidth})")
    assert widths["doc"] <= widths["view"], f"the page scrolls sideways: {widths} on {page.url}"


def text_of(page: Page, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).first.inner_text()).strip()


def open_menu(page: Page) -> None:
    """On a phone the navigation sits behind the menu button: open it (a no-op elsewhere)."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(page.locator(".main-nav")).to_be_visible()


def case_step(page: Page, step: str) -> None:
    """Show one step of the case page (step-dossier, step-findings, step-decision) the way
    a trainee does, through the progress bar."""
    page.locator(f".step-progress [data-step-link={step}]").click()
    expect(page.locator(f"#{step}")).to_be_visible()
