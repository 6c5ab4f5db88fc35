"""What the browser tests' server is doing when a test fails: each request it has begun and
not yet answered, how long it has run, and the stack of the thread serving it.

A page that never arrives (a click "waiting for scheduled navigations" until its timeout)
is otherwise a mystery: the request log writes a request when it ends. The failure report
then shows whether the server received the request and, if so, where it is waiting.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable


class InFlight:
    """A WSGI wrapper that keeps the requests in progress, by serving thread."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._requests: dict[int, tuple[str, float]] = {}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        ident = threading.get_ident()
        query = environ.get("QUERY_STRING")
        line = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        with self._lock:
            self._requests[ident] = (line + (f"?{query}" if query else ""), time.monotonic())
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._requests.pop(ident, None)

    def report(self) -> str:
        """The requests in progress, each with its age and its thread's stack; "" if none."""
        now = time.monotonic()
        with self._lock:
            requests = dict(self._requests)
        frames = sys._current_frames()
        parts = []
        for ident, (line, began) in sorted(requests.items(), key=lambda item: item[1][1]):
            frame = frames.get(ident)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "(ended)\n"
            parts.append(f"{line}: {now - began:.1f} s so far, in\n{stack}")
        return "\n".join(parts)
