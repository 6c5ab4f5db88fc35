"""Documents and their revisions as the studio sees them: working copy, save, publish, revert.

See the package docstring for the rules. Every write locks the document row (FOR UPDATE on
PostgreSQL; SQLite writers are serialised by BEGIN IMMEDIATE), so two saves started from
the same revision can never both succeed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session, aliased

from courseware.content.catalogue import Catalogue
from courseware.content.schemas import split_front_matter
from courseware.content.store import HELD, SET_ASIDE, add_revision, kind_of
from courseware.core import audit
from courseware.core.clock import utcnow
from courseware.core.errors import N_, ContentError
from courseware.core.models import ContentDocument, ContentRevision, User
from courseware.studio.validation import check_texts, lesson_paths, module_of

DRAFT, PENDING, RETURNED, PUBLISHED = "draft", "pending", "returned", "published"
# Course-file revisions imported beside a draft: kept in the history, never the working copy.
FILE_VERSIONS = (HELD, SET_ASIDE)


class DocumentNotFound(LookupError):
    pass


class EditInvalid(Exception):
    """The text would break the course; ``errors`` are located and translatable."""

    def __init__(self, errors: list[ContentError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


class EditConflict(Exception):
    """Another revision was added after the one this edit started from."""

    def __init__(self, latest: RevisionInfo, text: str):
        super().__init__(f"revision {latest.number} was added meanwhile")
        self.latest = latest
        self.text = text


@dataclass(frozen=True)
class RevisionInfo:
    id: int
    number: int
    status: str
    origin: str
    material: bool
    note: str
    author_id: int | None
    author_name: str
    created_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class WorkingCopy:
    document_id: int
    path: str
    kind: str
    text: str
    latest: RevisionInfo
    published: RevisionInfo | None

    @property
    def base_id(self) -> int:
        return self.latest.id

    @property
    def state(self) -> str:
        """published (nothing newer), or the status of the unpublished newest revision."""
        if self.published is not None and self.latest.id <= self.published.id:
            return PUBLISHED
        return self.latest.status if self.latest.status != PUBLISHED else PUBLISHED


@dataclass(frozen=True)
class Saved:
    revision: RevisionInfo
    outcome: str  # draft | pending | published | unchanged


def _info(revision: ContentRevision, author_name: str | None) -> RevisionInfo:
    return RevisionInfo(
        id=revision.id,
        number=revision.number,
        status=revision.status,
        origin=revision.origin,
        material=revision.material,
        note=revision.note,
        author_id=revision.author_id,
        author_name=author_name or "",
        created_at=revision.created_at,
        published_at=revision.published_at,
    )


def get_document(session: Session, document_id: int, lock: bool = False) -> ContentDocument:
    query = select(ContentDocument).where(ContentDocument.id == document_id)
    document = session.scalar(query.with_for_update() if lock else query)
    if document is None:
        raise DocumentNotFound(document_id)
    return document


def revisions(session: Session, document_id: int) -> list[RevisionInfo]:
    """Every revision of a document, newest first, with its author's name."""
    rows = session.execute(
        select(ContentRevision, User.display_name)
        .outerjoin(User, User.id == ContentRevision.author_id)
        .where(ContentRevision.document_id == document_id)
        .order_by(ContentRevision.number.desc())
    )
    return [_info(revision, name) for revision, name in rows]


def document_id_of(session: Session, path: str) -> int | None:
    """The id of the document stored at ``path``, None when there is none."""
    return session.scalar(select(ContentDocument.id).where(ContentDocument.path == path))


def get_revision(session: Session, document_id: int, revision_id: int) -> ContentRevision:
    revision = session.get(ContentRevision, revision_id)
    if revision is None or revision.document_id != document_id:
        raise DocumentNotFound(revision_id)
    return revision


def _latest(session: Session, document_id: int) -> tuple[ContentRevision, str | None]:
    row = session.execute(
        select(ContentRevision, User.display_name)
        .outerjoin(User, User.id == ContentRevision.author_id)
        .where(
            ContentRevision.document_id == document_id,
            ContentRevision.status.not_in(FILE_VERSIONS),
        )
        .order_by(ContentRevision.id.desc())
        .limit(1)
    ).first()
    if row is None:
        raise DocumentNotFound(document_id)
    return row[0], row[1]


