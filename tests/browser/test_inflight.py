"""The failure report's view of the live server: a request still being served is listed with
its thread's stack; an answered one is not."""

from __future__ import annotations

import threading

from werkzeug.test import Client
from werkzeug.wrappers import Response

from tests.browser.inflight import InFlight


def test_a_request_in_progress_is_reported_with_where_it_waits() -> None:
    entered, release = threading.Event(), threading.Event()

    def stuck_on_a_lock(environ: dict, start_response):
        if environ["PATH_INFO"] == "/slow":
            entered.set()
            release.wait(10)
        return Response("ok")(environ, start_response)

    serving = InFlight(stuck_on_a_lock)
    client = Client(serving)
    assert client.get("/quick").status_code == 200
    assert serving.report() == ""

    worker = threading.Thread(target=lambda: client.post("/slow?x=1"))
    worker.start()
    assert entered.wait(10)
    try:
        report = serving.report()
        assert "POST /slow?x=1" in report
        assert "stuck_on_a_lock" in report and "release.wait(10)" in report
        assert "/quick" not in report
    finally:
        release.set()
        worker.join(10)
    assert serving.report() == ""
