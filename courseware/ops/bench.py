"""The scale and speed benchmark: ``python -m courseware.ops.bench [--quick]``.

Measures in one run, on this machine: the lesson page's requests per second under gunicorn
against a minimal Flask app's under the same settings (the framework's floor); HR's
dashboard, filtered learner table and 10,000-learner export on SQLite and PostgreSQL; a quiz
submission; the cold evaluation of a case's options; a worker's memory; the most SQL
statements any main page issues. Prints a table and, as its last line, one JSON object.

The databases are seeded once (``courseware.ops.seed``) and cached: SQLite under
``instance/bench/`` (or ``COURSEWARE_BENCH_DIR``), PostgreSQL in the database named by
``COURSEWARE_BENCH_POSTGRES_URL`` (default: database ``bench`` on the local server, created
if missing). ``--quick`` reuses them (migrating them when the schema moved) and runs
shorter loads (under five minutes); without it they are seeded afresh, which also times the
seeding. Loads go to 127.0.0.1 only.

HR figures, in milliseconds, for ``<db>`` ``sqlite`` or ``postgres``:

- ``hr_<page>_ms_<db>``: warm, the median of repeated requests in one process;
- ``hr_<page>_cold_ms_<db>``: cold, the very first request a freshly started gunicorn worker
  serves (the shipped gunicorn.conf.py: the master loads the app, does its start-up work and
  forks; no request reaches the worker before the timed one; the median of three workers):
  the funnel, page and query caches are empty;
- ``hr_<page>_cold_bare_ms_<db>``: the same first request in a new interpreter that only
  creates the app (no server start-up work: every template compiled on the way), for
  comparison, no target;
- ``<page>`` is ``dashboard`` (``/hr``, with the module funnel), ``table`` (a filtered,
  sorted page of ``/hr/learners``) and ``table_search`` (``/hr/learners?q=``);
- ``hr_funnel_recount_ms_<db>``: the dashboard when its funnel must be counted afresh (the
  funnel is shared by every worker for ``compliance.funnel_cache_seconds``; its first view
  after that pays this), warm process;
- ``hr_export_10k_ms_<db>`` and ``hr_export_peak_mb_<db>``: the CSV export of every learner.

The full run (no ``--quick``) adds the same HR figures on 100,000 learners on PostgreSQL,
keys ending ``_postgres_100k`` (e.g. ``hr_dashboard_cold_ms_postgres_100k``), from the
database named by ``COURSEWARE_BENCH_POSTGRES_100K_URL`` (default ``bench100k``), seeded
once and then reused (``--learners-100k`` changes the number).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import delete, event, func, insert, select

from courseware.accounts import users as accounts
from courseware.certification.policy import load_policy
from courseware.content.store import CatalogueCache
from courseware.core.db import make_engine, make_session_factory
from courseware.core.models import (
    AttemptQuestion,
    CaseDecision,
    Certificate,
    HrSnapshot,
    QuizAttempt,
    User,
)
from courseware.hr import summary
from courseware.hr.keys import course_keys
from courseware.ops import migrate
from courseware.ops.harness import (
    Browser,
    empty_database,
    ensure_postgres_database,
    free_port,
    gunicorn,
    shipped_course,
    wait_for_workers,
    worker_rss_mb,
)
from courseware.ops.seed import seed_load

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "bench-password-not-secret"  # noqa: S105 - every seeded bench account's; the data is synthetic
SECRET = "bench"  # noqa: S105 - the bench's servers' session key; the data is synthetic
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
TARGETS = {
    "lesson_rps_ratio": (">=", 0.6),
    "hr_dashboard_ms": ("<", 150),
    "hr_dashboard_cold_ms": ("<", 150),
    "hr_table_ms": ("<", 150),
    "hr_table_cold_ms": ("<", 150),
    "hr_table_search_ms": ("<", 150),
    "hr_table_search_cold_ms": ("<", 150),
    "hr_export_10k_ms": ("<", 2000),
    "quiz_submit_ms": ("<", 20),
    "case_ev_ms": ("<", 150),
    "worker_rss_mb": ("<", 150),
    "queries_per_page": ("<=", 12),
}


def floor_app() -> Flask:
    """The floor: a minimal Flask app returning a short string."""
    app = Flask("floor")
    app.add_url_rule("/", "index", lambda: "ok")
    return app


# ------------------------------------------------------------------ the databases


def _marker(directory: Path, name: str) -> Path:
    return directory / f"{name}.json"


def prepare(url: str, directory: Path, name: str, learners: int, quick: bool) -> float | None:
    """Seed ``url`` with ``learners`` (unless --quick finds it seeded, then migrated to the
    newest schema); the seconds it took."""
    marker = _marker(directory, name)
    wanted = {"learners": learners, "schema": migrate.head_revision(), "url": url}
    if quick and marker.is_file():
        seeded = json.loads(marker.read_text())
        if {**seeded.get("key", {}), "schema": wanted["schema"]} == wanted:
            if seeded["key"]["schema"] != wanted["schema"]:
                engine = make_engine(url)
                try:
                    migrate.upgrade(engine)
                    rebuild_summary(engine)  # a new schema: the HR summary counted afresh
                finally:
                    engine.dispose()
                marker.write_text(json.dumps({**seeded, "key": wanted}))
            return None
    marker.unlink(missing_ok=True)
    empty_database(url)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with make_session_factory(engine)() as session:
            catalogue = shipped_course(session)
            started = time.perf_counter()
            seed_load(
                session,
                catalogue,
                load_policy(ROOT / "settings.yaml").policy,
                learners,
                password_hash=accounts.hash_password(PASSWORD),
                progress=lambda n: print(".", end="", flush=True, file=sys.stderr),
            )
            seconds = time.perf_counter() - started
            print(file=sys.stderr)
    finally:
        engine.dispose()
    marker.write_text(json.dumps({"key": wanted, "seed_seconds": seconds}))
    return seconds


def rebuild_summary(engine: Any) -> None:
    """Count the HR summary with the shipped course (as ``courseware hr rebuild-summary``)."""
    with make_session_factory(engine)() as session:
        keys = course_keys(shipped_course(session), load_policy(ROOT / "settings.yaml").policy)
        summary.rebuild(session, summary.SummaryKeys.of(keys))
        session.commit()


# ------------------------------------------------------------------ in-process timings


def _app(url: str, directory: Path) -> Flask:
    from courseware import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "INSTANCE_PATH": str(directory),
            "LOG_LEVEL": "WARNING",
        }
    )


def _signed_in(app: Flask, user: User) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def _timed(client: Any, path: str, runs: int, before: Any = None) -> tuple[float, list[float]]:
    """The median milliseconds of GET ``path`` (the whole body read), after one warm-up;
    ``before()`` runs ahead of each request, outside the timing."""
    times = []
    for run in range(runs + 1):
        if before is not None:
            before()
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        assert response.status_code == 200, (path, response.status_code)
        if run:
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times


def _user(session: Any, role: str) -> User:
    return session.scalars(select(User).where(User.role == role, User.active).limit(1)).one()


HR_PAGES = {
    "dashboard": "/hr",
    "table": "/hr/learners?status=certified&sort=expires&dir=desc&page=3",
    "table_search": "/hr/learners?q=officer0004",
}


def hr_figures(url: str, directory: Path, runs: int) -> dict[str, float]:
    """HR's dashboard, a filtered table page and the full CSV export, timed in the process."""
    app = _app(url, directory)
    sessions = app.extensions["courseware.core.db"].sessions
    with sessions() as session:
        hr = _user(session, "hr")
        learners = session.scalar(
            select(func.count()).select_from(User).where(User.role == "trainee", User.active)
        )
    client = _signed_in(app, hr)
    found: dict[str, float] = {"learners": learners}
    for page, path in HR_PAGES.items():
        found[f"hr_{page}_ms"], _ = _timed(client, path, runs)
    # The funnel is shared for a minute (courseware.hr.reports.FunnelCache and its
    # snapshot): also time the page with it counted afresh, the first view of each minute.
    cache = app.extensions["courseware.funnel_cache"]

    def forget() -> None:
        cache.clear()
        with sessions() as session:
            session.execute(delete(HrSnapshot).where(HrSnapshot.name.like("funnel:%")))
            session.commit()

    found["hr_funnel_recount_ms"], _ = _timed(client, "/hr", runs, before=forget)
    found["hr_export_10k_ms"], _ = _timed(client, "/hr/learners/export.csv", max(3, runs // 2))
    found["hr_export_peak_mb"] = _export_peak(client, "/hr/learners/export.csv")
    branch = "/hr/learners/export.csv?branch=%E5%8F%B0%E6%9D%B1%E5%88%86%E8%A1%8C"  # 台東分行
    found["hr_export_branch_peak_mb"] = _export_peak(client, branch)
    app.extensions["courseware.core.db"].engine.dispose()
    return found


def _export_peak(client: Any, path: str) -> float:
    """Peak Python memory while streaming an export (the body read chunk by chunk)."""
    tracemalloc.start()
    response = client.get(path, buffered=False)
    size = sum(len(chunk) for chunk in response.response)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size > 0
    return round(peak / 2**20, 1)


def cold_figures(url: str, directory: Path, runs: int, bare_runs: int = 1) -> dict[str, float]:
    """Each HR page's first request, median of ``runs``: ``hr_<page>_cold_ms`` by a freshly
    started gunicorn worker (the shipped settings; see ``first_requests_of_new_workers``);
    ``hr_<page>_cold_bare_ms`` in a fresh interpreter that only creates the app (none of
    the server's start-up work), median of ``bare_runs``, for comparison."""
    found = first_requests_of_new_workers(url, directory, list(HR_PAGES.values()), runs)
    result = {}
    for page, path in HR_PAGES.items():
        result[f"hr_{page}_cold_ms"] = statistics.median(found[path])
        times = [first_request_in_new_process(url, directory, path) for _run in range(bare_runs)]
        result[f"hr_{page}_cold_bare_ms"] = statistics.median(times)
    return result


def _hr_reader(url: str) -> User:
    """An HR account, looked up on a connection of its own (not the measured app's)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return _user(session, "hr")
    finally:
        engine.dispose()


def _server_env(url: str, directory: Path) -> dict[str, str]:
    """The environment the bench's gunicorn servers run in."""
    return {
        **os.environ,
        "COURSEWARE_DATABASE_URL": url,
        "COURSEWARE_SECRET_KEY": SECRET,
        "COURSEWARE_INSTANCE_PATH": str(directory),
    }


def first_requests_of_new_workers(
    url: str, directory: Path, paths: list[str], runs: int
) -> dict[str, list[float]]:
    """Milliseconds of the very first request each freshly started gunicorn worker serves.

    One gunicorn with the shipped gunicorn.conf.py and one worker; for each sample the
    worker is stopped and the master forks a new one (as when a worker is recycled after
    its ``max_requests`` or dies; the first workers are forked the same way). Nothing
    reaches the new worker before the timed request, not even a sign-in: the HR reader's
    session cookie is signed here with the servers' key.
    """
    hr = _hr_reader(url)
    signer = Flask("signer")
    signer.secret_key = SECRET
    serializer = signer.session_interface.get_signing_serializer(signer)  # type: ignore[attr-defined]
    cookie = "session=" + serializer.dumps({"_user_id": hr.get_id(), "_fresh": True})
    found: dict[str, list[float]] = {path: [] for path in paths}
    port = free_port()
    env = _server_env(url, directory)
    log = directory / "gunicorn.log"
    with gunicorn("courseware:create_app()", port, env, log, workers=1, probe=False) as server:
        worker = wait_for_workers(server.pid, 1)[0]
        for sample, path in enumerate(path for _run in range(runs) for path in paths):
            if sample:  # a new worker for each sample
                os.kill(worker, signal.SIGTERM)
                worker = wait_for_workers(server.pid, 1, replacing=worker)[0]
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            started = time.perf_counter()
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            body = response.read()
            found[path].append((time.perf_counter() - started) * 1000)
            connection.close()
            assert response.status == 200 and body, (path, response.status)
    return found


def first_request_in_new_process(url: str, directory: Path, path: str) -> float:
    """Milliseconds of ``path``'s first request in a freshly started interpreter."""
    out = subprocess.run(  # noqa: S603 - this interpreter, this module
        [sys.executable, "-m", "courseware.ops.bench", "--first-request", url, path],
        env={**os.environ, "COURSEWARE_BENCH_DIR": str(directory)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["ms"])


def first_request(url: str, directory: Path, path: str) -> float:
    """In this (fresh) process: create the app, then time its first request of ``path``
    by an HR reader (the reader is looked up on a connection of its own, not the app's)."""
    hr = _hr_reader(url)
    app = _app(url, directory)
    client = _signed_in(app, hr)
    started = time.perf_counter()
    response = client.get(path)
    response.get_data()
    took = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (path, response.status_code)
    app.extensions["courseware.core.db"].engine.dispose()
    return took


def _answer_fields(question: AttemptQuestion) -> dict[str, str]:
    """The form fields that answer a served question rightly."""
    name, key, served = f"q-{question.position}", question.definition, question.served
    if question.qtype in ("single", "multiple"):
        keys = [k for k, _text in served["choices"]]
        picks = key["answer"] if isinstance(key["answer"], list) else [key["answer"]]
        return {name: [str(keys.index(p)) for p in picks]}  # type: ignore[dict-item]
    if question.qtype == "true_false":
        return {name: "true" if key["answer"] else "false"}
    if question.qtype == "numeric":
        return {name: str(key["answer"])}
    return {f"{name}-{shown}": str(index + 1) for shown, (index, _t) in enumerate(served["items"])}


def quiz_figures(url: str, directory: Path, runs: int) -> dict[str, Any]:
    """Median milliseconds of a quiz submission (passing: grading and certification check),
    each by a new learner; and the statement counts of the attempt page on the way."""
    app = _app(url, directory)
    sessions = app.extensions["courseware.core.db"].sessions
    times, counted = [], {}
    stamp = int(time.time() * 1000)
    for n in range(runs):
        with sessions() as session:
            uid = session.execute(
                insert(User).returning(User.id),
                [
                    {
                        "username": f"bench-quiz-{stamp}-{n}",
                        "display_name": "測試",
                        "branch": "台北分行",
                        "role": "trainee",
                        "password_hash": "x",
                        "session_version": 1,
                    }
                ],
            ).scalar_one()
            session.commit()
            user = session.get(User, uid)
        client = _signed_in(app, user)
        page = client.get("/quiz/basics").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        started = client.post("/quiz/basics/start", data={"csrf_token": token})
        attempt_path = started.location
        counted["/quiz/basics/attempts/<id>"] = count_statements(app, client, attempt_path)
        with sessions() as session:
            attempt_id = int(attempt_path.rsplit("/", 1)[1])
            attempt = session.get(QuizAttempt, attempt_id)
            form: dict[str, Any] = {"token": attempt.token, "csrf_token": token}
            for question in session.scalars(
                select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt_id)
            ):
                form.update(_answer_fields(question))
        begun = time.perf_counter()
        response = client.post(f"{attempt_path}/submit", data=form)
        times.append((time.perf_counter() - begun) * 1000)
        assert response.status_code == 303, response.status_code
    app.extensions["courseware.core.db"].engine.dispose()
    return {"quiz_submit_ms": statistics.median(times), "counts": counted}


def count_statements(app: Flask, client: Any, path: str) -> int:
    seen: list[int] = []
    engine = app.extensions["courseware.core.db"].engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):  # transaction control is not a query
            seen.append(1)

    client.get(path).get_data()  # warm: the worker has loaded the course
    event.listen(engine, "before_cursor_execute", note)
    try:
        response = client.get(path)
        response.get_data()
        assert response.status_code == 200, (path, response.status_code)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return len(seen)


def page_counts(url: str, directory: Path) -> dict[str, int]:
    """Statements of each main page, on the large data set, for the role that sees it."""
    app = _app(url, directory)
    sessions = app.extensions["courseware.core.db"].sessions
    with sessions() as session:
        learner = session.scalars(
            select(User)
            .join(Certificate, Certificate.user_id == User.id)
            .where(User.active)
            .limit(1)
        ).one()
        review, slug = session.execute(
            select(QuizAttempt.id, QuizAttempt.module_slug).where(
                QuizAttempt.user_id == learner.id, QuizAttempt.kind == "module"
            )
        ).first()
        decision = session.execute(
            select(CaseDecision.id, CaseDecision.case_slug).where(
                CaseDecision.user_id == learner.id
            )
        ).first()
        catalogue = CatalogueCache().get(session)
        staff = {role: _user(session, role) for role in ("trainer", "hr", "admin")}
    module = catalogue.modules[0]
    pages = {
        "trainee": [
            "/",
            f"/modules/{module.slug}",
            f"/modules/{module.slug}/{module.lessons[0].slug}",
            f"/quiz/{slug}",
            f"/quiz/{slug}/attempts/{review}/review",
            "/cases",
            f"/cases/{decision.case_slug}",
            f"/cases/{decision.case_slug}/decisions/{decision.id}",
            "/cases/portfolio",
            "/certificate",
            "/transcript",
        ],
        "trainer": ["/author", "/author/cases"],
        "hr": ["/hr", "/hr/learners", f"/hr/learners/{learner.id}"],
        "admin": ["/admin/"],
    }
    counts = {}
    for role, paths in pages.items():
        client = _signed_in(app, learner if role == "trainee" else staff[role])
        for path in paths:
            counts[path] = count_statements(app, client, path)
    app.extensions["courseware.core.db"].engine.dispose()
    return counts


def case_figures() -> dict[str, Any]:
    """Cold: draw a variant of every case template and evaluate all its options (500 seeds),
    as a trainee's first view of a case does; the slowest case (median of 3 variants)."""
    from courseware.casework import SEEDS, variant_of
    from courseware.lending.cases import load_case_dir
    from courseware.lending.simulation import clear_cache, evaluate_options

    cases, _errors = load_case_dir(ROOT / "case_studies")
    timings = {}
    for slug, case in sorted(cases.items()):
        runs = []
        for seed in range(3):
            clear_cache()
            started = time.perf_counter()
            evaluate_options(variant_of(case, seed), SEEDS)
            runs.append((time.perf_counter() - started) * 1000)
        timings[slug] = statistics.median(runs)
    worst = max(timings, key=timings.__getitem__)
    return {
        "case_ev_ms": timings[worst],
        "case_ev_worst": worst,
        "case_ev_median_ms": statistics.median(timings.values()),
        **stage_figures(cases),
    }


def stage_figures(cases: dict[str, Any]) -> dict[str, Any]:
    """Cold: the options of a multi-visit case's second visit (after its first lending
    option), the slowest template; and closing a village book (each loan's chosen option
    with the shock and without it, as the last decision on a book computes)."""
    from courseware.casework import SEEDS
    from courseware.casework.stages import BOOK_SEEDS
    from courseware.lending.simulation import clear_cache, evaluate_options
    from courseware.lending.stages import walk, with_shock

    result: dict[str, Any] = {}
    visits = {}
    for slug, case in sorted(cases.items()):
        if not case.spec.stages:
            continue
        lend = next(o.id for o in case.options if o.kind in ("approve", "approve_modified"))
        played = walk(case, 0, [lend])
        clear_cache()
        started = time.perf_counter()
        evaluate_options(played.cases[-1], SEEDS)
        visits[slug] = (time.perf_counter() - started) * 1000
    if visits:
        result["case_stage_ev_ms"] = round(max(visits.values()), 1)
    books = [c for c in cases.values() if c.spec.book is not None]
    if books:
        book = books[0]
        loans = walk(book, 0, [p.options[0].id for p in book.parts]).cases
        clear_cache()
        started = time.perf_counter()
        for loan in loans:
            for force in ("on", "off"):
                evaluate_options(with_shock(loan, force), BOOK_SEEDS)
        result["case_book_close_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


# ------------------------------------------------------------------ under gunicorn


def http_load(
    url: str, cookie: str | None, seconds: float, connections: int = 16
) -> dict[str, Any]:
    """Requests per second of GET ``url`` with ``connections`` at once: wrk when installed,
    else the multi-process driver in this module (heavier: its figures run lower)."""
    if shutil.which("wrk"):
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", url]
        if cookie:
            command[1:1] = ["-H", f"Cookie: {cookie}"]
        subprocess.run([*command[:-2], "-d2s", url], capture_output=True, check=True)  # noqa: S603
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
        http_load.driver = "wrk"  # type: ignore[attr-defined]
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        errors = re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
        )
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)

        def percentile(p: str) -> float | None:
            found = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
            if not found:
                return None
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]
            return round(float(found.group(1)) * scale, 2)

        return {
            "rps": rps,
            "errors": sum(int(n) for n in errors.groups()) if errors else 0,
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "p50_ms": percentile("50"),
            "p99_ms": percentile("99"),
        }
    http_load.driver = "python"  # type: ignore[attr-defined]
    return _python_load(url, cookie, seconds, connections)