def working_copy(session: Session, document_id: int) -> WorkingCopy:
    """The text an editor opens on: the document's newest revision, whatever its status."""
    document = get_document(session, document_id)
    latest, name = _latest(session, document_id)
    published = None
    if document.published_revision_id is not None:
        if document.published_revision_id == latest.id:
            published = _info(latest, name)
        else:
            current = session.get(ContentRevision, document.published_revision_id)
            author = session.get(User, current.author_id) if current and current.author_id else None
            published = _info(current, author.display_name if author else None) if current else None
    return WorkingCopy(
        document.id, document.path, document.kind, latest.body, _info(latest, name), published
    )


def match_newlines(typed: str, like: str) -> str:
    """A browser sends CRLF line breaks: keep the document's own newline style."""
    text = typed.replace("\r\n", "\n")
    return text.replace("\n", "\r\n") if "\r\n" in like else text


def _audit(
    session: Session,
    actor_id: int | None,
    document: ContentDocument,
    revision: ContentRevision,
    previous: int | None,
    **extra: object,
) -> None:
    action = "content.publish" if revision.status == PUBLISHED else "content.submit"
    after = {"path": document.path, "revision": revision.number, "previous": previous, **extra}
    audit.record(
        session,
        actor_id,
        action,
        "content_document",
        document.id,
        after=after,
        reason=revision.note,
    )


def published_number(session: Session, document: ContentDocument) -> int | None:
    """The number of the revision learners see, or None before the first publish."""
    if document.published_revision_id is None:
        return None
    return session.scalar(
        select(ContentRevision.number).where(ContentRevision.id == document.published_revision_id)
    )


def save_text(
    session: Session,
    document_id: int,
    typed: str,
    base_id: int,
    *,
    publish: bool,
    author_id: int,
    sources: Mapping[str, str],
    baseline: Catalogue,
    review_required: Collection[str] = (),
    note: str = "",
    material: bool = False,
    origin: str = "editor",
    exact: bool = False,
    now: datetime | None = None,
) -> Saved:
    """Save a draft, or publish (or submit for review) the typed text of one document.

    ``base_id`` is the revision the trainer started from; ``exact`` keeps the text's
    newlines as given (a revert).
    """
    document = get_document(session, document_id, lock=True)
    latest, name = _latest(session, document_id)
    if latest.id != base_id:
        raise EditConflict(_info(latest, name), latest.body)
    text = typed if exact else match_newlines(typed, latest.body)
    live = document.published_revision_id == latest.id
    if text == latest.body and (not publish or (live and latest.status == PUBLISHED)):
        return Saved(_info(latest, name), "unchanged")
    if publish and _goes_live_before_its_module(session, document.path, review_required):
        raise EditInvalid([_module_first(document.path)])
    checked = check_texts(sources, {document.path: text}, baseline)
    if not checked.ok:
        raise EditInvalid(checked.errors)
    status = DRAFT
    if publish:
        status = (
            PENDING if module_of(document.path, checked.catalogue) in review_required else PUBLISHED
        )
    previous = published_number(session, document)
    revision = add_revision(
        session,
        document,
        text,
        origin=origin,
        status=status,
        author_id=author_id,
        note=note.strip(),
        material=material and document.path in lesson_paths(checked.catalogue),
        now=now or utcnow(),
    )
    if status != DRAFT:
        _audit(session, author_id, document, revision, previous, origin=origin)
    author = session.get(User, author_id)
    return Saved(_info(revision, author.display_name if author else None), status)


def _goes_live_before_its_module(
    session: Session, path: str, review_required: Collection[str]
) -> bool:
    """A lesson of a module that was never published goes live with its module, not alone
    (where the module needs review, the lesson waits for its approval instead)."""
    if path.endswith("/module.md"):
        return False
    slug = draft_module_slug(session, path)
    return slug is not None and slug not in review_required


def _module_first(path: str) -> ContentError:
    return ContentError(
        path,
        "",
        N_(
            "its module is not published yet, so the lesson cannot go live alone: publish the "
            "module with its draft lessons from the module's editor, or save this as a draft"
        ),
    )


