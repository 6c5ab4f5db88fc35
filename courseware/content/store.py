"""Course files in and out of the database, and the per-worker catalogue cache.

Import rule: a file whose text changed since it was last imported (by hash)
becomes a new published revision; a file unchanged since its last import
never overrides a revision published later in the browser. A changed file whose
document has an unpublished studio revision (a draft, or one waiting for review or
sent back) is not published over it: its text is kept beside the draft as a "held"
revision, and the studio shows the trainer the difference to resolve.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from courseware.content.catalogue import Catalogue, build_catalogue
from courseware.content.render import content_hash
from courseware.core.clock import utcnow
from courseware.core.errors import N_, ContentError
from courseware.core.models import ContentDocument, ContentRevision, ContentState

FOLDERS = ("content", "quizzes", "case_studies")
# A course file's revision imported beside an unpublished studio draft, and the same once
# the trainer resolved it (kept the draft, or took the file's text into it).
HELD, SET_ASIDE = "held", "set_aside"
UNPUBLISHED = ("draft", "pending", "returned")
SUFFIXES = {"content": (".md",), "quizzes": (".yaml", ".yml"), "case_studies": (".yaml", ".yml")}


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # kept beside a studio draft

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def kind_of(path: str) -> str:
    folder = path.split("/", 1)[0]
    return {"content": "lesson", "quizzes": "quiz", "case_studies": "case"}.get(folder, "other")


def read_sources(
    dirs: Mapping[str, str | Path],
) -> tuple[dict[str, str], list[ContentError]]:
    """Read every course file under the configured folders, keyed by logical path.

    ``dirs`` maps a logical folder ("content", "quizzes", "case_studies") to
    the directory on disk. Text is kept exactly as written (no newline
    translation), so an export writes back the same bytes.
    """
    sources: dict[str, str] = {}
    errors: list[ContentError] = []
    for folder, directory in dirs.items():
        root = Path(directory)
        if not root.is_dir():
            continue
        for file in sorted(root.rglob("*")):
            if not file.is_file() or file.suffix not in SUFFIXES.get(folder, ()):
                continue
            if any(part.startswith(".") for part in file.relative_to(root).parts):
                continue
            logical = f"{folder}/{file.relative_to(root).as_posix()}"
            try:
                sources[logical] = file.read_bytes().decode("utf-8")
            except UnicodeDecodeError:
                errors.append(ContentError(logical, "", N_("the file is not UTF-8 text")))
    return sources, errors


def touch_content_version(session: Session) -> None:
    """Make every worker rebuild its catalogue on its next request."""
    _bump_version(session)


def _bump_version(session: Session) -> None:
    state = session.get(ContentState, 1)
    if state is None:
        session.add(ContentState(id=1, version=1))
    else:
        session.execute(
            update(ContentState)
            .where(ContentState.id == 1)
            .values(version=ContentState.version + 1)
        )


def add_revision(
    session: Session,
    document: ContentDocument,
    body: str,
    *,
    origin: str,
    status: str = "published",
    author_id: int | None = None,
    note: str = "",
    material: bool = False,
    now: datetime | None = None,
) -> ContentRevision:
    """Append a revision to a document; publish it at once when status says so."""
    now = now or utcnow()
    number = (
        session.scalar(
            select(func.max(ContentRevision.number)).where(
                ContentRevision.document_id == document.id
            )
        )
        or 0
    ) + 1
    revision = ContentRevision(
        document_id=document.id,
        number=number,
        body=body,
        body_hash=content_hash(body),
        origin=origin,
        status=status,
        author_id=author_id,
        note=note,
        material=material,
        created_at=now,
        published_at=now if status == "published" else None,
    )
    session.add(revision)
    session.flush()
    if status == "published":
        document.published_revision_id = revision.id
        document.deleted = False
        _bump_version(session)
    return revision


def has_unpublished_draft(session: Session, document: ContentDocument) -> bool:
    """Whether the document's newest studio revision is not published (draft, waiting for
    review or sent back): an import must not publish over it."""
    newest = session.execute(
        select(ContentRevision.id, ContentRevision.status)
        .where(ContentRevision.document_id == document.id, ContentRevision.status != HELD)
        .order_by(ContentRevision.id.desc())
        .limit(1)
    ).first()
    return (
        newest is not None
        and newest.id != document.published_revision_id
        and newest.status in UNPUBLISHED
    )


def import_sources(
    session: Session,
    sources: Mapping[str, str],
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImportReport:
    """Bring new and changed files in as published revisions; beside an unpublished studio
    draft, as a held revision the trainer resolves in the studio."""
    report = ImportReport()
    documents = {d.path: d for d in session.scalars(select(ContentDocument))}
    for path in sorted(sources):
        text = sources[path]
        digest = content_hash(text)
        document = documents.get(path)
        if document is not None and document.import_hash == digest:
            report.unchanged.append(path)
            continue
        if document is None:
            document = ContentDocument(path=path, kind=kind_of(path))
            session.add(document)
            session.flush()
            report.added.append(path)
        elif has_unpublished_draft(session, document):
            document.import_hash = digest
            add_revision(session, document, text, origin="import", status=HELD, now=now)
            report.held.append(path)
            if progress:
                progress(path)
            continue
        else:
            report.updated.append(path)
        document.import_hash = digest
        add_revision(session, document, text, origin="import", now=now)
        if progress:
            progress(path)
    return report


def published_sources(session: Session) -> tuple[dict[str, str], dict[str, int]]:
    """The text of every published document and its revision id, by path."""
    rows = session.execute(
        select(ContentDocument.path, ContentRevision.body, ContentRevision.id)
        .join(ContentRevision, ContentRevision.id == ContentDocument.published_revision_id)
        .where(ContentDocument.deleted.is_(False))
    )
    sources: dict[str, str] = {}
    revisions: dict[str, int] = {}
    for path, body, revision_id in rows:
        sources[path] = body
        revisions[path] = revision_id
    return sources, revisions


def content_version(session: Session) -> int:
    return session.scalar(select(ContentState.version).where(ContentState.id == 1)) or 0


class CatalogueCache:
    """One worker's parsed catalogue, rebuilt when the database's version moves.

    Each request costs one small query (the version); a publish on any worker
    is seen by every worker on its next request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._catalogue: Catalogue | None = None

    def get(self, session: Session, version: int | None = None) -> Catalogue:
        """The catalogue of the database's course version (``version``, when the caller
        has read it in this transaction already)."""
        if version is None:
            version = content_version(session)
        current = self._catalogue
        if current is not None and current.version == version:
            return current
        with self._lock:
            current = self._catalogue
            if current is not None and current.version == version:
                return current
            sources, revisions = published_sources(session)
            catalogue = build_catalogue(sources, revisions, version=version)
            self._catalogue = catalogue
            return catalogue

    def current(self, version: int) -> Catalogue | None:
        """The catalogue kept for ``version``, if this worker has built it (no query)."""
        current = self._catalogue
        return current if current is not None and current.version == version else None

    def clear(self) -> None:
        self._catalogue = None


def changed_paths(report: ImportReport) -> Iterable[str]:
    return [*report.added, *report.updated]