def _python_load(url: str, cookie: str | None, seconds: float, connections: int) -> dict[str, Any]:
    """wrk's job done by two processes of threads on http.client (when wrk is missing)."""
    import multiprocessing

    with multiprocessing.Pool(2) as pool:
        parts = pool.starmap(_drive, [(url, cookie, seconds, connections // 2)] * 2)
    done = sum(p[0] for p in parts)
    return {
        "rps": done / seconds,
        "errors": sum(p[1] for p in parts),
        "non_2xx": sum(p[2] for p in parts),
    }


def _drive(url: str, cookie: str | None, seconds: float, threads: int) -> tuple[int, int, int]:
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    counts = [0, 0, 0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def run() -> None:
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                connection.request("GET", parts.path, headers={"Cookie": cookie or ""})
                response = connection.getresponse()
                response.read()
                slot = 0 if response.status < 300 else 2
            except OSError:
                slot = 1
            finally:
                connection.close()
            with lock:
                counts[slot] += 1

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts[0], counts[1], counts[2]


def http_figures(url: str, directory: Path, seconds: float, rounds: int) -> dict[str, Any]:
    """Lesson page against the floor, back to back, with 16 connections and 2 workers."""
    env = _server_env(url, directory)
    log = directory / "gunicorn.log"
    engine = make_engine(url)

    with make_session_factory(engine)() as session:
        trainee = session.scalar(
            select(User.username).where(User.role == "trainee", User.active).order_by(User.id)
        )
        hr = _user(session, "hr").username
        catalogue = CatalogueCache().get(session)
    engine.dispose()
    lesson = f"/modules/{catalogue.modules[0].slug}/{catalogue.modules[0].lessons[0].slug}"
    floor_rps, lesson_rps, found = [], [], {}
    for _round in range(rounds):
        port = free_port()
        with gunicorn("courseware.ops.bench:floor_app()", port, env, log) as server:
            floor_rps.append(http_load(f"http://127.0.0.1:{port}/", None, seconds)["rps"])
            del server
        port = free_port()
        with gunicorn("courseware:create_app()", port, env, log) as server:
            browser = Browser(f"http://127.0.0.1:{port}")
            browser.sign_in(trainee, PASSWORD)
            result = http_load(browser.base + lesson, browser.cookie_header(), seconds)
            assert result["errors"] == 0 and result["non_2xx"] == 0, result
            lesson_rps.append(result["rps"])
            found["lesson_latency_p50_ms"] = result.get("p50_ms")
            found["lesson_latency_p99_ms"] = result.get("p99_ms")
            staff = Browser(browser.base)
            staff.sign_in(hr, PASSWORD)
            for path in ("/hr", "/hr/learners", "/hr/learners/export.csv"):
                assert staff.get(path)[0] == 200, path
            found["worker_rss_mb"] = max(worker_rss_mb(server.pid))
    found.update(
        floor_rps=max(floor_rps),
        lesson_rps=max(lesson_rps),
        lesson_rps_ratio=max(lesson_rps) / max(floor_rps),
        driver=http_load.driver,
    )
    return found


# ------------------------------------------------------------------ the report


def _verdict(key: str, value: float | None) -> str:
    base = next((k for k in TARGETS if key.startswith(k)), None)
    if base is None or value is None:
        return ""
    op, limit = TARGETS[base]
    ok = {">=": value >= limit, "<": value < limit, "<=": value <= limit}[op]
    return f"{op} {limit}: {'met' if ok else 'MISSED'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reuse the seeded databases")
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--learners-100k", type=int, default=100_000)
    parser.add_argument("--first-request", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    directory = Path(os.environ.get("COURSEWARE_BENCH_DIR") or Path.cwd() / "instance" / "bench")
    directory.mkdir(parents=True, exist_ok=True)
    if args.first_request:  # one cold measurement, in the process cold_figures started
        url, path = args.first_request
        print(json.dumps({"ms": first_request(url, directory, path)}))
        return 0
    seconds, runs, rounds = (5.0, 5, 1) if args.quick else (10.0, 9, 2)
    sqlite_url = f"sqlite:///{directory / 'bench.db'}"
    pg_url = os.environ.get("COURSEWARE_BENCH_POSTGRES_URL") or DEFAULT_PG
    urls = {"sqlite": sqlite_url, "postgres": pg_url}
    try:
        ensure_postgres_database(pg_url)
    except Exception as exc:  # noqa: BLE001 - any failure means: no PostgreSQL figures
        print(
            f"PostgreSQL at {pg_url} is not reachable ({exc.__class__.__name__}); "
            "set COURSEWARE_BENCH_POSTGRES_URL. PostgreSQL figures are skipped.",
            file=sys.stderr,
        )
        del urls["postgres"]
    result: dict[str, Any] = {"learners": args.learners, "quick": args.quick}
    result["load_at_start"] = round(os.getloadavg()[0], 1)
    for name, url in urls.items():
        print(f"== {name}: preparing {args.learners} learners", file=sys.stderr)
        took = prepare(url, directory, name, args.learners, args.quick)
        if took is not None:
            result[f"seed_s_{name}"] = round(took, 1)
    print("== case evaluation", file=sys.stderr)
    result.update(case_figures())
    print("== lesson page against the floor (gunicorn, 2 workers, 16 connections)", file=sys.stderr)
    http = http_figures(sqlite_url, directory, seconds, rounds)
    if "postgres" in urls:
        pg_http = http_figures(pg_url, directory, seconds, 1)
        result["lesson_rps_ratio_postgres"] = round(pg_http["lesson_rps_ratio"], 3)
        result["lesson_rps_postgres"] = round(pg_http["lesson_rps"])
        result["worker_rss_mb_postgres"] = round(pg_http["worker_rss_mb"], 1)
    counts: dict[str, int] = {}
    for name, url in urls.items():
        print(f"== {name}: HR pages, quiz submission, statements per page", file=sys.stderr)
        for key, value in hr_figures(url, directory, runs).items():
            result[f"{key}_{name}"] = round(value, 1)
        for key, value in cold_figures(url, directory, 3, 1 if args.quick else 3).items():
            result[f"{key}_{name}"] = round(value, 1)
        quiz = quiz_figures(url, directory, runs)
        result[f"quiz_submit_ms_{name}"] = round(quiz["quiz_submit_ms"], 1)
        for path, n in {**page_counts(url, directory), **quiz["counts"]}.items():
            counts[path] = max(counts.get(path, 0), n)
    if "postgres" in urls and not args.quick:
        result.update(large_figures(args.learners_100k, directory, runs))
    result.update(
        lesson_rps_ratio=round(http["lesson_rps_ratio"], 3),
        lesson_rps=round(http["lesson_rps"]),
        floor_rps=round(http["floor_rps"]),
        lesson_latency_p50_ms=http.get("lesson_latency_p50_ms"),
        lesson_latency_p99_ms=http.get("lesson_latency_p99_ms"),
        http_driver=http["driver"],
        quiz_submit_ms=result.get("quiz_submit_ms_sqlite"),
        case_ev_ms=round(result["case_ev_ms"], 1),
        worker_rss_mb=round(max(http["worker_rss_mb"], result.get("worker_rss_mb_postgres", 0)), 1),
        queries_per_page=max(counts.values()),
        busiest_page=max(counts, key=counts.__getitem__),
        machine=_machine(),
    )
    _print_table(result, counts)
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    return 0


def large_figures(learners: int, directory: Path, runs: int) -> dict[str, Any]:
    """The HR figures on PostgreSQL with ``learners`` (seeded once, then reused), keys
    ending ``_postgres_100k``."""
    url = os.environ.get("COURSEWARE_BENCH_POSTGRES_100K_URL") or DEFAULT_PG + "100k"
    ensure_postgres_database(url)
    print(f"== postgres: preparing {learners} learners (once)", file=sys.stderr)
    took = prepare(url, directory, "postgres_100k", learners, quick=True)
    found: dict[str, Any] = {}
    if took is not None:
        found["seed_s_postgres_100k"] = round(took, 1)
    print(f"== postgres, {learners} learners: HR pages", file=sys.stderr)
    figures = {**hr_figures(url, directory, runs), **cold_figures(url, directory, 3)}
    for key, value in figures.items():
        key = "hr_export_ms" if key == "hr_export_10k_ms" else key  # every learner
        found[f"{key}_postgres_100k"] = round(value, 1)
    return found


def _machine() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    return f"{os.cpu_count()} cores, load {load:.1f} at the end, Python {sys.version.split()[0]}"


def _print_table(result: dict[str, Any], counts: dict[str, int]) -> None:
    width = max(len(k) for k in result) + 2
    print(f"{'figure':{width}} {'value':>12}  target")
    for key, value in sorted(result.items()):
        shown = str(value)
        if isinstance(value, float):
            shown = f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3f}"
        number = value if isinstance(value, int | float) else None
        print(f"{key:{width}} {shown:>12}  {_verdict(key, number)}")
    print("statements per page (largest data set):")
    for path, n in sorted(counts.items(), key=lambda item: -item[1]):
        print(f"  {n:3d}  {path}")


if __name__ == "__main__":
    raise SystemExit(main())
