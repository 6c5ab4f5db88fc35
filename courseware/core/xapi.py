"""xAPI 1.0.3 statements about a learner's work, queued in the ``xapi_outbox`` table.

Each domain write point (a lesson opened or read, a quiz started, answered and graded, a case
decided, a certificate issued) calls one of the ``*_statement`` functions below with the
session that records the event: the statement row is added to that transaction, so it is
stored exactly when the event is, and ``courseware outbox run`` (``courseware.ops.outbox``)
sends it to the learning record store later. No page waits on the network.

Off unless the session carries an ``XapiSite`` in ``session.info[SESSION_KEY]``, which the
web layer puts there when ``COURSEWARE_LRS_URL`` is set: with no LRS, nothing is queued.

Identifiers are stable: an activity id is the site's base URL (``COURSEWARE_BASE_URL``) and
the slugs of the course (a lesson is ``<base>/modules/<module>/<lesson>``, as on the site), and
a statement's id is a UUID fixed when the row is written, so a resend is the same statement.

The actor is an account on the site (``homePage`` the base URL) whose ``name`` is an opaque
pseudonym: a keyed hash of the account's id (key: ``COURSEWARE_LRS_ACTOR_KEY`` or
``instance/lrs_actor_key``). Not the email, user name or employee number: the LRS is often
another institution's system, and those are personal data that change (a new address, a new
employer) while the record must not; a bare row id would be guessable and enumerable. The
pseudonym stays the same for as long as the key does, and anonymising an account here leaves
nothing in the LRS that names the person.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from courseware.core.models import XapiOutbox

VERSION = "1.0.3"
SESSION_KEY = "courseware.xapi"
LANGUAGE = "zh-Hant"
# A statement's free-text answer is cut to this many characters.
MAX_RESPONSE = 1000

ADL = "http://adlnet.gov/expapi"
VERBS = {
    "experienced": f"{ADL}/verbs/experienced",
    "completed": f"{ADL}/verbs/completed",
    "attempted": f"{ADL}/verbs/attempted",
    "answered": f"{ADL}/verbs/answered",
    "passed": f"{ADL}/verbs/passed",
    "failed": f"{ADL}/verbs/failed",
    "responded": f"{ADL}/verbs/responded",  # a case decided: the option is the response
    "earned": "http://id.tincanapi.com/verb/earned",
}
ACTIVITY_TYPES = {
    "lesson": f"{ADL}/activities/lesson",
    "module": f"{ADL}/activities/module",
    "assessment": f"{ADL}/activities/assessment",
    "question": f"{ADL}/activities/cmi.interaction",
    "simulation": f"{ADL}/activities/simulation",
    "course": f"{ADL}/activities/course",
}


@dataclass(frozen=True)
class XapiSite:
    """What a statement needs to know about the site: its base URL and the pseudonym key."""

    base_url: str
    actor_key: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def iri(self, *parts: str) -> str:
        """An activity or extension id under the site's base URL, each part escaped."""
        return "/".join([self.base_url, *(quote(str(p), safe="") for p in parts)])


def site_from_settings(settings: Mapping[str, Any]) -> XapiSite | None:
    """The site's xAPI identity when ``LRS_URL`` is set, else None (statements off).

    Activity ids are built from ``BASE_URL``, so an LRS without it is refused at start:
    ids taken from whatever host a request came by would not be stable.
    """
    if not settings.get("LRS_URL"):
        return None
    base = str(settings.get("BASE_URL") or "")
    if not base.startswith(("http://", "https://")):
        raise RuntimeError(
            "COURSEWARE_LRS_URL is set but COURSEWARE_BASE_URL is not an http(s) address: "
            "xAPI activity ids are built from the site's base URL"
        )
    key = str(settings.get("LRS_ACTOR_KEY") or "")
    if not key:
        raise RuntimeError("COURSEWARE_LRS_URL is set but the LRS actor key is missing")
    return XapiSite(base, key.encode())


