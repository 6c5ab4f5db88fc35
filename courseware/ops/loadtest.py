"""Many workers, one database: ``python -m courseware.ops.loadtest --learners 50 --seconds 30``.

Starts gunicorn with two workers on PostgreSQL, with sign-in throttling kept in Redis, and
runs simulated learners against it from this process: each signs in, opens the dashboard,
reads lessons and marks them done, takes a module quiz (and sends the submission twice, as a
double click does), and decides a loan case. Afterwards it checks in the database that every
submitted attempt and every decision is recorded exactly once, and that the failed sign-ins
of one account were counted across both workers (Redis); it prints the figures and exits 1
on any error.

The database is emptied and set up afresh: ``COURSEWARE_LOADTEST_DATABASE_URL`` (default
database ``loadtest`` on the local PostgreSQL server, created if missing); Redis at
``COURSEWARE_LOADTEST_REDIS_URL`` (default 127.0.0.1:6379, database 13, which is flushed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import threading
import time
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from courseware.ops.harness import Browser, free_port, gunicorn, worker_rss_mb

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/loadtest"
DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
PASSWORD = "loadtest-password-not-secret"  # noqa: S105 - synthetic accounts

# ------------------------------------------------------------------ HTTP helpers


class FormFields(HTMLParser):
    """The fields of the first form with the given id or action, as a browser would fill it:
    the first choice of each radio group, positions 1..n for the steps to order, 1 in text."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.inside = marker, False
        self.fields: dict[str, list[str]] = defaultdict(list)
        self.select: str | None = None
        self.radios: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = self.marker in (a.get("id", ""), a.get("action", ""))
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            name, kind = a["name"], a.get("type", "text")
            if kind == "hidden":
                self.fields[name] = [a.get("value", "")]
            elif kind == "radio" and name not in self.radios:
                self.radios.add(name)
                self.fields[name] = [a.get("value", "")]
            elif kind == "checkbox" and name.startswith("q-") and not self.fields[name]:
                self.fields[name] = [a.get("value", "")]
            elif kind == "text":
                self.fields[name] = ["1"]
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and a.get("value"):
            self.fields.setdefault(self.select, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None

    def filled(self) -> dict[str, list[str]]:
        fields = {k: v for k, v in self.fields.items() if v or re.fullmatch(r"q-\d+-\d+", k)}
        steps: dict[str, list[str]] = defaultdict(list)
        for name in fields:
            if match := re.fullmatch(r"(q-\d+)-\d+", name):
                steps[match.group(1)].append(name)
        for names in steps.values():
            for position, name in enumerate(names, 1):
                fields[name] = [str(position)]
        return fields


def form_fields(html: str, marker: str) -> dict[str, list[str]]:
    parser = FormFields(marker)
    parser.feed(html)
    return parser.filled()


# ------------------------------------------------------------------ the simulated learners


class Tally:
    """Requests by kind with their times, errors, and what was submitted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.attempts: set[int] = set()
        self.decisions: set[int] = set()
        self.double_submits = 0

    def timed(
        self,
        kind: str,
        browser: Browser,
        method: str,
        path: str,
        form: Any = None,
        expect: tuple[int, ...] = (200,),
    ) -> tuple[int, str, str]:
        started = time.perf_counter()
        try:
            found = browser.request(method, path, form)
        except OSError as exc:
            found = (0, str(exc), "")
        with self.lock:
            self.times[kind].append((time.perf_counter() - started) * 1000)
            if found[0] not in expect:
                self.errors.append(f"{method} {path}: {found[0]} {found[1][:120]!r}")
        return found


def learner(
    base: str, username: str, deadline: float, tally: Tally, catalogue: dict[str, Any]
) -> None:
    rng = random.Random(username)  # noqa: S311 - choosing pages
    browser = Browser(base)
    tally.timed("sign-in page", browser, "GET", "/login")
    form = {"csrf_token": browser.csrf, "username": username, "password": PASSWORD}
    if tally.timed("sign in", browser, "POST", "/login", form, (302,))[0] != 302:
        return
    modules, cases = list(catalogue["modules"]), list(catalogue["cases"])
    rng.shuffle(cases)
    for step in range(10_000):
        if time.monotonic() >= deadline:
            return
        tally.timed("dashboard", browser, "GET", "/")
        module, lessons = modules[step % len(modules)]
        for lesson in lessons[: rng.randint(1, 3)]:
            path = f"/modules/{module}/{lesson}"
            tally.timed("lesson", browser, "GET", path)
            # As the lesson page's script would: the time read and the end reached.
            done = {"csrf_token": browser.csrf, "seconds": "900", "end": "1"}
            tally.timed("lesson done", browser, "POST", f"{path}/done", done, (302,))
        quiz(browser, tally, module)
        if cases:
            decide(browser, tally, cases[step % len(cases)])


def quiz(browser: Browser, tally: Tally, module: str) -> None:
    tally.timed("quiz overview", browser, "GET", f"/quiz/{module}")
    status, _body, location = tally.timed(
        "quiz start", browser, "POST", f"/quiz/{module}/start", {"csrf_token": browser.csrf}, (302,)
    )
    if status != 302 or "/attempts/" not in location:
        return  # passed already, or cooling down after a failed attempt: no new attempt
    status, page, _location = tally.timed("quiz attempt", browser, "GET", location)
    if status != 200:
        return
    fields = form_fields(page, f"{location}/submit")
    answers = {**fields, "csrf_token": browser.csrf}
    results: list[tuple[int, str, str]] = []

    def send() -> None:
        twin = Browser(browser.base)  # the same signed-in visitor, a second connection
        twin.cookies = dict(browser.cookies)
        path = f"{location}/submit"
        results.append(tally.timed("quiz submit", twin, "POST", path, answers, (303,)))

    threads = [threading.Thread(target=send) for _ in range(2)]  # a double click
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with tally.lock:
        tally.double_submits += 1
        for status, _body, target in results:
            if status == 303 and target.endswith("/review"):
                tally.attempts.add(int(target.split("/")[-2]))
    tally.timed("quiz review", browser, "GET", f"{location}/review")


def decide(browser: Browser, tally: Tally, slug: str) -> None:
    status, page, _location = tally.timed("case", browser, "GET", f"/cases/{slug}")
    if status != 200:
        return
    fields = form_fields(page, "decision")
    status, _body, target = tally.timed(
        "case decide",
        browser,
        "POST",
        f"/cases/{slug}/decide",
        {**fields, "csrf_token": browser.csrf},
        (303,),
    )
    if status == 303 and "/decisions/" in target:
        with tally.lock:
            tally.decisions.add(int(target.rsplit("/", 1)[1]))
        tally.timed("case outcome", browser, "GET", target)


# ------------------------------------------------------------------ set-up and checks


def prepare(url: str, learners: int, background: int) -> tuple[list[str], dict[str, Any]]:
    """An empty database, migrated, with the course, background learners and ours."""
    from sqlalchemy import insert, select

    from courseware.accounts import users as accounts
    from courseware.certification.policy import Policy
    from courseware.core.db import make_engine, make_session_factory
    from courseware.core.models import User
    from courseware.ops import migrate
    from courseware.ops.harness import empty_database, shipped_course
    from courseware.ops.seed import seed_load

    empty_database(url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    names = [f"load-{n:03d}" for n in range(learners)]
    with make_session_factory(engine)() as session:
        catalogue = shipped_course(session)
        password = accounts.hash_password(PASSWORD)
        seed_load(session, catalogue, Policy(), background, password_hash=password)
        session.execute(
            insert(User),
            [
                {
                    "username": name,
                    "display_name": f"壓測學員{n}",
                    "branch": "台北分行",
                    "role": "trainee",
                    "password_hash": password,
                    "session_version": 1,
                }
                for n, name in enumerate(names)
            ],
        )
        session.commit()
        assert session.scalar(select(User.id).where(User.username == names[0]))
    engine.dispose()
    shape = {
        "modules": [
            (m.slug, [lesson.slug for lesson in m.lessons])
            for m in catalogue.modules
            if m.slug in catalogue.quizzes
        ],
        # A new trainee opens the difficulty-1 cases (harder ones unlock as they are decided:
        # cases.unlock_after in settings.yaml), so the virtual learners decide those.
        "cases": sorted(
            slug for slug, case in catalogue.cases.items() if case.spec.difficulty == 1
        ),
    }
    return names, shape


def check_database(url: str, names: list[str], tally: Tally) -> dict[str, Any]:
    """Every submitted attempt and every decision the learners saw, once in the database."""
    from sqlalchemy import func, select

    from courseware.core.db import make_engine, make_session_factory
    from courseware.core.models import CaseDecision, QuizAttempt, User

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        ours = select(User.id).where(User.username.in_(names))
        attempts = session.execute(
            select(QuizAttempt.id, QuizAttempt.status).where(QuizAttempt.user_id.in_(ours))
        ).all()
        decisions = session.scalars(
            select(CaseDecision.id).where(CaseDecision.user_id.in_(ours))
        ).all()
        tokens = session.execute(
            select(CaseDecision.ticket_token, func.count())
            .where(CaseDecision.user_id.in_(ours))
            .group_by(CaseDecision.ticket_token)
            .having(func.count() > 1)
        ).all()
    engine.dispose()
    submitted = {a.id for a in attempts if a.status == "submitted"}
    problems = []
    if submitted != tally.attempts:
        problems.append(
            f"submitted attempts: {len(submitted)} in the database, "
            f"{len(tally.attempts)} seen submitted"
        )
    if set(decisions) != tally.decisions or tokens:
        problems.append(f"decisions: {len(decisions)} in the database, {len(tally.decisions)} seen")
    return {"attempts": len(submitted), "decisions": len(decisions), "problems": problems}


def throttle_shared(base: str, limit: int = 10) -> bool:
    """Failed sign-ins for one account, spread over both workers, are counted together."""
    statuses = []
    for _ in range(limit + 2):
        browser = Browser(base)
        browser.get("/login")
        status, _b, _l = browser.post(
            "/login", {"username": "load-nobody", "password": "wrong-one"}
        )
        statuses.append(status)
    return statuses[:limit] == [200] * limit and statuses[limit:] == [429, 429]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--background", type=int, default=200, help="seeded learners besides")
    args = parser.parse_args(argv)
    url = os.environ.get("COURSEWARE_LOADTEST_DATABASE_URL") or DEFAULT_DB
    redis_url = os.environ.get("COURSEWARE_LOADTEST_REDIS_URL") or DEFAULT_REDIS
    from courseware.ops.harness import ensure_postgres_database

    ensure_postgres_database(url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    started = time.monotonic()
    names, shape = prepare(url, args.learners, args.background)
    print(f"set up in {time.monotonic() - started:.1f} s: {len(names)} learners", file=sys.stderr)
    port = free_port()
    directory = ROOT / "instance" / "loadtest"
    directory.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "COURSEWARE_DATABASE_URL": url,
        "COURSEWARE_REDIS_URL": redis_url,
        "COURSEWARE_SECRET_KEY": "loadtest",
        "COURSEWARE_INSTANCE_PATH": str(directory),
        "COURSEWARE_LOG_LEVEL": "WARNING",
    }
    tally = Tally()
    with gunicorn("courseware:create_app()", port, env, directory / "gunicorn.log") as server:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + args.seconds
        begun = time.monotonic()
        threads = [
            threading.Thread(target=learner, args=(base, name, deadline, tally, shape))
            for name in names
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - begun
        rss = worker_rss_mb(server.pid)
        shared = throttle_shared(base)
    checked = check_database(url, names, tally)
    requests = sum(len(t) for t in tally.times.values())
    report = {
        "learners": len(names),
        "seconds": round(elapsed, 1),
        "requests": requests,
        "rps": round(requests / elapsed, 1),
        "errors": len(tally.errors),
        "attempts_submitted": checked["attempts"],
        "double_submits": tally.double_submits,
        "decisions": checked["decisions"],
        "throttle_shared": shared,
        "worker_rss_mb": [round(r, 1) for r in rss],
        "problems": checked["problems"],
    }
    print(f"{'request':16} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, times in sorted(tally.times.items()):
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        median = statistics.median(times)
        print(f"{kind:16} {len(times):6d} {median:8.1f} {p95:8.1f} {ordered[-1]:8.1f}")
    for error in tally.errors[:20]:
        print(f"error: {error}", file=sys.stderr)
    print(json.dumps(report, ensure_ascii=False))
    ok = not tally.errors and not checked["problems"] and shared and checked["attempts"] > 0
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
