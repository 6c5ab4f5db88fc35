"""A large, synthetic but plausible data set, loaded in bulk: ``courseware seed-load``.

Branches and cohorts (due dates past and future), learners who joined over three years and
went through the real course: lesson progress, quiz attempts drawn from the real banks (the
served questions and definitions stored as the engine stores them, answers graded by the
engine's own rules), case decisions scored and recorded by the case engine, certificates
earned, renewed, expired and revoked with their evidence, reminders and audit events.

Rows are generated as tuples a few hundred learners at a time and go in with one binary COPY a
table on PostgreSQL (two forked processes each generate every other chunk, and a writer thread
of each writes its chunks through the process's own connection while it generates the next),
one prepared INSERT run over the rows on SQLite. Each chunk draws from its own random stream
and numbers its attempts and decisions from its own block of ids (``BLOCK``; the ids are not
dense), so the rows are the same whichever process makes a chunk. A served question's shuffles
and definition are stored once, in ``question_texts``, before any chunk: the rows carry their
ids. On PostgreSQL the large JSON many rows share (a decision's case record) is copied once
into each writer's temporary table and joined in on the server, the rows naming it by
number; a superuser's writers leave out the foreign keys' per-row triggers
(``session_replication_role = replica``, as pg_restore does) and check each batch's references
with one query a key before it commits. Unique keys (and so what a chunk must be refused for)
stay; the other indexes of the loaded tables but the served questions' are dropped for the load
and built once from its rows at the end (also when the load fails). What the engines compute is
computed once and reused: each case's decisions are scored and recorded on three variants, each
bank's question sets are drawn ahead (a pool per quiz, so learners share sets as they share
questions), each question is served in a few shuffles and every answer the seeder gives is
graded once by the question type's own rule. The primary keys other rows point at (users,
attempts, decisions) are assigned here, so no row needs a round trip; PostgreSQL's sequences
are moved past them at the end. Seeding is an offline job: run it while nothing else writes to
the database.
"""

from __future__ import annotations

import json
import multiprocessing
import pickle
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from psycopg.adapt import Dumper
from psycopg.errors import ForeignKeyViolation
from psycopg.pq import Format
from sqlalchemy import JSON, Engine, func, insert, select, text
from sqlalchemy.orm import Session

from courseware.assessment.drawing import draw_questions
from courseware.assessment.questions import question_type
from courseware.casework.decisions import decision_fields
from courseware.casework.record import build_record
from courseware.certification.issuing import CODE_ALPHABET, CODE_PREFIX
from courseware.certification.policy import Policy
from courseware.certification.rules import add_months
from courseware.content.catalogue import Catalogue
from courseware.core.activity import backfill_first_activity
from courseware.core.clock import utcnow
from courseware.core.models import (
    AttemptQuestion,
    AuditEvent,
    CaseDecision,
    CaseTicket,
    Certificate,
    Cohort,
    CohortMembership,
    LearnerContact,
    LearnerModuleSummary,
    LearnerSummary,
    LessonProgress,
    QuizAttempt,
    Reminder,
    User,
)
from courseware.core.question_texts import intern_texts
from courseware.hr import summary
from courseware.hr.keys import course_keys
from courseware.lending.scoring import decision_record, score_decision
from courseware.lending.simulation import evaluate_options, simulate_path
from courseware.lending.variants import draw_variant

CITIES = "台北 新北 桃園 新竹 苗栗 台中 彰化 南投 雲林 嘉義 台南 高雄 屏東 宜蘭 花蓮 台東"
BRANCHES = tuple(
    f"{city}{part}分行"
    for n, city in enumerate(CITIES.split())
    for part in ("", "第二")[: 1 + (n < 8)]
)
SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高"
GIVEN = "家豪 志明 俊傑 建宏 俊宏 志豪 志偉 承翰 冠宇 淑芬 淑惠 美玲 雅婷 怡君 欣怡".split()  # noqa: SIM905
DAY = timedelta(days=1)
YEARS = 3
SEEDS = 500  # the seeds every option is graded on (courseware.casework.SEEDS)
CHUNK = 250  # learners generated and inserted together
DRAWS = 120  # question sets drawn ahead for each quiz
SHUFFLES = 12  # ways each question is served (its choices or steps shuffled)
WRITERS = 2  # PostgreSQL processes generating and writing chunks side by side
BLOCK = CHUNK * 40  # attempt and decision ids a chunk may take (one block each)
ASKED = tuple(timedelta(seconds=40 * position) for position in range(200))

# Each table's columns in the order the generator writes its rows (tuples keep this short).
COLUMNS: dict[Any, tuple[str, ...]] = {
    User: ("id", "username", "display_name", "employee_id", "branch", "role", "password_hash",
           "active", "must_change_password", "session_version", "created_at"),
    CohortMembership: ("user_id", "cohort_id", "joined_at", "left_at", "current_key"),
    LearnerContact: ("user_id", "email", "updated_at"),
    QuizAttempt: ("id", "user_id", "kind", "module_slug", "bank_revision_id", "token", "open_key",
                  "status", "pass_mark", "started_at", "saved_at", "submitted_at", "score",
                  "max_score", "passed"),
    AttemptQuestion: ("attempt_id", "position", "question_id", "bank_module", "bank_revision_id",
                      "qtype", "answer", "answered_at", "points", "max_points", "correct",
                      "served_id", "definition_id"),
    CaseTicket: ("token", "user_id", "case_slug", "case_revision_id", "content_hash", "seed",
                 "kind", "issued_at", "used_at"),
    CaseDecision: ("id", "user_id", "ticket_token", "kind", "first_key", "decided_at"),
    LessonProgress: ("user_id", "module_slug", "lesson_slug", "first_viewed_at",
                     "last_viewed_at", "completed_at", "completed_revision_id", "seconds_spent"),
    Certificate: ("user_id", "cycle", "code", "kind", "issued_at", "expires_at", "reason",
                  "evidence", "revoked_at", "revoked_by", "revoke_reason"),
    Reminder: ("user_id", "sent_at", "sent_by", "kind", "address", "status", "detail"),
    AuditEvent: ("at", "actor_id", "action", "target_type", "target_id", "before", "after",
                 "reason"),
}  # fmt: skip


