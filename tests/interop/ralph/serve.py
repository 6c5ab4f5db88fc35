"""Start Ralph's LRS API (ralph.api) with its filesystem backend, run by Ralph's own venv's
Python: ``.ralph-venv/bin/python tests/interop/ralph/serve.py HOST PORT``.

One change to Ralph, and why: in ralph-malph 5.1.0 the filesystem LRS backend writes every
POST with the data backend's default operation, CREATE, into its one file (fs_lrs.jsonl),
so the first POST creates the file and every later one is refused (HTTP 500 "Statements bulk
indexation failed"). A real LRS takes statements for as long as it runs, and the sender
posts many batches over time, so here the backend appends. Nothing else is touched: Ralph's
API, validation, authentication and duplicate handling are as released.
"""

from __future__ import annotations

import sys

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run("ralph.api:app", host=host, port=port, log_level="warning")