def revert(
    session: Session,
    document_id: int,
    revision_id: int,
    base_id: int,
    *,
    author_id: int,
    sources: Mapping[str, str],
    baseline: Catalogue,
    review_required: Collection[str] = (),
    note: str = "",
) -> Saved:
    """Publish a new revision whose text is an older revision's, exactly."""
    old = get_revision(session, document_id, revision_id)
    return save_text(
        session,
        document_id,
        old.body,
        base_id,
        publish=True,
        author_id=author_id,
        sources=sources,
        baseline=baseline,
        review_required=review_required,
        note=note,
        origin="revert",
        exact=True,
    )


def create_documents(
    session: Session,
    texts: Mapping[str, str],
    *,
    publish: bool,
    author_id: int,
    sources: Mapping[str, str],
    baseline: Catalogue,
    review_required: Collection[str] = (),
    note: str = "",
) -> list[tuple[ContentDocument, Saved]]:
    """New documents (a lesson, or a module with its first lesson), as drafts or published."""
    existing = set(
        session.scalars(select(ContentDocument.path).where(ContentDocument.path.in_(texts)))
    )
    if existing:
        raise EditInvalid(
            [ContentError(path, "", N_("this file already exists")) for path in sorted(existing)]
        )
    checked = check_texts(sources, texts, baseline)
    if not checked.ok:
        raise EditInvalid(checked.errors)
    created = []
    for path in sorted(texts):
        document = ContentDocument(path=path, kind=kind_of(path))
        session.add(document)
        session.flush()
        status = DRAFT
        if publish:
            status = PENDING if module_of(path, checked.catalogue) in review_required else PUBLISHED
        revision = add_revision(
            session,
            document,
            texts[path],
            origin="editor",
            status=status,
            author_id=author_id,
            note=note.strip(),
        )
        if status != DRAFT:
            _audit(session, author_id, document, revision, None, origin="new")
        created.append((document, Saved(_info(revision, None), status)))
    return created


@dataclass(frozen=True)
class DocumentRow:
    id: int
    path: str
    kind: str
    published_number: int | None
    latest_number: int
    latest_status: str
    latest_at: datetime

    @property
    def state(self) -> str:
        if self.published_number is not None and self.latest_number <= self.published_number:
            return PUBLISHED
        return self.latest_status


def newest_revisions() -> Subquery:
    """Each document's newest revision: a subquery of ``document_id`` and ``id``."""
    return (
        select(
            ContentRevision.document_id.label("document_id"),
            func.max(ContentRevision.id).label("id"),
        )
        .where(ContentRevision.status.not_in(FILE_VERSIONS))
        .group_by(ContentRevision.document_id)
        .subquery()
    )


def document_rows(session: Session) -> list[DocumentRow]:
    """Every document with its published revision number and newest revision, in one query."""
    newest = newest_revisions()
    latest = aliased(ContentRevision)
    published = aliased(ContentRevision)
    rows = session.execute(
        select(ContentDocument, latest, published.number)
        .join(newest, newest.c.document_id == ContentDocument.id)
        .join(latest, latest.id == newest.c.id)
        .outerjoin(published, published.id == ContentDocument.published_revision_id)
        .order_by(ContentDocument.path)
    )
    return [
        DocumentRow(d.id, d.path, d.kind, number, rev.number, rev.status, rev.created_at)
        for d, rev, number in rows
    ]


def unpublished_module_texts(session: Session) -> dict[str, str]:
    """Modules created in the browser and not published yet: module.md path -> newest text."""
    newest = newest_revisions()
    rows = session.execute(
        select(ContentDocument.path, ContentRevision.body)
        .join(ContentRevision, ContentRevision.document_id == ContentDocument.id)
        .join(newest, newest.c.id == ContentRevision.id)
        .where(
            ContentDocument.published_revision_id.is_(None),
            ContentDocument.deleted.is_(False),
            ContentDocument.path.like("content/%/module.md"),
        )
        .order_by(ContentDocument.path)
    )
    return {path: body for path, body in rows}


def draft_lessons(session: Session, module_path: str) -> list[DocumentRow]:
    """The lessons of a module's folder that were never published and wait as drafts."""
    folder = module_path.rsplit("/", 1)[0] + "/"
    return [
        row
        for row in document_rows(session)
        if row.path.startswith(folder)
        and row.path != module_path
        and row.published_number is None
        and row.latest_status == DRAFT
    ]