def site_of(session: Session) -> XapiSite | None:
    """The session's xAPI site, or None when statements are off."""
    site = session.info.get(SESSION_KEY)
    return site if isinstance(site, XapiSite) else None


def actor_name(site: XapiSite, user_id: int) -> str:
    """The learner's stable pseudonym in the LRS (see the module's docstring)."""
    digest = hmac.new(site.actor_key, f"user:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def actor(site: XapiSite, user_id: int) -> dict[str, Any]:
    return {
        "objectType": "Agent",
        "account": {"homePage": site.base_url, "name": actor_name(site, user_id)},
    }


def _activity(activity_id: str, kind: str | None, name: str | None = None) -> dict[str, Any]:
    definition: dict[str, Any] = {}
    if kind:
        definition["type"] = ACTIVITY_TYPES[kind]
    if name:
        definition["name"] = {LANGUAGE: name}
    found: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        found["definition"] = definition
    return found


def _stamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to an xAPI statement")
    return moment.isoformat()


def queue(
    session: Session,
    user_id: int,
    verb: str,
    target: Mapping[str, Any],
    moment: datetime,
    *,
    result: Mapping[str, Any] | None = None,
    parents: Iterable[Mapping[str, Any]] = (),
    grouping: Iterable[Mapping[str, Any]] = (),
    registration: str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> XapiOutbox | None:
    """Add one statement to the session's transaction (None, and nothing, when off)."""
    site = site_of(session)
    if site is None:
        return None
    statement_id = str(uuid.uuid4())
    context: dict[str, Any] = {"platform": site.base_url, "language": LANGUAGE}
    activities: dict[str, Any] = {}
    if parents := list(parents):
        activities["parent"] = parents
    if grouping := list(grouping):
        activities["grouping"] = grouping
    if activities:
        context["contextActivities"] = activities
    if registration:
        context["registration"] = registration
    if extensions:
        context["extensions"] = dict(extensions)
    statement: dict[str, Any] = {
        "id": statement_id,
        "actor": actor(site, user_id),
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": dict(target),
        "context": context,
        "timestamp": _stamp(moment),
        "version": VERSION,
    }
    if result:
        statement["result"] = dict(result)
    row = XapiOutbox(
        id=statement_id,
        statement=statement,
        created_at=moment,
        attempts=0,
        next_try_at=moment,
        last_error="",
    )
    session.add(row)
    return row


def _score(raw: float, maximum: float) -> dict[str, float]:
    maximum = max(float(maximum), 0.0)
    raw = min(max(float(raw), 0.0), maximum)
    scaled = round(raw / maximum, 6) if maximum else 0.0
    return {"scaled": scaled, "raw": round(raw, 6), "min": 0.0, "max": maximum}


# Lessons -------------------------------------------------------------------------------


def _lesson(site: XapiSite, module: str, lesson: str, title: str | None) -> dict[str, Any]:
    return _activity(site.iri("modules", module, lesson), "lesson", title)


def lesson_statement(
    session: Session,
    user_id: int,
    verb: str,
    module: str,
    lesson: str,
    moment: datetime,
    title: str | None = None,
) -> XapiOutbox | None:
    """A lesson opened (``experienced``) or read to the end (``completed``)."""
    site = site_of(session)
    if site is None:
        return None
    result = {"completion": True} if verb == "completed" else None
    return queue(
        session,
        user_id,
        verb,
        _lesson(site, module, lesson, title),
        moment,
        result=result,
        parents=[_activity(site.iri("modules", module), "module")],
    )


# Quizzes -------------------------------------------------------------------------------


def quiz_iri(site: XapiSite, kind: str, key: str) -> str:
    """A module quiz is ``<base>/quiz/<module>`` (its page); other kinds add the kind."""
    return site.iri("quiz", key) if kind == "module" else site.iri("quiz", kind, key)


def _registration(site: XapiSite, kind: str, key: str, attempt_id: int) -> str:
    """The attempt's registration: a UUID derived from its IRI, the same on every statement."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{quiz_iri(site, kind, key)}/attempts/{attempt_id}"))


def quiz_started_statement(
    session: Session, user_id: int, kind: str, key: str, attempt_id: int, moment: datetime
) -> XapiOutbox | None:
    site = site_of(session)
    if site is None:
        return None
    return queue(
        session,
        user_id,
        "attempted",
        _activity(quiz_iri(site, kind, key), "assessment"),
        moment,
        registration=_registration(site, kind, key, attempt_id),
    )


def _response(answer: Any) -> str:
    text = answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)
    return text[:MAX_RESPONSE]


def question_statement(
    session: Session,
    user_id: int,
    kind: str,
    key: str,
    attempt_id: int,
    question_id: str,
    answer: Any,
    points: float,
    max_points: float,
    correct: bool,
    moment: datetime,
) -> XapiOutbox | None:
    """One question of a graded attempt: the answer given (if any) and its points."""
    site = site_of(session)
    if site is None:
        return None
    quiz = quiz_iri(site, kind, key)
    target = _activity(f"{quiz}/questions/{quote(question_id, safe='')}", "question")
    target["definition"]["interactionType"] = "other"
    result: dict[str, Any] = {
        "success": bool(correct),
        "completion": answer is not None,
        "score": _score(points, max_points),
    }
    if answer is not None:
        result["response"] = _response(answer)
    return queue(
        session,
        user_id,
        "answered",
        target,
        moment,
        result=result,
        parents=[_activity(quiz, "assessment")],
        registration=_registration(site, kind, key, attempt_id),
    )


def quiz_result_statement(
    session: Session,
    user_id: int,
    kind: str,
    key: str,
    attempt_id: int,
    score: float,
    max_score: float,
    passed: bool,
    moment: datetime,
) -> XapiOutbox | None:
    """A graded attempt: ``passed`` or ``failed`` with its score."""
    site = site_of(session)
    if site is None:
        return None
    return queue(
        session,
        user_id,
        "passed" if passed else "failed",
        _activity(quiz_iri(site, kind, key), "assessment"),
        moment,
        result={"success": passed, "completion": True, "score": _score(score, max_score)},
        registration=_registration(site, kind, key, attempt_id),
    )


# Cases ---------------------------------------------------------------------------------


def case_statement(
    session: Session,
    user_id: int,
    slug: str,
    option_id: str,
    flags: Iterable[str],
    score: float,
    decision_kind: str,
    moment: datetime,
) -> XapiOutbox | None:
    """A case decided: the option chosen (the response), the red flags marked, the score
    out of 100, and whether it was the assessed decision or practice."""
    site = site_of(session)
    if site is None:
        return None
    return queue(
        session,
        user_id,
        "responded",
        _activity(site.iri("cases", slug), "simulation"),
        moment,
        result={
            "response": option_id,
            "completion": True,
            "score": _score(score, 100.0),
            "extensions": {site.iri("xapi", "extensions", "flags"): sorted(flags)},
        },
        extensions={site.iri("xapi", "extensions", "decision-kind"): decision_kind},
    )


# Certificates --------------------------------------------------------------------------


def certificate_statement(
    session: Session,
    user_id: int,
    code: str,
    kind: str,
    expires_at: datetime,
    moment: datetime,
) -> XapiOutbox | None:
    """A certificate issued (earned, renewed, or issued by hand): the course certificate,
    its public verification page and its expiry."""
    site = site_of(session)
    if site is None:
        return None
    return queue(
        session,
        user_id,
        "earned",
        _activity(site.iri("certificate"), "course"),
        moment,
        result={
            "success": True,
            "completion": True,
            "extensions": {
                site.iri("xapi", "extensions", "verification"): site.iri("verify", code),
                site.iri("xapi", "extensions", "expires"): _stamp(expires_at),
            },
        },
        extensions={site.iri("xapi", "extensions", "certificate-kind"): kind},
    )
