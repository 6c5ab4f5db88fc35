"""Write the published course back to files, byte for byte as stored.

Each published document's text goes to ``<folder dir>/<rest of its path>``, where the
folder is content, quizzes or case_studies. The text is written exactly (UTF-8, no
newline translation), a file already holding those bytes is left alone, and nothing is
ever written outside the target folders.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.content.render import content_hash
from courseware.content.store import FOLDERS
from courseware.core.models import ContentDocument, ContentRevision


class UnsafePath(ValueError):
    pass


@dataclass
class ExportReport:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def target_path(path: str, targets: Mapping[str, str | Path]) -> Path:
    """Where a logical path is written; UnsafePath for anything that could leave the folder."""
    folder, _, rest = path.partition("/")
    relative = PurePosixPath(rest)
    if (
        folder not in targets
        or not rest
        or "\\" in rest
        or relative.is_absolute()
        or any(part in ("", ".", "..") for part in rest.split("/"))
        or ":" in relative.parts[0]
    ):
        raise UnsafePath(path)
    root = Path(targets[folder]).resolve()
    destination = (root / Path(*relative.parts)).resolve()
    if not destination.is_relative_to(root) or destination == root:
        raise UnsafePath(path)
    return destination


def _write_exactly(destination: Path, text: str) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".export-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def published_documents(session: Session) -> list[tuple[ContentDocument, str]]:
    rows = session.execute(
        select(ContentDocument, ContentRevision.body)
        .join(ContentRevision, ContentRevision.id == ContentDocument.published_revision_id)
        .where(ContentDocument.deleted.is_(False))
        .order_by(ContentDocument.path)
    )
    return [(document, body) for document, body in rows]


def export_documents(
    session: Session,
    targets: Mapping[str, str | Path],
    progress: Callable[[str], None] | None = None,
    mark_imported: bool = False,
) -> ExportReport:
    """Write every published document under ``targets`` (folder name -> directory).

    ``mark_imported``: the targets are the folders ``courseware import`` reads, so the
    files now match the database; recording their hash keeps the next import from
    adding the same text again as a new revision.
    """
    unknown = set(targets) - set(FOLDERS)
    if unknown:
        raise UnsafePath(", ".join(sorted(unknown)))
    report = ExportReport()
    for document, body in published_documents(session):
        try:
            destination = target_path(document.path, targets)
        except UnsafePath:
            report.refused.append(document.path)
            continue
        data = body.encode("utf-8")
        if destination.is_file() and destination.read_bytes() == data:
            report.unchanged.append(document.path)
        else:
            _write_exactly(destination, body)
            report.written.append(document.path)
        if mark_imported:
            document.import_hash = content_hash(body)
        if progress:
            progress(document.path)
    return report
