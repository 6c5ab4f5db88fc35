"""Importing accounts from a CSV file: all rows or none.

The file is UTF-8 (with or without a byte-order mark); a header row names the
columns in English or Chinese (see ``COLUMNS``). Every row is checked before anything
is written; each problem is reported with its line number, and one bad row means
nothing is imported. New accounts get a random first password, shown once, that
they must change at first sign-in.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from courseware.accounts.users import USERNAME_RE
from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.config import ROLES
from courseware.core.errors import N_
from courseware.core.models import Cohort, User
from courseware.hr.cohorts import CohortError, assign
from courseware.hr.compliance import LEARNER_ROLE
from courseware.hr.reminders import email_problem, set_contact

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# The first password is 16 random URL-safe characters (96 bits) and must be changed at
# first sign-in. Guessing it is hopeless however fast the hash, so a light hash keeps an
# import of thousands of rows within a request; chosen passwords keep accounts' scrypt.
TEMPORARY_HASH_METHOD = "pbkdf2:sha256:1000"

# Column key -> accepted header names (compared case-insensitively, spaces and _ alike).
COLUMNS: dict[str, tuple[str, ...]] = {
    "username": ("user name", "username", "使用者名稱", "帳號"),
    "display_name": ("display name", "name", "姓名"),
    "employee_id": ("employee id", "員工編號"),
    "branch": ("branch", "分行"),
    "role": ("role", "角色"),
    "cohort": ("cohort", "梯次"),
    "email": ("email", "e-mail", "電子郵件"),
}
REQUIRED = ("username", "display_name")
ROLE_NAMES = {
    "學員": "trainee",
    "講師": "trainer",
    "分行主管": "manager",
    "主管": "manager",
    "人資": "hr",
    "管理員": "admin",
} | {role: role for role in ROLES}


@dataclass(frozen=True)
class RowError:
    """A problem on a line of the file (line 0: the file as a whole)."""

    line: int
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonRow:
    line: int
    username: str
    display_name: str
    employee_id: str = ""
    branch: str = ""
    role: str = LEARNER_ROLE
    cohort: str = ""
    email: str = ""


@dataclass
class ImportResult:
    created: list[tuple[str, str]] = field(default_factory=list)  # (user name, first password)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _header_key(name: str) -> str | None:
    cleaned = " ".join(name.replace("_", " ").replace("-", " ").strip().lower().split())
    for key, names in COLUMNS.items():
        if cleaned in {" ".join(n.replace("-", " ").split()) for n in names}:
            return key
    return None


def decode(data: bytes) -> tuple[str | None, list[RowError]]:
    if len(data) > MAX_BYTES:
        return None, [RowError(0, N_("The file is larger than 2 MB; split it into smaller files."))]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return None, [
            RowError(
                0,
                N_(
                    "The file is not UTF-8 text (Excel's plain CSV in Taiwan is Big5). "
                    'Save it as "CSV UTF-8 (comma delimited)" and upload it again.'
                ),
            )
        ]


def read_rows(text: str) -> tuple[list[PersonRow], list[RowError]]:
    """Parse the CSV and check each row on its own (no database)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(0, N_("The file is empty."))]
    except csv.Error as exc:
        return [], [
            RowError(1, N_("The line cannot be read as CSV: %(problem)s"), {"problem": str(exc)})
        ]
    keys = [_header_key(h) for h in header]
    errors = [
        RowError(1, N_("Unknown column %(name)s."), {"name": h.strip()})
        for h, k in zip(header, keys, strict=True)
        if k is None and h.strip()
    ]
    missing = [k for k in REQUIRED if k not in keys]
    if missing:
        errors.append(
            RowError(
                1,
                N_("The header row needs the columns %(names)s."),
                {"names": ", ".join(COLUMNS[k][0] for k in missing)},
            )
        )
    if errors:
        return [], errors
    rows: list[PersonRow] = []
    line = reader.line_num
    try:
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                errors.append(RowError(start, N_("More than 5,000 rows: split the file.")))
                break
            extra = cells[len(keys) :]
            if len(cells) < len(keys) or any(c.strip() for c in extra):
                errors.append(
                    RowError(
                        start,
                        N_("This line has %(found)s fields; the header has %(expected)s."),
                        {"found": len(cells), "expected": len(keys)},
                    )
                )
                continue
            values = {k: c.strip() for k, c in zip(keys, cells, strict=False) if k}
            row, problems = _check_row(start, values)
            errors.extend(problems)
            if row is not None:
                rows.append(row)
    except csv.Error as exc:
        errors.append(
            RowError(
                line + 1, N_("The line cannot be read as CSV: %(problem)s"), {"problem": str(exc)}
            )
        )
    if not rows and not errors:
        errors.append(RowError(0, N_("The file has no rows to import.")))
    return rows, errors


