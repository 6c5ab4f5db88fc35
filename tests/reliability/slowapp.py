"""The application plus one slow public page, for the graceful-stop test (gunicorn loads it)."""

from __future__ import annotations

import time

from courseware import create_app
from courseware.web.common.access import public

app = create_app()


@app.get("/__slow")
def slow() -> str:
    time.sleep(2)
    return "finished"


public("slow")
