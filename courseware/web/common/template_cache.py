"""Compiled templates kept on disk, so a freshly started process does not compile them.

Jinja compiles a template to Python code the first time a process renders it: for the HR
learner table (with its base template) that is 100-250 ms, paid by the first request of
every new worker. ``FileSystemBytecodeCache`` keeps the compiled code in the instance folder,
as Python keeps ``.pyc`` files: an entry is used only while the template's source is
unchanged (Jinja checks its checksum) and the interpreter is the one that wrote it, and it
is written atomically, so workers may share the folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from jinja2 import FileSystemBytecodeCache

log = logging.getLogger(__name__)

FOLDER = "template-bytecode"


def init_app(app: Flask) -> None:
    """Keep compiled templates under the instance folder; without a writable folder the
    templates are compiled in each process, as before."""
    folder = Path(app.instance_path) / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        log.warning("no folder for compiled templates at %s; compiling per process", folder)
        return
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(str(folder))