def publish_module(
    session: Session,
    document_id: int,
    typed: str,
    base_id: int,
    *,
    author_id: int,
    sources: Mapping[str, str],
    baseline: Catalogue,
    review_required: Collection[str] = (),
    note: str = "",
) -> list[Saved]:
    """Publish (or send for review) a module that is not live yet with its draft lessons.

    The module goes first, then each lesson, checked beside what went before, in the
    caller's transaction: if one is refused, the caller rolls all of them back, so learners
    never see a module without the lessons it was written with.
    """
    document = get_document(session, document_id)
    if not document.path.endswith("/module.md") or document.published_revision_id is not None:
        raise ValueError(document.path)
    lessons = draft_lessons(session, document.path)
    options = {
        "publish": True,
        "author_id": author_id,
        "baseline": baseline,
        "review_required": review_required,
        "note": note,
    }
    current = dict(sources)
    results = [save_text(session, document_id, typed, base_id, sources=current, **options)]
    current[document.path] = _latest(session, document_id)[0].body
    for lesson in lessons:
        latest, _name = _latest(session, lesson.id)
        saved = save_text(
            session, lesson.id, latest.body, latest.id, sources=current, exact=True, **options
        )
        current[lesson.path] = latest.body
        results.append(saved)
    return results


def sources_for(session: Session, path: str, sources: Mapping[str, str]) -> dict[str, str]:
    """What a save of ``path`` is checked beside: the published files, plus the module's own
    module.md when that module was never published (its lessons are drafts beside it)."""
    parts = path.split("/")
    module_path = "/".join(parts[:2]) + "/module.md"
    if parts[0] != "content" or len(parts) != 3 or module_path in sources:
        return dict(sources)
    draft = unpublished_module_texts(session).get(module_path)
    return {**sources, module_path: draft} if draft is not None else dict(sources)


def draft_module_slug(session: Session, path: str) -> str | None:
    """The slug of the never-published module a content file belongs to, if it is one."""
    parts = path.split("/")
    if parts[0] != "content" or len(parts) != 3:
        return None
    module_path = f"{parts[0]}/{parts[1]}/module.md"
    text = unpublished_module_texts(session).get(module_path)
    if text is None:
        return None
    meta, _body, _line, errors = split_front_matter(module_path, text)
    slug = meta.get("slug") if meta and not errors else None
    return slug if isinstance(slug, str) else None


@dataclass(frozen=True)
class HeldImport:
    """A course file's text imported while the document had an unpublished draft."""

    revision: RevisionInfo
    text: str


def held_import(session: Session, document_id: int) -> HeldImport | None:
    """The newest course-file revision waiting beside the document's draft, if any."""
    held = session.scalar(
        select(ContentRevision)
        .where(ContentRevision.document_id == document_id, ContentRevision.status == HELD)
        .order_by(ContentRevision.id.desc())
        .limit(1)
    )
    return HeldImport(_info(held, None), held.body) if held is not None else None


def documents_with_held_imports(session: Session) -> set[int]:
    """The ids of documents with a course-file revision waiting for a trainer."""
    return set(
        session.scalars(
            select(ContentRevision.document_id).where(ContentRevision.status == HELD).distinct()
        )
    )


def resolve_import(
    session: Session,
    document_id: int,
    held_id: int,
    base_id: int,
    *,
    take: bool,
    author_id: int,
    sources: Mapping[str, str],
    baseline: Catalogue,
) -> Saved | None:
    """Settle a held course-file revision: keep the draft as it is, or take the file's text
    as the new draft (``take``). Every held revision of the document is set aside; None
    when it was settled already (a double submit)."""
    document = get_document(session, document_id, lock=True)
    held = get_revision(session, document_id, held_id)
    if held.status != HELD:
        return None
    saved = None
    if take:
        saved = save_text(
            session,
            document_id,
            held.body,
            base_id,
            publish=False,
            author_id=author_id,
            sources=sources,
            baseline=baseline,
            origin="import",
            exact=True,
        )
    waiting = session.scalars(
        select(ContentRevision).where(
            ContentRevision.document_id == document_id, ContentRevision.status == HELD
        )
    )
    for revision in waiting:
        revision.status = SET_ASIDE
    audit.record(
        session,
        author_id,
        "content.import_taken" if take else "content.import_set_aside",
        "content_document",
        document.id,
        after={"path": document.path, "revision": held.number},
    )
    return saved
