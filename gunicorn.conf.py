"""gunicorn settings for the academy, read by ``gunicorn 'courseware:create_app()'`` when started
in this folder (or with ``-c gunicorn.conf.py``). Command-line options override them.

- Sync workers, one request each at a time: the pages are quick and CPU-bound, so a worker per
  core (plus one, to cover a request waiting on the database) keeps the cores busy without
  queueing behind a slow request. ``WEB_CONCURRENCY`` sets the number.
- The application is loaded once in the master and forked (``preload_app``): workers start at
  once and share the imported code's memory. Database connections are never shared across the
  fork: each worker drops the pool it inherited (SQLAlchemy's documented recipe) and opens its
  first connection as it starts.
- Before each fork the master's objects are moved out of the garbage collector's reach
  (``gc.freeze``, as Python's documentation advises for a parent that forks): a worker's
  collections then never walk the application's imported code and warmed caches, so its first
  requests do not pay for a full collection and the pages it shares with the master stay shared.
- A worker is replaced after about 5,000 requests, so memory cannot creep up unnoticed.
- On SIGTERM a worker finishes the request in flight (up to 30 s) before it stops.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # -b 0.0.0.0:8000 behind a front server
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() + 1)
worker_class = "sync"
preload_app = True
timeout = 60
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500


def pre_fork(server, worker):
    """In the master, before each worker is forked: collect once, then freeze what is left."""
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """Each worker opens its own database connections (never the master's), the first one
    as it starts rather than on its first request. A database that does not answer yet
    only leaves that to the first request."""
    app = worker.app.wsgi()
    database = getattr(app, "extensions", {}).get("courseware.core.db")
    if database is not None:
        database.engine.dispose(close=False)
        try:
            with database.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - the site's own pages report a database error
            server.log.warning("worker %s: no database connection yet (%s)", worker.pid, exc)


def on_starting(server):
    """The checks of `courseware check` before the first worker starts, as `courseware run`
    does: warnings and errors go to the log, and the site does not start on an error (a
    corrupt database: the message says how to restore)."""
    import click

    from courseware.cli import start_checks

    app = server.app.wsgi()  # already loaded in the master (preload_app)
    if "courseware.core.db" not in getattr(app, "extensions", {}):
        return  # another application under these settings (the benchmark's bare Flask floor)
    host = str(server.cfg.bind[0]).rpartition(":")[0].strip("[]") if server.cfg.bind else ""
    try:
        start_checks(app, host or "127.0.0.1")
    except click.ClickException as refused:
        server.log.error(refused.format_message())
        raise SystemExit(1) from refused