@dataclass
class SeedReport:
    learners: int
    rows: dict[str, int] = field(default_factory=dict)
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (role, user name) to show


def _choices(case: Any, stats: Any) -> list[tuple[str, list[str], list[str]]]:
    """Five decisions on one variant, from the expert's to a poor one."""
    best = next(s.option_id for s in stats if s.is_best)
    others = [o.id for o in case.options if o.id != best] or [best]
    flags = sorted(case.key_flags)
    wrong = [f.id for f in case.catalogue.flags if f.id not in case.key_flags][:1]
    keys = list(case.spec.key.key_reasons)
    rest = [r for r in case.reason_ids if r not in keys]
    return [
        (best, flags, keys[:3]),
        (best, flags[:-1], (keys[:2] + rest[:1])[:3]),
        (best, flags[: len(flags) // 2], keys[:1]),
        (others[0], flags[:1] + wrong, rest[:1]),
        (others[-1], wrong, rest[1:2] or rest[:1]),
    ]


def _case_templates(catalogue: Catalogue) -> dict[str, list[tuple[dict[str, Any], float]]]:
    """Per case, five decisions from expert to poor on the variants of three seeds, scored
    and recorded by the engine: (the decision's columns, its score)."""
    found: dict[str, list[tuple[dict[str, Any], float]]] = {}
    revisions = catalogue.extras.get("case_revisions") or {}
    for slug, template in sorted(catalogue.cases.items()):
        served = {}
        for seed in (11, 23, 37):
            case = draw_variant(template, seed)
            stats = evaluate_options(case, SEEDS)
            served[seed] = (case, stats, _choices(case, stats))
        found[slug] = []
        for level in range(5):
            for seed, (case, stats, choices) in served.items():
                option_id, ticked, reasons = choices[level]
                score = score_decision(case, stats, option_id, set(ticked), reasons)
                path = simulate_path(case, option_id, seed)
                expert = simulate_path(case, score.best_option_id, seed)
                loan, best_loan = (
                    decision_record(case, stats, path),
                    decision_record(case, stats, expert),
                )
                record = build_record(
                    case, stats, score, path, loan, expert, best_loan, reasons, SEEDS
                )
                values = {
                    "case_slug": slug,
                    "case_revision_id": revisions.get(slug),
                    "content_hash": template.content_hash,
                    "seed": seed,
                    **decision_fields(option_id, ticked, reasons, score, path, record),
                    "case_model": 2,
                }
                found[slug].append((values, score.total))
    return found


def _answers(qtype: str, definition: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The right answer in the bank's keys (as the engine stores it), and the plausible wrong
    ones a learner gives instead, each as likely as the others."""
    key: Any = definition.get("answer")
    if qtype == "ordering":
        swapped = []
        for i in range(len(definition["items"]) - 1):
            order = list(range(len(definition["items"])))
            order[i], order[i + 1] = order[i + 1], order[i]
            swapped.append(order)
        return list(range(len(definition["items"]))), swapped
    if qtype == "single":
        return key, [k for k in definition["choices"] if k != key] or [key]
    if qtype == "multiple":
        return sorted(key), [
            sorted(set(key) ^ {choice}) or [key[0]] for choice in sorted(definition["choices"])
        ]
    return key, [(not key) if qtype == "true_false" else round(float(key) * 1.1 + 1, 2)]


def _json(value: Any) -> str:
    """JSON as the application stores it, its Chinese kept as UTF-8."""
    return json.dumps(value, ensure_ascii=False)


def _row(model: Any, values: dict[str, Any]) -> tuple[Any, ...]:
    """``values`` in their order, the JSON columns' serialised."""
    columns = model.__table__.c
    return tuple(
        _json(value) if value is not None and isinstance(columns[name].type, JSON) else value
        for name, value in values.items()
    )


def _processed(row: tuple[Any, ...], convert: list[tuple[int, Any]]) -> tuple[Any, ...]:
    values = list(row)
    for i, process in convert:
        values[i] = process(values[i])
    return tuple(values)


@dataclass(frozen=True)
class _Question:
    """A bank's question ready to serve: its columns, a few shuffles of what the trainee is
    shown, and the answers given with the points the question type grades them
    (the answers' JSON already serialised)."""

    columns: tuple[str, str, int | None, str]  # question_id, bank_module, bank_revision_id, qtype
    definition: dict[str, Any]
    shown: tuple[dict[str, Any], ...]
    right: tuple[str, float, bool]  # answer, points, correct
    wrong: tuple[tuple[str, float, bool], ...]
    texts: tuple[tuple[int, int], ...] = ()  # each shuffle's (served_id, definition_id)

    @classmethod
    def of(cls, item: Any, rng: random.Random) -> _Question:
        question, qtype = item.question, question_type(item.question.type)
        definition = question.model_dump(mode="json")

        def graded(answer: Any) -> tuple[str, float, bool]:
            points = round(qtype.grade(definition, answer), 6)
            return _json(answer), points, points >= 1 - 1e-9

        right, wrong = _answers(question.type, definition)
        return cls(
            (question.id, item.bank.module, item.bank.revision_id, question.type),
            definition,
            tuple(qtype.serve(question, rng) for _ in range(SHUFFLES)),
            graded(right),
            tuple(graded(answer) for answer in wrong),
        )


Batch = dict[Any, list[tuple[Any, ...]]]
JSON_OID = 114  # PostgreSQL's json type
STAGED = "courseware.seed.staged"  # session.info: its temporary tables, values copied in each


@dataclass
class _Shared:
    """JSON columns whose values a few hundred or thousand rows share, numbered in the order
    the seeder met them; on PostgreSQL each writer keeps them in a temporary table."""

    table: str
    columns: tuple[str, ...]
    values: list[tuple[str, ...]] = field(default_factory=list)
    number: dict[Any, int] = field(default_factory=dict)

    def add(self, *value: str) -> int:
        """The value's number (a new one if it is new)."""
        key = value if len(value) > 1 else value[0]
        if key not in self.number:
            self.number[key] = len(self.values)
            self.values.append(value)
        return self.number[key]

    def others(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """A generated row's columns: ``names`` without the shared ones, then the number."""
        return (*(name for name in names if name not in self.columns), "n")

    def expand(self, rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> list[tuple[Any, ...]]:
        """Generated rows as rows of ``names``, the shared values put back in (SQLite)."""
        others = self.others(names)
        picks = [
            (others.index(name), -1) if name in others else (-1, self.columns.index(name))
            for name in names
        ]
        return [
            tuple(row[i] if i >= 0 else self.values[row[-1]][j] for i, j in picks) for row in rows
        ]


def _unstage(session: Session, shared: list[_Shared]) -> None:
    """Drop the writer's temporary tables (PostgreSQL), if it made them."""
    session.rollback()
    if session.info.pop(STAGED, None):
        tables = ", ".join(f"{s.table}, {s.table}_rows" for s in shared)
        session.execute(text(f"DROP TABLE IF EXISTS {tables}"))
        session.commit()


def _json_dumper(encoded: dict[str, bytes]) -> type[Dumper]:
    """A binary COPY's json column: the text as is (a json value's binary form is its text),
    from ``encoded`` when it was encoded before."""

    class JsonText(Dumper):
        format = Format.BINARY
        oid = JSON_OID

        def dump(self, obj: Any) -> bytes:
            return encoded.get(obj) or obj.encode()

    return JsonText


class _Writers:
    """Write the batches handed over on other threads, each with its own session, so the
    database works on earlier chunks while the next is generated (a chunk's rows refer only
    to each other and to rows committed before the load). An error surfaces at the next
    hand-over."""

    def __init__(
        self,
        write: Callable[[Batch, Session], None],
        sessions: list[Session],
        finish: Callable[[Session], None],
    ) -> None:
        self.write, self.finish, self.error = write, finish, cast(BaseException | None, None)
        self.batches: queue.Queue[Batch | None] = queue.Queue(len(sessions))
        self.threads = [
            threading.Thread(target=self._run, args=(session,), name="seed-writer", daemon=True)
            for session in sessions
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, session: Session) -> None:
        with session:
            while (batch := self.batches.get()) is not None:
                if self.error is None:
                    try:
                        self.write(batch, session)
                    except BaseException as error:  # noqa: BLE001 - raised again in the caller
                        self.error = error
            try:
                self.finish(session)
            except BaseException as error:  # noqa: BLE001 - raised again in the caller
                self.error = self.error or error

    def __call__(self, batch: Batch) -> None:
        self._check()
        self.batches.put(batch)

    def close(self) -> None:
        """Wait for the last batches; raise what went wrong on the way."""
        for _thread in self.threads:
            self.batches.put(None)
        for thread in self.threads:
            thread.join()
        self._check()

    def _check(self) -> None:
        if self.error is not None:
            raise self.error


class _Loader:
    """Generates learners' histories a chunk at a time and inserts them."""

    def __init__(
        self,
        session: Session,
        catalogue: Catalogue,
        policy: Policy,
        now: datetime,
        seed: int,
        password_hash: str,
    ) -> None:
        self.session, self.catalogue, self.policy, self.now = session, catalogue, policy, now
        self.password_hash, self.seed = password_hash, seed
        self.next_id = {
            m: (session.scalar(select(func.max(m.id))) or 0) + 1
            for m in (User, QuizAttempt, CaseDecision)
        }
        self.tag = self.next_id[User]  # keeps names, tokens and codes unique across loads
        self.first_learner: int | None = None  # the learners' first id, after the staff's
        self.blocks: dict[Any, int] = {}  # where the chunks' blocks of ids start
        self.rng = random.Random(f"{seed}:{self.tag}")  # noqa: S311 - synthetic data
        self.lessons = [lesson for m in catalogue.modules for lesson in m.lessons]
        self.quiz_after = {m.lessons[-1].slug: m.slug for m in catalogue.modules if m.lessons}
        self.templates = _case_templates(catalogue)
        self.columns = dict(COLUMNS)
        self.columns[CaseDecision] += tuple(next(iter(self.templates.values()))[0][0])
        self.decisions = {
            slug: [(values, _row(CaseDecision, values), score) for values, score in found]
            for slug, found in self.templates.items()
        }
        # The JSON the seeder serves again and again (questions, answers, case records), each
        # encoded once for PostgreSQL's binary COPY.
        self.encoded: dict[str, bytes] = {
            value: value.encode()
            for _values, row, _score in (d for found in self.decisions.values() for d in found)
            for value in row
            if isinstance(value, str) and len(value) > 64
        }
        self.drawn: dict[tuple[str, str], list[list[_Question]]] = {}
        self.questions: dict[str, _Question] = {}
        self.rows: Batch = {model: [] for model in COLUMNS}
        self.counts: dict[str, int] = {}
        self.staff: dict[str, list[int]] = {}
        self.cohorts: dict[str, list[tuple[int, date, datetime]]] = {}
        self.start = now - timedelta(days=365 * YEARS)
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.lz4 = self.postgres and "lz4" in (
            session.scalar(
                text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
            )
            or []
        )
        self.types = self._column_types(session) if self.postgres else {}
        # A superuser's writers leave out the foreign keys' per-row triggers (as pg_restore
        # --disable-triggers does) and check each batch's references with one query a key.
        self.batch_checks = self.postgres and (
            session.scalar(text("SELECT current_setting('is_superuser')")) == "on"
        )
        session.commit()
        # PostgreSQL takes a decision's case record (14 kB of JSON, one of a few hundred) from
        # a temporary table each writer fills once: the row names it by its number.
        self.shared = {CaseDecision: _Shared("pg_temp.seed_case_records", ("record",))}
        # The rows are generated with the shared values' numbers in their place (last).
        self.row_names = {
            model: self.shared[model].others(names) if model in self.shared else names
            for model, names in self.columns.items()
        }
        at = self.columns[CaseDecision].index("record") - len(COLUMNS[CaseDecision])
        self.decisions = {
            slug: [
                (values, (*row[:at], *row[at + 1 :], self.shared[CaseDecision].add(row[at])), score)
                for values, row, score in found
            ]
            for slug, found in self.decisions.items()
        }
        self.json_dumper = _json_dumper(self.encoded)
        self.write: Callable[[Batch], None] = lambda batch: self._write(batch, session)

    def _column_types(self, session: Session) -> dict[Any, list[int]]:
        """Each loaded table's column types (oids) in ``self.columns``' order, as the server
        has them: a binary COPY is read by the column's type, with no casts."""
        found = {}
        for model, names in self.columns.items():
            oids = dict(
                session.execute(
                    text(
                        "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid ="
                        " CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"
                    ),
                    {"table": model.__tablename__},
                ).all()
            )
            found[model] = [oids[name] for name in names]
        session.commit()
        return found

    def take(self, model: Any) -> int:
        self.next_id[model] += 1
        return self.next_id[model] - 1

    def add(self, model: Any, *values: Any) -> None:
        """A row in ``COLUMNS[model]``'s order, its JSON already serialised."""
        self.rows[model].append(values)

    def flush(self) -> None:
        """Hand what was generated to the writer (parents first)."""
        batch = {model: rows for model, rows in self.rows.items() if rows}
        for model, rows in batch.items():
            self.counts[model.__tablename__] = self.counts.get(model.__tablename__, 0) + len(rows)
        self.rows = {model: [] for model in COLUMNS}
        self.write(batch)

    def _write(self, batch: Batch, session: Session) -> None:
        """Insert one batch and commit.

        PostgreSQL gets one COPY a table, with commits not waiting for the disk and the large
        case records compressed with lz4 where the server has it (both for this transaction
        only); SQLite one prepared INSERT run over all the rows, values going through each
        column's own bind processing (so they are stored as the application stores them).
        """
        connection = session.connection()
        if self.postgres:
            connection.exec_driver_sql("SET LOCAL synchronous_commit = off")
            if self.lz4:
                connection.exec_driver_sql("SET LOCAL default_toast_compression = lz4")
            if self.batch_checks:
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for model, rows in batch.items():
            table, names = model.__table__, self.columns[model]
            if self.postgres and model in self.shared:
                self._copy_shared(session, model, rows)
                continue
            if model in self.shared:
                rows = self.shared[model].expand(rows, names)
            if self.postgres:  # binary, each value as its column's type; JSON encoded once
                self._copy(session, table.name, names, self.types[model], rows)
                continue
            convert = [
                (i, table.c[name].type.bind_processor(connection.dialect))
                for i, name in enumerate(names)
                if not isinstance(table.c[name].type, JSON)
            ]
            convert = [(i, f) for i, f in convert if f is not None]
            if convert:
                rows = [_processed(row, convert) for row in rows]
            marks = ", ".join("?" * len(names))
            statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608
            connection.exec_driver_sql(statement, rows)
        if self.batch_checks:
            self._check_references(session, batch)
        session.commit()

    def _check_references(self, session: Session, batch: Batch) -> None:
        """What the foreign keys' triggers would have checked, a key and a batch at a time:
        every value the batch's rows refer to is there (in this transaction)."""
        dialect = session.get_bind().dialect
        for model, rows in batch.items():
            names = self.row_names[model]
            for key in sorted(model.__table__.foreign_keys, key=lambda k: k.parent.name):
                if key.parent.name not in names:
                    continue
                at = names.index(key.parent.name)
                values = sorted({row[at] for row in rows} - {None})
                if not values:
                    continue
                target, kind = key.column, key.parent.type.compile(dialect)
                missing = session.execute(
                    text(
                        f"SELECT v FROM unnest(CAST(:values AS {kind}[])) AS v"  # noqa: S608
                        f" WHERE NOT EXISTS (SELECT 1 FROM {target.table.name} t"
                        f" WHERE t.{target.name} = v) LIMIT 1"
                    ),
                    {"values": values},
                ).scalar()
                if missing is not None:
                    raise ForeignKeyViolation(
                        f"{model.__tablename__}.{key.parent.name} = {missing}: no such"
                        f" {target.table.name}.{target.name}"
                    )

    def _copy(self, session: Session, table: str, names: Any, types: Any, rows: Any) -> None:
        """One binary COPY of ``rows`` into ``table``."""
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.adapters.register_dumper(None, self.json_dumper)
        with (
            cursor,
            cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)") as out,
        ):
            out.set_types(types)
            for row in rows:
                out.write_row(row)

    def _copy_shared(self, session: Session, model: Any, rows: list[tuple[Any, ...]]) -> None:
        """Rows without the JSON they share into a temporary table, then into their table with
        that JSON joined in on the server from the writer's own copy of it (PostgreSQL)."""
        shared, names, types = self.shared[model], self.columns[model], self.types[model]
        at = [names.index(name) for name in shared.columns]
        keep = [i for i in range(len(names)) if i not in at]
        others = [names[i] for i in keep]
        table, values, stage = model.__tablename__, shared.table, f"{shared.table}_rows"
        known = session.info.setdefault(STAGED, {})
        if table not in known:
            columns = ", ".join(f"{name} json NOT NULL" for name in shared.columns)
            session.execute(
                text(f"CREATE TEMPORARY TABLE {values} (n integer PRIMARY KEY, {columns})")
            )
            session.execute(
                text(
                    f"CREATE TEMPORARY TABLE {stage} ON COMMIT DELETE ROWS"  # noqa: S608
                    f" AS SELECT {', '.join(others)}, 0 AS n FROM {table} WITH NO DATA"
                )
            )
            known[table] = 0
        if known[table] < len(shared.values):  # values first met since this writer's last batch
            added = shared.values[known[table] :]
            self._copy(
                session,
                values,
                ("n", *shared.columns),
                ["int4", *[JSON_OID] * len(shared.columns)],
                [(known[table] + k, *value) for k, value in enumerate(added)],
            )
            known[table] += len(added)
        self._copy(session, stage, (*others, "n"), [*(types[i] for i in keep), "int4"], rows)
        listed = ", ".join(others)
        joined = ", ".join(f"v.{name}" for name in shared.columns)
        inserted = session.execute(
            text(
                f"INSERT INTO {table} ({listed}, {', '.join(shared.columns)})"  # noqa: S608
                f" SELECT {listed}, {joined} FROM {stage} JOIN {values} v USING (n)"
            )
        ).rowcount
        if inserted != len(rows):
            raise RuntimeError(f"{table}: {len(rows)} rows staged, {inserted} inserted")

    def user(
        self, username: str, role: str, branch: str, created: datetime, active: bool = True
    ) -> int:
        uid = self.take(User)
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        self.add(
            User,
            uid,
            username,
            name,
            f"E{uid:06d}",
            branch,
            role,
            self.password_hash,
            active,
            False,
            1,
            created,
        )
        return uid

    def staff_and_cohorts(self) -> list[tuple[str, str]]:
        """A manager for each branch, trainers, HR, an administrator; cohorts every half year."""
        shown = []
        for role, count in (("manager", len(BRANCHES)), ("trainer", 4), ("hr", 2), ("admin", 1)):
            for k in range(count):
                username = f"{role}{self.tag + k:05d}"
                branch = BRANCHES[k] if role == "manager" else "總行"
                self.staff.setdefault(role, []).append(
                    self.user(username, role, branch, self.start)
                )
                shown += [(role, username)] if k == 0 else []
        self.flush()
        taken = set(self.session.scalars(select(Cohort.name)))
        for branch in BRANCHES:
            for k in range(YEARS * 2 + 1):
                opens = self.start + 182 * k * DAY
                name = f"{branch} {opens.year}-{1 + (opens.month - 1) // 6}梯"
                row = {
                    "name": name if name not in taken else f"{name} ({self.tag})",
                    "branch": branch,
                    "due_date": (opens + 120 * DAY).date(),
                    "created_at": opens,
                    "created_by": self.staff["hr"][0],
                }
                cohort_id = self.session.execute(
                    insert(Cohort).returning(Cohort.id), [row]
                ).scalar_one()
                self.cohorts.setdefault(branch, []).append((cohort_id, row["due_date"], opens))
        self.session.commit()
        return shown

    def chunk(self, index: int, learners: int) -> dict[str, int]:
        """Generate chunk ``index`` of ``learners`` and hand it to the writer; returns each
        stage reached and its first learner's number.

        A chunk draws from its own random stream, and its attempts and decisions are
        numbered from its own block of ids, so it comes out the same whichever process
        makes it, and in whatever order.
        """
        if self.first_learner is None:  # the staff took theirs
            self.first_learner, self.blocks = self.next_id[User], dict(self.next_id)
        first = index * CHUNK
        self.rng = random.Random(f"{self.seed}:{self.tag}:{index}")  # noqa: S311
        self.next_id[User] = self.first_learner + first
        for model in (QuizAttempt, CaseDecision):
            self.next_id[model] = self.blocks[model] + index * BLOCK
        shown: dict[str, int] = {}
        for n in range(first, min(learners, first + CHUNK)):
            state, uid = self.learner(self.tag + n)
            self.remind(uid, self.tag + n, state)
            shown.setdefault(state, self.tag + n)
        for model in (QuizAttempt, CaseDecision):
            if self.next_id[model] > self.blocks[model] + (index + 1) * BLOCK:
                raise RuntimeError(f"chunk {index}: more {model.__tablename__} than BLOCK ids")
        self.flush()
        return shown

    def learner(self, number: int) -> tuple[str, int]:
        """One trainee's history up to now; returns (how far they got, user id)."""
        rng, now = self.rng, self.now
        branch, username = rng.choice(BRANCHES), f"officer{number:05d}"
        joined = self.start + (now - 14 * DAY - self.start) * rng.random()
        uid = self.user(username, "trainee", branch, joined, active=rng.random() > 0.02)
        cohorts = self.cohorts[branch]
        current = max(
            (c for c in cohorts if c[2] <= joined + 30 * DAY),
            key=lambda c: c[2],
            default=cohorts[0],
        )
        earlier = [c for c in cohorts if c[2] < current[2]]
        if earlier and rng.random() < 0.05:  # moved from an earlier cohort: history kept
            self.add(CohortMembership, uid, earlier[-1][0], joined, joined + 20 * DAY, None)
        self.add(CohortMembership, uid, current[0], joined, None, str(uid))
        if rng.random() < 0.85:
            self.add(LearnerContact, uid, f"{username}@bank.example", joined)
        skill, pace, kind = rng.uniform(0.6, 0.98), rng.uniform(0.2, 2.5), rng.random()
        stop = 0 if kind < 0.06 else rng.randrange(1, len(self.lessons)) if kind < 0.2 else 99
        t = joined + rng.uniform(0.5, 10) * DAY
        evidence: dict[str, Any] = {"quizzes": {}, "cases": [], "lessons": {}}
        for index, lesson in enumerate(self.lessons[:stop]):
            if t >= now:
                return "in_progress", uid
            read = t + timedelta(minutes=rng.uniform(5, 40))
            finished = read < now and (index < stop - 1 or stop == 99 or rng.random() < 0.5)
            self.add(
                LessonProgress,
                uid,
                lesson.module_slug,
                lesson.slug,
                t,
                min(read, now),
                read if finished else None,
                lesson.revision_id if finished else None,
                int(lesson.minutes * 60 * rng.uniform(0.6, 1.6)),
            )
            if finished:
                evidence["lessons"][f"{lesson.module_slug}/{lesson.slug}"] = lesson.revision_id
            t = read + pace * rng.uniform(0.3, 1.7) * DAY
            module = self.quiz_after.get(lesson.slug)
            if finished and module in self.catalogue.quizzes:
                t, passed = self.quiz(uid, module, "module", t, skill, evidence)
                if not passed:
                    return "stuck", uid
        if stop != 99 or t >= now:
            return "in_progress", uid
        t, certified = self.cases(uid, t, skill, evidence)
        if not certified or t >= now:
            return "in_progress", uid
        self.certify(uid, t, evidence)
        return "certified", uid

    def question_sets(
        self, kind: str, key: str, banks: list[Any], count: int
    ) -> list[list[_Question]]:
        """``DRAWS`` sets of questions drawn from ``banks`` as the quiz draws them, once."""
        found = self.drawn.get((kind, key))
        if found is None:
            rng = random.Random(f"{self.seed}:{self.tag}:{kind}:{key}")  # noqa: S311
            new: dict[str, _Question] = {}
            drawn = []
            for _ in range(DRAWS):
                drawn.append([])
                for item in draw_questions(banks, count, rng):
                    qid = item.question.id
                    question = self.questions.get(qid) or new.get(qid)
                    if question is None:
                        question = new[qid] = _Question.of(item, rng)
                        for answer in (question.right, *question.wrong):
                            self.encoded[answer[0]] = answer[0].encode()
                    drawn[-1].append(question)
            self.questions.update(self._stored(list(new.values())))
            found = self.drawn[(kind, key)] = [
                [self.questions[q.columns[0]] for q in questions] for questions in drawn
            ]
        return found

    def _stored(self, questions: list[_Question]) -> dict[str, _Question]:
        """``questions`` with the ids of their texts, stored in ``question_texts`` (new ones
        added and committed, so every writer's rows may refer to them)."""
        if not questions:
            return {}
        bodies = [body for q in questions for body in (q.definition, *q.shown)]
        ids = iter([text.id for text in intern_texts(self.session, bodies)])
        self.session.commit()
        found = {}
        for question in questions:
            definition = next(ids)
            served = [next(ids) for _shown in question.shown]
            texts = tuple((shown, definition) for shown in served)
            found[question.columns[0]] = replace(question, texts=texts)
        return found

    def prepare(self) -> None:
        """Draw every quiz's question sets and store their texts now, before any chunk (and
        so before the writing processes fork): the same for every process."""
        for module in self.catalogue.modules:
            if module.slug in self.catalogue.quizzes:
                bank = self.catalogue.quizzes[module.slug]
                self.question_sets("module", module.slug, [bank], bank.draw)
        renewal = self.policy.certification.renewal
        self.question_sets(
            "renewal", "renewal", list(self.catalogue.quizzes.values()), renewal.questions
        )

    def quiz(
        self, uid: int, key: str, kind: str, t: datetime, skill: float, evidence: dict[str, Any]
    ) -> tuple[datetime, bool]:
        """Attempts until one passes (or the limit, or now); returns (time after, passed)."""
        rng, renewal = self.rng, self.policy.certification.renewal
        banks = (
            list(self.catalogue.quizzes.values())
            if kind == "renewal"
            else [self.catalogue.quizzes[key]]
        )
        count = renewal.questions if kind == "renewal" else banks[0].draw
        pass_mark = renewal.pass_mark if kind == "renewal" else banks[0].pass_mark
        for tries in range(10 if kind == "renewal" else banks[0].max_attempts or 5):
            if t >= self.now:
                return t, False
            aid, score = self.take(QuizAttempt), 0.0
            submitted = t + timedelta(minutes=rng.uniform(6, 30))
            still_open = submitted >= self.now
            drawn = rng.choice(self.question_sets(kind, key, banks, count))
            p_right, add = min(0.99, skill + 0.08 * tries), self.rows[AttemptQuestion].append
            uniform = rng.random  # indexes drawn from it: random.choice costs more, 8.5M times
            for position, question in enumerate(drawn, 1):
                wrong = question.wrong
                answer, points, correct = (
                    question.right if uniform() < p_right else wrong[int(uniform() * len(wrong))]
                )
                score += 0.0 if still_open else points
                add(
                    (
                        aid,
                        position,
                        *question.columns,
                        answer,
                        t + ASKED[position],
                        None if still_open else points,
                        1.0,
                        None if still_open else correct,
                        *question.texts[int(uniform() * SHUFFLES)],  # served, definition
                    )
                )
            passed = not still_open and score >= pass_mark * len(drawn) - 1e-9
            self.add(
                QuizAttempt,
                aid,
                uid,
                kind,
                key,
                banks[0].revision_id if kind == "module" else None,
                f"seed-{aid}-{rng.getrandbits(64):016x}",
                f"{kind}:{uid}:{key}" if still_open else None,
                "open" if still_open else "submitted",
                pass_mark,
                t,
                t,
                None if still_open else submitted,
                None if still_open else round(score, 6),
                float(len(drawn)),
                None if still_open else passed,
            )
            if still_open:
                return self.now, False
            if passed:
                if kind == "module":
                    percent = int(100 * score / len(drawn) + 0.5)
                    evidence["quizzes"][key] = {
                        "percent": percent,
                        "attempt_id": aid,
                        "bank_revision_id": banks[0].revision_id,
                    }
                return submitted + rng.uniform(0.5, 3) * DAY, True
            t = submitted + rng.uniform(0.2, 48) / 24 * DAY
        return t, False

    def decide(
        self, uid: int, slug: str, kind: str, first: bool, t: datetime, skill: float
    ) -> dict[str, Any]:
        """A decision (and its spent ticket); the more skilled, the nearer the expert's."""
        r = self.rng.random()
        level = (
            0
            if r < skill * 0.55
            else 1
            if r < skill * 0.85
            else 2
            if r < skill
            else 3 + (r > (1 + skill) / 2)
        )
        values, row, score = self.decisions[slug][level * 3 + self.rng.randrange(3)]
        did = self.take(CaseDecision)
        token = f"seed-{did}-{self.rng.getrandbits(64):016x}"
        self.add(
            CaseTicket,
            token,
            uid,
            slug,
            values["case_revision_id"],
            values["content_hash"],
            values["seed"],
            kind,
            t - timedelta(minutes=20),
            t,
        )
        self.add(CaseDecision, did, uid, token, kind, f"{uid}:{slug}" if first else None, t, *row)
        return {
            "case": slug,
            "score": round(score, 1),
            "decision_id": did,
            "case_revision_id": values["case_revision_id"],
        }

    def cases(
        self, uid: int, t: datetime, skill: float, evidence: dict[str, Any]
    ) -> tuple[datetime, bool]:
        """First decisions until their average (of all, or of the best, as the rules say)
        reaches the minimum, or every case is decided."""
        rules = self.policy.certification
        slugs = sorted(self.templates)
        self.rng.shuffle(slugs)
        found: list[dict[str, Any]] = []
        for slug in slugs:
            if t >= self.now:
                return t, False
            found.append(self.decide(uid, slug, "assessment", True, t, skill))
            if self.rng.random() < 0.15:  # practice on the same case a day later
                self.decide(uid, slug, "practice", False, t + DAY, skill)
            t += self.rng.uniform(0.1, 3) * DAY
            best = sorted(found, key=lambda c: c["score"], reverse=True)
            if rules.case_average == "best":
                best = best[: rules.cases_required]
            if len(best) >= rules.cases_required and sum(
                c["score"] for c in best
            ) >= rules.case_average_min * len(best):
                evidence["cases"] = best
                return t, True
        return t, False

    def certify(self, uid: int, t: datetime, evidence: dict[str, Any]) -> None:
        """The earned certificate, then renewals for as long as the learner keeps renewing."""
        rng, rules = self.rng, self.policy.certification
        base = {
            **evidence,
            "exemptions": [],
            "content_version": self.catalogue.version,
            "rules": {
                "cases_required": rules.cases_required,
                "case_average_min": rules.case_average_min,
            },
        }
        renews, skill, hr = rng.random() < 0.75, rng.uniform(0.75, 0.98), self.staff["hr"][0]
        cycle, kind, data = 1, "earned", base
        while t < self.now:
            expires = add_months(t, rules.validity_months)
            code = CODE_PREFIX + "".join(
                ("-" if i % 4 == 0 else "") + rng.choice(CODE_ALPHABET) for i in range(16)
            )
            revoked = t + rng.uniform(10, 200) * DAY if rng.random() < 0.01 else None
            revoked = revoked if revoked and revoked < self.now else None
            self.add(
                Certificate,
                uid,
                cycle,
                code,
                kind,
                t,
                expires,
                "",
                _json(data),
                revoked,
                hr if revoked else None,
                "離職後查核發現冒名受訓" if revoked else "",
            )
            after = _json({"user_id": uid, "cycle": cycle, "expires_at": expires.isoformat()})
            self.add(
                AuditEvent, t, None, f"certificate.{kind}", "certificate", code, None, after, ""
            )
            if revoked:
                self.add(
                    AuditEvent,
                    revoked,
                    hr,
                    "certificate.revoke",
                    "certificate",
                    code,
                    _json({"state": "issued"}),
                    _json({"state": "revoked"}),
                    "離職後查核發現冒名受訓",
                )
                return
            t = expires - rules.renewal_window_days * DAY + rng.uniform(0, 80) * DAY
            if not renews or t >= self.now:
                return
            t, passed = self.quiz(uid, "renewal", "renewal", t, skill, {})
            if not passed:
                return
            renewal = []
            for slug in rng.sample(sorted(self.templates), rules.renewal.cases):
                renewal.append(self.decide(uid, slug, "renewal", False, t, skill))
                t += rng.uniform(0.1, 2) * DAY
            for case in renewal:
                case.pop("case_revision_id")
            cycle, kind, data = cycle + 1, "renewal", {**base, "renewal": {"cases": renewal}}

    def remind(self, uid: int, number: int, state: str) -> None:
        """HR's reminders, to about half of those not certified."""
        if state != "certified" and self.rng.random() < 0.5:
            for k in range(self.rng.randrange(1, 4)):
                self.add(
                    Reminder,
                    uid,
                    self.now - (3 + 9 * k) * DAY,
                    self.staff["hr"][0],
                    "overdue",
                    f"officer{number:05d}@bank.example",
                    "sent",
                    "",
                )


def seed_load(
    session: Session,
    catalogue: Catalogue,
    policy: Policy,
    learners: int,
    *,
    password_hash: str,
    now: datetime | None = None,
    seed: int = 2024,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """Add ``learners`` trainees with up to three years of activity, and staff around them.

    Every account gets ``password_hash``. Returns the rows added per table and a few
    accounts worth signing in as (one per role, and trainees at different stages).
    """
    if not catalogue.modules or not catalogue.quizzes or not catalogue.cases:
        raise ValueError("import the course first: modules, question banks and cases are needed")
    loader = _Loader(
        session, catalogue, policy, (now or utcnow()).astimezone(UTC), seed, password_hash
    )
    report = SeedReport(learners, accounts=loader.staff_and_cohorts())
    loader.prepare()
    shown: dict[str, int] = {}
    counts, loader.counts = loader.counts, {}  # the staff's; the chunks count their own
    bind = session.get_bind()
    # Secondary indexes are built once from the loaded rows instead of kept up to date row
    # by row; unique keys and foreign keys stay, so a refused row still fails its chunk.
    postgres_engine = loader.postgres and isinstance(bind, Engine)
    dropped = _drop_secondary_indexes(session) if postgres_engine else []
    loaded = False
    try:
        if postgres_engine and _can_fork():
            parts = _generate_in_processes(loader, bind, learners, progress)
        else:
            parts = _generate_here(loader, learners, progress)
        loaded = True
    finally:
        try:
            _unstage(session, list(loader.shared.values()))
        finally:
            if postgres_engine:  # and the loaded tables' statistics, if they were loaded
                _build_indexes(bind, dropped, analyze=loaded)
    for part_shown, part_counts in parts:
        for state, number in part_shown.items():
            shown[state] = min(number, shown.get(state, number))
        for table, count in part_counts.items():
            counts[table] = counts.get(table, 0) + count
    report.accounts += [
        (f"trainee ({state})", f"officer{number:05d}") for state, number in sorted(shown.items())
    ]
    tables = [model.__tablename__ for model in COLUMNS]
    report.rows = {table: counts[table] for table in tables if table in counts}
    backfill_first_activity(session)
    session.commit()
    if postgres_engine:  # the loaded tables were analysed with their indexes
        _analyze(session, User, Cohort)
    else:
        _analyze(session)
    # The HR summary, counted once from the loaded rows (the COPY bypassed the session).
    if loader.postgres:
        # Its counts hash every activity row: memory enough for the hashes, for this
        # transaction only; and a superuser's rebuild leaves out the per-row foreign-key
        # triggers (its accounts are the users table's own rows).
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        if loader.batch_checks:
            session.execute(text("SET LOCAL session_replication_role = replica"))
    summary.rebuild(session, summary.SummaryKeys.of(course_keys(catalogue, policy)))
    session.commit()
    _analyze(session, LearnerSummary, LearnerModuleSummary)  # the rest was analysed above
    if session.get_bind().dialect.name == "postgresql":  # sequences continue after our ids
        for model in (User, QuizAttempt, CaseDecision):
            table = model.__tablename__
            sequence = f"pg_get_serial_sequence('{table}', 'id')"
            top = f"(SELECT MAX(id) FROM {table})"  # noqa: S608 - our own table names
            session.execute(text(f"SELECT setval({sequence}, {top})"))
        session.commit()
    return report


Part = tuple[dict[str, int], dict[str, int]]  # stages reached (first number), rows per table


def _generate_here(
    loader: _Loader, learners: int, progress: Callable[[int], None] | None
) -> list[Part]:
    """Generate and write every chunk in this process, one after the other."""
    parts: list[Part] = []
    for index in range((learners + CHUNK - 1) // CHUNK):
        parts.append((loader.chunk(index, learners), {}))
        if progress:
            progress(min(learners, (index + 1) * CHUNK) - index * CHUNK)
    parts.append(({}, loader.counts))
    return parts


def _can_fork() -> bool:
    """Whether this system forks processes (not Windows): else one process makes every
    chunk, as on SQLite."""
    return "fork" in multiprocessing.get_all_start_methods()


def _generate_in_processes(
    loader: _Loader, bind: Engine, learners: int, progress: Callable[[int], None] | None
) -> list[Part]:
    """Generate and write the chunks in ``WRITERS`` forked processes, chunk k in process
    k % WRITERS, each writing through its own connection (PostgreSQL) while it generates
    the next; returns what each chunk and process reported. A process that fails stops the
    others at their next chunk, and its error is raised here once all have stopped (the
    chunks committed before stay, as on one process)."""
    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    stop = context.Event()
    processes = [
        context.Process(
            target=_generate_part,
            args=(loader, bind, part, learners, messages, stop),
            name=f"seed-{part}",
            daemon=True,
        )
        for part in range(WRITERS)
    ]
    for process in processes:
        process.start()
    parts: list[Part] = []
    error: BaseException | None = None
    running = len(processes)
    try:
        while running:
            try:
                kind, value = messages.get(timeout=1)
            except queue.Empty:
                if any(p.exitcode not in (None, 0) for p in processes):
                    error = error or RuntimeError("a seeding process ended without a word")
                    break
                continue
            if kind == "chunk":
                done, shown = value
                parts.append((shown, {}))
                if progress:
                    progress(done)
            elif kind == "done":
                parts.append(({}, value))
                running -= 1
            else:
                error, running = error or value, running - 1
                stop.set()
    finally:
        stop.set()
        for process in processes:
            process.join()
    if error is not None:
        raise error
    return parts


def _generate_part(
    loader: _Loader,
    bind: Engine,
    part: int,
    learners: int,
    messages: Any,
    stop: Any,
) -> None:
    """One seeding process: its chunks, written on a thread through its own connection."""
    try:
        bind.dispose(close=False)  # the parent's pooled connections stay the parent's
        chunks = range(part, (learners + CHUNK - 1) // CHUNK, WRITERS)
        with bind.connect() as connection:
            writer = _Writers(
                loader._write,
                [Session(connection)],
                lambda s: _unstage(s, list(loader.shared.values())),
            )
            loader.write = writer
            try:
                for index in chunks:
                    if stop.is_set():
                        break
                    shown = loader.chunk(index, learners)
                    done = min(learners, (index + 1) * CHUNK) - index * CHUNK
                    messages.put(("chunk", (done, shown)))
            finally:
                writer.close()
        messages.put(("done", loader.counts))
    except BaseException as error:  # noqa: BLE001 - raised again in the parent
        try:
            pickle.dumps(error)
        except Exception:  # noqa: BLE001 - the error's text is what is left to tell
            error = RuntimeError(repr(error))
        messages.put(("error", error))


def _drop_secondary_indexes(session: Session) -> list[str]:
    """Drop the loaded tables' indexes that neither enforce a unique key nor back a
    constraint (PostgreSQL), committed; returns their definitions to build again.

    The served questions keep theirs: building them sorts 8.5 million keys at 100,000
    learners, 25 s of one core for the two, where keeping them up to date cost about 8 s
    spread over the load (measured when the rows still carried their JSON, 12.6 GB of table
    to read for a build; not measured again since).
    """
    tables = [model.__tablename__ for model in COLUMNS if model is not AttemptQuestion]
    found = session.execute(
        text(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
            " FROM pg_index i WHERE i.indrelid = ANY(CAST(:tables AS regclass[]))"
            " AND NOT i.indisunique AND NOT i.indisprimary AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
            " ORDER BY 1"
        ),
        {"tables": tables},
    ).all()
    for name, _definition in found:
        session.execute(text(f"DROP INDEX {name}"))
    session.commit()
    return [definition for _name, definition in found]


def _build_indexes(bind: Any, definitions: list[str], analyze: bool) -> None:
    """Build ``definitions`` on ``WRITERS`` connections side by side (the largest tables'
    first: the two indexes of the served questions are built at once, their scans of the
    table shared), each committed as it is built, with a larger sort memory for these
    sessions only; then, if ``analyze``, take the loaded tables' planner statistics."""
    tables = [model.__tablename__ for model in COLUMNS]
    with bind.connect() as connection:
        sizes = dict(
            connection.execute(
                text(
                    "SELECT relname, pg_relation_size(oid) FROM pg_class"
                    " WHERE oid = ANY(CAST(:tables AS regclass[]))"
                ),
                {"tables": tables},
            ).all()
        )

    def size(statement: str) -> int:
        return sizes.get(statement.split(" ON ")[1].split()[0].removeprefix("public."), 0)

    pending = queue.SimpleQueue[str]()
    for statement in sorted(definitions, key=size, reverse=True):
        pending.put(statement)
    for table in sorted(tables, key=lambda t: sizes.get(t, 0), reverse=True) if analyze else []:
        pending.put(f"ANALYZE {table}")  # waits for the table's index builds, if any
    errors: list[BaseException] = []

    def build() -> None:
        try:
            with bind.connect() as connection:
                # two builders already keep both cores busy: no parallel workers besides
                connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
                connection.exec_driver_sql("SET max_parallel_maintenance_workers = 0")
                while True:
                    try:
                        statement = pending.get_nowait()
                    except queue.Empty:
                        return
                    connection.exec_driver_sql(statement)
                    connection.commit()
        except BaseException as error:  # noqa: BLE001 - raised again below
            errors.append(error)

    builders = [threading.Thread(target=build, name="seed-index") for _ in range(WRITERS)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join()
    if errors:
        raise errors[0]


def _analyze(session: Session, *models: Any) -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL's autovacuum would get there in
    time; SQLite keeps none until asked), so the first reports are planned on real sizes:
    of ``models``' tables, or of every table."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA analysis_limit=1000"))
    if not models:
        session.execute(text("ANALYZE"))
    for model in models:
        session.execute(text(f"ANALYZE {model.__tablename__}"))
    session.commit()
