"""A learner's personal calendar feed (iCalendar, RFC 5545), written by hand.

The feed holds the learner's cohort due date and their certificate's expiry (and the
day its renewal window opens) as all-day events. A phone subscribes to
``/calendar/<token>.ics``: the token, not a session, says whose feed it is, and a new
one can be made at any time (the old link then stops working).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.certification.policy import Policy
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.core.models import CalendarFeed, Certificate, Cohort, CohortMembership

CRLF = "\r\n"
LINE_OCTETS = 75
EVENT_TITLES = {
    "due": N_("Training due: %(cohort)s"),
    "renewal_opens": N_("Certificate renewal opens"),
    "expiry": N_("Certificate expires"),
}


@dataclass(frozen=True)
class Event:
    uid: str
    day: date
    summary: str
    description: str = ""


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newline."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets, never inside a character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= LINE_OCTETS:
        return line
    pieces: list[str] = []
    current = ""
    size = 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, LINE_OCTETS - 1  # the continuation's leading space
        current += char
        size += width
    pieces.append(current)
    return (CRLF + " ").join(pieces)


def write_calendar(events: Iterable[Event], stamp: datetime, name: str) -> str:
    """The whole VCALENDAR: CRLF line endings, folded lines, escaped text."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Microloan Officer Academy//courseware//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape(name)}",
    ]
    dtstamp = stamp.strftime("%Y%m%dT%H%M%SZ")
    for event in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{dtstamp}",
            f"DTSTART;VALUE=DATE:{event.day.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(event.day + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{escape(event.summary)}",
        ]
        if event.description:
            lines.append(f"DESCRIPTION:{escape(event.description)}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)


def learner_events(
    session: Session,
    user_id: int,
    policy: Policy,
    local_day: Callable[[datetime], date],
    gettext: Callable[[str], str],
    host: str,
) -> list[Event]:
    """The learner's due date (current cohort) and their latest valid certificate's dates."""
    events: list[Event] = []
    cohort = session.execute(
        select(Cohort.id, Cohort.name, Cohort.due_date)
        .join(CohortMembership, CohortMembership.cohort_id == Cohort.id)
        .where(CohortMembership.user_id == user_id, CohortMembership.left_at.is_(None))
    ).first()
    if cohort is not None:
        events.append(
            Event(
                f"due-{user_id}-{cohort.id}@{host}",
                cohort.due_date,
                gettext(EVENT_TITLES["due"]) % {"cohort": cohort.name},
            )
        )
    certificate = session.scalars(
        select(Certificate)
        .where(Certificate.user_id == user_id)
        .order_by(Certificate.cycle.desc())
        .limit(1)
    ).first()
    if certificate is not None and certificate.revoked_at is None:
        opens = certificate.expires_at - timedelta(days=policy.certification.renewal_window_days)
        events.append(
            Event(
                f"renewal-{user_id}-{certificate.cycle}@{host}",
                local_day(opens),
                gettext(EVENT_TITLES["renewal_opens"]),
                certificate.code,
            )
        )
        events.append(
            Event(
                f"expiry-{user_id}-{certificate.cycle}@{host}",
                local_day(certificate.expires_at),
                gettext(EVENT_TITLES["expiry"]),
                certificate.code,
            )
        )
    return events


def feed_token(session: Session, user_id: int, renew: bool = False) -> str:
    """The learner's feed token, made on first use; ``renew`` replaces it (old link dies)."""
    feed = session.get(CalendarFeed, user_id)
    token = secrets.token_urlsafe(24)
    if feed is None:
        session.add(CalendarFeed(user_id=user_id, token=token, created_at=utcnow()))
        return token
    if renew:
        feed.token, feed.created_at = token, utcnow()
    return feed.token


def feed_owner(session: Session, token: str) -> int | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(CalendarFeed.user_id).where(CalendarFeed.token == token))