def _check_row(line: int, values: dict[str, str]) -> tuple[PersonRow | None, list[RowError]]:
    problems: list[RowError] = []
    username = values.get("username", "")
    if not USERNAME_RE.match(username):
        problems.append(
            RowError(
                line,
                N_("User name %(name)s: use 2-64 letters, digits, dots, hyphens or underscores."),
                {"name": username},
            )
        )
    display_name = values.get("display_name", "")
    if not display_name or len(display_name) > 100:
        problems.append(RowError(line, N_("Give a display name of at most 100 characters.")))
    if len(values.get("employee_id", "")) > 32:
        problems.append(RowError(line, N_("The employee id is longer than 32 characters.")))
    if len(values.get("branch", "")) > 64:
        problems.append(RowError(line, N_("The branch is longer than 64 characters.")))
    role_text = values.get("role", "")
    role = ROLE_NAMES.get(role_text.lower() if role_text.isascii() else role_text, None)
    if not role_text:
        role = LEARNER_ROLE
    if role is None:
        problems.append(
            RowError(
                line,
                N_("Unknown role %(role)s: use trainee, trainer, manager, hr or admin."),
                {"role": role_text},
            )
        )
    if values.get("cohort") and role not in (None, LEARNER_ROLE):
        problems.append(RowError(line, N_("Only trainees join cohorts.")))
    email = values.get("email", "")
    if email and (problem := email_problem(email)):
        problems.append(RowError(line, problem))
    if problems:
        return None, problems
    return (
        PersonRow(
            line,
            username,
            display_name,
            values.get("employee_id", ""),
            values.get("branch", ""),
            role or LEARNER_ROLE,
            values.get("cohort", ""),
            email,
        ),
        [],
    )


def check_against_database(session: Session, rows: Sequence[PersonRow]) -> list[RowError]:
    """Clashes within the file and with existing accounts; cohorts that do not exist."""
    errors: list[RowError] = []
    seen_names: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for row in rows:
        name = row.username.lower()
        if name in seen_names:
            errors.append(
                RowError(
                    row.line,
                    N_("The user name %(name)s is also on line %(other)s."),
                    {"name": row.username, "other": seen_names[name]},
                )
            )
        seen_names.setdefault(name, row.line)
        if row.employee_id:
            if row.employee_id in seen_ids:
                errors.append(
                    RowError(
                        row.line,
                        N_("The employee id %(id)s is also on line %(other)s."),
                        {"id": row.employee_id, "other": seen_ids[row.employee_id]},
                    )
                )
            seen_ids.setdefault(row.employee_id, row.line)
    taken = set(
        session.scalars(
            select(func.lower(User.username)).where(func.lower(User.username).in_(list(seen_names)))
        )
    )
    used_ids = dict(
        session.execute(
            select(User.employee_id, User.username).where(User.employee_id.in_(list(seen_ids)))
        ).all()
    )
    names = {r.cohort for r in rows if r.cohort}
    cohorts = {c.name: c for c in session.scalars(select(Cohort).where(Cohort.name.in_(names)))}
    for row in rows:
        if row.username.lower() in taken:
            errors.append(
                RowError(row.line, N_("The user name %(name)s is taken."), {"name": row.username})
            )
        if row.employee_id in used_ids:
            errors.append(
                RowError(
                    row.line,
                    N_("The employee id %(id)s already belongs to %(name)s."),
                    {"id": row.employee_id, "name": used_ids[row.employee_id]},
                )
            )
        cohort = cohorts.get(row.cohort)
        if row.cohort and cohort is None:
            errors.append(
                RowError(
                    row.line,
                    N_("There is no cohort called %(name)s; create it first."),
                    {"name": row.cohort},
                )
            )
        elif cohort is not None and cohort.branch and cohort.branch != row.branch:
            errors.append(
                RowError(
                    row.line,
                    N_("The cohort %(cohort)s is for the branch %(branch)s."),
                    {"cohort": cohort.name, "branch": cohort.branch},
                )
            )
    return sorted(errors, key=lambda e: e.line)


def import_people(
    session: Session, data: bytes, actor_id: int | None, now: datetime | None = None
) -> ImportResult:
    """Check the whole file, then create every account, or none when anything is wrong."""
    now = now or utcnow()
    text, errors = decode(data)
    if text is None:
        return ImportResult(errors=errors)
    rows, errors = read_rows(text)
    if rows:  # every line is checked, so one upload names every problem
        errors += check_against_database(session, rows)
    if errors:
        return ImportResult(errors=sorted(errors, key=lambda e: e.line), rows=len(rows))
    result = ImportResult(rows=len(rows))
    try:
        with session.begin_nested():
            _create(session, rows, actor_id, now, result)
    except (IntegrityError, CohortError):
        # Another request created one of these names or moved a learner meanwhile.
        result.created.clear()
        result.errors.append(
            RowError(0, N_("Accounts changed while importing; nothing was imported. Try again."))
        )
    return result


def _create(
    session: Session,
    rows: Sequence[PersonRow],
    actor_id: int | None,
    now: datetime,
    result: ImportResult,
) -> None:
    users: list[tuple[PersonRow, User]] = []
    for row in rows:
        password = secrets.token_urlsafe(12)
        user = User(
            username=row.username,
            display_name=row.display_name,
            employee_id=row.employee_id,
            branch=row.branch,
            role=row.role,
            password_hash=generate_password_hash(password, method=TEMPORARY_HASH_METHOD),
            active=True,
            must_change_password=True,
            session_version=1,
            created_at=now,
        )
        users.append((row, user))
        result.created.append((row.username, password))
    session.add_all(user for _, user in users)
    session.flush()
    for row, user in users:
        record(
            session,
            actor_id,
            "account.create",
            "user",
            user.id,
            after={
                "username": user.username,
                "role": user.role,
                "branch": user.branch,
                "via": "import",
            },
        )
        if row.email:
            set_contact(session, user, row.email, actor_id)
    by_cohort: dict[str, list[User]] = {}
    for row, user in users:
        if row.cohort:
            by_cohort.setdefault(row.cohort, []).append(user)
    cohorts = {
        c.name: c for c in session.scalars(select(Cohort).where(Cohort.name.in_(list(by_cohort))))
    }
    for name, members in by_cohort.items():
        assign(session, cohorts[name], members, actor_id, now)
    record(session, actor_id, "account.import", "users", "", after={"created": len(users)})
