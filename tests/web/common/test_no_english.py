"""Every page in zh-Hant, as every role, reads in Chinese.

Each role signs in (zh-Hant is the default locale) and opens every GET page of the URL map
it may reach, with URL parameters filled from objects arranged here: a lesson, a module, a
quiz attempt and its review, a decided case, a certificate, a learner, a cohort, studio
documents, questions and cases, a pending revision, a problem report. The visible text of
each page (and the title, aria-label, placeholder and alt attributes, and the labels of
buttons) may hold no English word outside ``ALLOWED``. Course text may follow a Chinese term
with its English name in parentheses: 微貸 (microloan), 微貸（microloan）.

A GET rule no role reaches fails the test unless ``NOT_VISITED`` gives the reason, so a new
page cannot ship without being read here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware import certification
from courseware.accounts import password_reset
from courseware.assessment.attempts import questions_of
from courseware.certification.policy import LoadedPolicy, StudioRules
from courseware.content.catalogue import build_catalogue
from courseware.content.store import import_sources, published_sources, read_sources
from courseware.core import clock
from courseware.core.config import REPO_ROOT
from courseware.core.models import ContentDocument, ContentRevision, LearnerContact, QuizAttempt
from courseware.hr.cohorts import assign, create_cohort
from tests.assessment.helpers import fields_for, right_answer, wrong_answer
from tests.certification.test_certification import POLICY, decide, finish_lessons, pass_quiz
from tests.conftest import login, make_user, post
from tests.studio.helpers import doc_id, editor_form, hidden

# Product and format names, units and the language switcher's own name: words a Chinese
# interface also writes in Latin letters. Keep this short; translate anything else.
ALLOWED = {
    "pdf",  # file formats and encodings
    "csv",
    "xlsx",
    "utf-8",
    "big5",
    "markdown",  # the lessons' file format, named in the studio
    "yaml",  # the question banks' and cases' file format, named in the studio
    "excel",  # product name (saving a CSV from it)
    "line",  # products people in Taiwan name in Latin letters: LINE (Pay), Instagram, ...
    "pay",
    "instagram",
    "facebook",
    "app",
    "pos",
    "email",  # as written in Taiwan
    "english",  # the language switcher names each language in itself
    "par",  # portfolio at risk, and PAR30
    "par30",
    "qr",  # QR code on the certificate
    "mb",  # unit
}
# Loanwords Chinese writes with Latin letters.
LOANWORDS_RE = re.compile(r"卡拉\s*OK")
URL_RE = re.compile(r"https?://\S+")
# A course file's path (content/01-basics/02-terms.md) names a file, like a URL: not prose.
PATH_RE = re.compile(r"\b[\w-]+(?:/[\w.-]+)+\.(?:md|yaml)\b")

# Each role is signed in under a neutral user name (one letter and a digit, not counted as a
# word), so that user names shown on pages are not mistaken for English words.
ROLES = {
    "anonymous": None,
    "trainee": "p1",
    "trainer": "p2",
    "manager": "p3",
    "hr": "p4",
    "admin": "p5",
}
NAMES = {
    "trainee": "林小美",
    "trainer": "陳老師",
    "manager": "王經理",
    "hr": "張人資",
    "admin": "李管理",
}

# GET rules read by no role here, each with the reason.
NOT_VISITED = {
    "static": "files (CSS, JavaScript, fonts), not pages",
    "main.healthz": "JSON for the load balancer",
    "auth.my_data": "a JSON download of the user's own data",
    "certificates.pdf": "a PDF file",
    "author.guide_pdf": "a PDF file",
    "transcript.export_mine": "a CSV or XLSX file",
    "transcript.export_learner": "a CSV or XLSX file",
    "hr.export_learners": "a CSV or XLSX file",
    "hr_audit.export": "a CSV file",
    "studio.diff": "a partial answer to the editor's script (a diff fragment), read with the editor",
    "notices.feed": "an iCalendar file for the learner's calendar application",
    "credentials.credential": "a JSON-LD verifiable credential (Open Badges 3.0)",
    "credentials.status_list": "a JSON-LD status list credential, for verifiers",
    "credentials.did_document": "the issuer's DID document (JSON), for verifiers",
    "sso.start": "a redirect to the institution's sign-in service, 404 without one; its "
    "refusal page is read in tests/web/common/test_sso.py",
    "sso.callback": "the provider's redirect back; its refusal pages are read in "
    "tests/web/common/test_sso.py and tests/interop/oidc",
    "offline.package": "JSON for the offline page's script (the package list)",
    "offline.manifest": "the installable app's JSON manifest (its name is translated)",
    "offline.service_worker": "the service worker's JavaScript",
}

WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*[A-Za-z0-9]")
# A Chinese term followed by its English name in parentheses: 微貸 (microloan), 微貸（Micro Loan）.
# One level of parentheses may nest inside: 配合收成還款（harvest-aligned (balloon) schedule）.
GLOSS_RE = re.compile(
    r"(?<=[\u3400-\u9fff」』])\s*[(（][A-Za-z][A-Za-z0-9 '’&/.,-]*"
    r"(?:\([A-Za-z0-9 '’&/.,-]*\)[A-Za-z0-9 '’&/.,-]*)?[)）]"
)
# A certificate's code (MLA-7KQ2-...) and its placeholder (MLA-XXXX-...) are codes, not words.
CODE_RE = re.compile(r"\b[A-Z]{3}(?:-[A-Z0-9]{4}){4}\b")
# Not prose: scripts, a file's text being edited, code and sample files (identifiers, paths,
# setting names, a CSV's lines).
SKIPPED_TAGS = {"script", "style", "textarea", "code", "pre", "template"}
VOID_TAGS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "wbr",
}
ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")


class _Text(HTMLParser):
    """The text a reader sees or hears: character data and the labelling attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipped = 0  # depth inside an element whose text is not read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if self._skipped:  # inside a skipped element: only its nesting counts
            self._skipped += tag not in VOID_TAGS
            return
        for name in ATTRIBUTES:
            if found.get(name):
                self.parts.append(found[name] or "")
        kind = (found.get("type") or "").lower()
        if tag == "input" and kind in {"submit", "button", "reset"} and found.get("value"):
            self.parts.append(found["value"] or "")
        # English on purpose, marked so that a screen reader reads it in English: the
        # glossary's English column, the certificate's bilingual captions.
        english = (found.get("lang") or "").startswith("en")
        if (tag in SKIPPED_TAGS or english) and tag not in VOID_TAGS:
            self._skipped = 1

    def handle_endtag(self, tag: str) -> None:
        if self._skipped and tag not in VOID_TAGS:
            self._skipped -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipped:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    parser.close()
    return "\n".join(part.strip() for part in parser.parts if part.strip())


def english_words(text: str) -> list[str]:
    """The English words of ``text`` outside the allowlist and the parenthesised glosses."""
    for pattern in (URL_RE, PATH_RE, CODE_RE, GLOSS_RE, LOANWORDS_RE):
        text = pattern.sub("", text)
    return [
        word
        for word in WORD_RE.findall(text)
        if word.lower() not in ALLOWED and sum(c.isalpha() for c in word) > 1
    ]


def test_english_words_are_found_and_glosses_allowed():
    page = (
        "<title>首頁</title><p>微貸 (microloan) 與 擔保（collateral）</p>"
        '<button aria-label="Close">×</button><input type="submit" value="Save">'
        "<script>var x = 'hidden';</script><p>下載 PDF</p><p>Try other terms</p>"
    )
    assert english_words(visible_text(page)) == ["Close", "Save", "Try", "other", "terms"]


# ---------------------------------------------------------------- the world the pages show


def _signed_in(app: Flask, role: str) -> FlaskClient:
    client = app.test_client()
    if ROLES[role]:
        assert login(client, ROLES[role]).status_code == 302
    return client


def _trainee_work(client: FlaskClient, db: Session) -> dict[str, object]:
    """A lesson done, a failed and a passed review, an open attempt, a decided case."""
    post(client, "/modules/alpha/first/done", token_from="/modules/alpha/first")
    ids: dict[str, object] = {}
    for answer, name in ((wrong_answer, "failed"), (right_answer, "review")):
        clock.set_time(clock.utcnow() + timedelta(days=2))  # past the retake's wait
        started = post(client, "/quiz/alpha/start", token_from="/quiz/alpha")
        attempt_id = int(started.location.rsplit("/", 1)[1])
        db.rollback()
        attempt = db.get(QuizAttempt, attempt_id)
        form = {"token": attempt.token}
        for question in questions_of(db, attempt.id):
            form.update(fields_for(question, answer(question)))
        path = f"/quiz/alpha/attempts/{attempt.id}/submit"
        assert post(client, path, form).status_code == 303
        ids[name] = attempt_id
    started = post(client, "/quiz/beta/start", token_from="/quiz/beta")
    ids["attempt"] = int(started.location.rsplit("/", 1)[1])
    page = client.get("/cases/grocery-kiosk").get_data(as_text=True)
    found = {
        name: re.search(rf'name="{name}" value="([^"]*)"', page).group(1)
        for name in ("token", "seed", "revision")
    }
    decided = post(
        client, "/cases/grocery-kiosk/decide", {**found, "option": "approve-as-requested"}
    )
    assert decided.status_code == 303, decided.get_data(as_text=True)[:300]
    ids["decision"] = int(decided.location.rsplit("/", 1)[1])
    return ids


@pytest.fixture
def world(app: Flask, db: Session, course: None) -> Iterator[dict[str, object]]:
    people = {
        role: make_user(
            db, username, role=role, display_name=NAMES[role], employee_id=f"{index:05}"
        )
        for index, (role, username) in enumerate(ROLES.items())
        if username
    }
    trainee = people["trainee"]
    ids = _trainee_work(_signed_in(app, "trainee"), db)
    db.rollback()  # see what the requests wrote
    catalogue = build_catalogue(*published_sources(db))
    finish_lessons(db, trainee, catalogue)
    for slug in catalogue.quizzes:
        pass_quiz(db, trainee, slug)
    for slug in ("bar-owner", "restructure-illness"):
        decision = decide(db, trainee, slug, 80)
        decision.option_id = catalogue.cases[slug].spec.options[0].id  # one the case offers
    db.commit()
    # The case decided through the page scores what its random scenario gives: average the
    # best two, so the certificate does not depend on it.
    policy = POLICY.model_copy(
        update={"certification": POLICY.certification.model_copy(update={"case_average": "best"})}
    )
    cert = certification.check_and_issue(db, trainee.id, catalogue, policy)
    cohort = create_cohort(db, "二〇二六春季班", "台北分行", date(2027, 6, 30), people["hr"].id)
    assign(db, cohort, [trainee], people["hr"].id)
    db.commit()
    standing = certification.learner_standing(db, trainee.id, catalogue, policy)
    assert cert is not None, [(r.key, r.met) for r in standing.requirements]
    learner = _signed_in(app, "trainee")
    lesson = learner.get("/modules/alpha/first").get_data(as_text=True)
    form = lesson.split('class="report-problem"', 1)[1]
    fields = {name: hidden(form, name) for name in ("csrf_token", "revision", "attempt", "page")}
    sent = learner.post("/report-problem", data={**fields, "note": "第二段的利率算錯了"})
    assert sent.status_code == 302
    # A lesson edit waiting for review (review on for module alpha), for the review page.
    app.extensions["courseware.certification.policy"] = LoadedPolicy(
        policy.model_copy(update={"studio": StudioRules(review_required=["alpha"])}), []
    )
    author = _signed_in(app, "trainer")
    lesson_id = doc_id(db, "content/01-alpha/01-first.md")
    form = editor_form(author, lesson_id)
    form["text"] = form["text"].replace("微貸很小", "微貸金額小")
    author.post(f"/author/content/{lesson_id}", data={**form, "action": "publish"})
    db.rollback()
    pending = db.scalar(select(ContentRevision.id).where(ContentRevision.status == "pending"))
    assert pending is not None
    documents = {
        path: doc_id
        for path, doc_id in db.execute(select(ContentDocument.path, ContentDocument.id))
    }
    # The glossary file's own English column, as its editor previews the Markdown table.
    glossary_words = {
        word.lower() for term in catalogue.glossary.terms for word in WORD_RE.findall(term.english)
    }
    # Mail configured: the sign-in page offers a password reset, and a link to one exists.
    app.config["SMTP_URL"] = "smtp://localhost:1"
    db.add(LearnerContact(user_id=trainee.id, email="p1@bank.example", updated_at=clock.utcnow()))
    reset = password_reset.request_reset(db, "p1", 60)
    assert reset is not None
    db.commit()
    ids.update(
        reset_token=reset.token,
        learner=trainee.id,
        certificate=cert.code,
        cohort=cohort.id,
        documents=documents,
        glossary_editor=f"/author/content/{documents['content/glossary.md']}",
        glossary_words=glossary_words,
        pending=pending,
    )
    yield ids


def _urls(app: Flask, world: dict[str, object]) -> dict[str, list[str]]:
    """Every GET rule's URLs to read, filled from the arranged objects."""
    documents: dict[str, int] = world["documents"]  # type: ignore[assignment]
    bank = documents["quizzes/alpha.yaml"]
    cases = ["grocery-kiosk", "bar-owner", "kiosk-visits", "lane-book", "restructure-illness"]
    lessons = [("alpha", "first"), ("alpha", "second"), ("beta", "only")]
    code = world["certificate"]
    return {
        "learn.dashboard": ["/"],
        "auth.login": ["/login"],
        "auth.forgot_password": ["/login/forgot"],
        "auth.reset_password": [f"/login/reset/{world['reset_token']}"],
        "notices.index": ["/notices"],
        "learn.course": ["/course"],
        "hr.cohort_completion": ["/hr/completion/cohorts"],
        "author_cases.figures": [f"/author/cases/{slug}/figures" for slug in cases],
        "auth.account": ["/account"],
        "learn.module": ["/modules/alpha", "/modules/beta"],
        "learn.lesson": [f"/modules/{m}/{lesson}" for m, lesson in lessons],
        "learn.glossary": ["/glossary"],
        "offline.index": ["/offline"],
        "offline.online_only": ["/offline/online-only"],
        "learn.search": ["/search", "/search?q=微貸", "/search?q=貸款", "/search?q=沒有這個詞"],
        "quiz.overview": ["/quiz/alpha", "/quiz/beta"],
        "quiz.attempt": [f"/quiz/beta/attempts/{world['attempt']}"],
        "quiz.review": [
            f"/quiz/alpha/attempts/{world['failed']}/review",
            f"/quiz/alpha/attempts/{world['review']}/review",
        ],
        "cases.index": ["/cases"],
        "cases.case": [f"/cases/{slug}" for slug in cases],
        "cases.outcome": [f"/cases/grocery-kiosk/decisions/{world['decision']}"],
        "cases.portfolio": ["/cases/portfolio"],
        "certificates.mine": ["/certificate"],
        "certificates.show": [f"/certificate/{code}"],
        "certificates.verify_form": ["/verify"],
        "certificates.verify": [f"/verify/{code}", "/verify/NO-SUCH-CODE"],
        "transcript.mine": ["/transcript"],
        "author.index": ["/author"],
        "author.quiz": ["/author/quizzes/alpha", "/author/quizzes/beta"],
        "author.guides": ["/author/guides"],
        "author.guide": ["/author/guides/alpha"],
        "author_cases.index": ["/author/cases"],
        "author_cases.case": [f"/author/cases/{slug}" for slug in cases],
        "author_cases.calibration": [f"/author/cases/{slug}/calibration" for slug in cases],
        "studio.documents": ["/author/content"],
        "studio.editor": [f"/author/content/{doc}" for doc in documents.values()],
        "studio.history": [f"/author/content/{documents['content/01-alpha/01-first.md']}/history"],
        "studio_new.lesson": ["/author/content/new/lesson"],
        "studio_new.module": ["/author/content/new/module"],
        "studio_questions.bank": [f"/author/banks/{bank}"],
        "studio_questions.new": [f"/author/banks/{bank}/new"],
        "studio_questions.question": [
            f"/author/banks/{bank}/questions/{qid}" for qid in ("alpha-single", "alpha-retired")
        ],
        "studio_review.queue": ["/author/reviews"],
        "studio_review.revision": [f"/author/reviews/{world['pending']}"],
        "studio_reports.inbox": ["/author/reports"],
        "people.certification_page": [f"/people/{world['learner']}/certification"],
        "hr.dashboard": ["/hr"],
        "hr.learners": ["/hr/learners", "/hr/learners?status=overdue"],
        "hr_cohorts.index": ["/hr/cohorts"],
        "hr_cohorts.show": [f"/hr/cohorts/{world['cohort']}"],
        "hr_audit.index": ["/hr/audit"],
        "transcript.learner": [f"/hr/learners/{world['learner']}"],
        "admin.users": ["/admin/"],
        "admin.new_user": ["/admin/users/new"],
        "admin.edit_user": [f"/admin/users/{world['learner']}"],
        "admin_import.upload": ["/admin/import"],
    }


def _context(text: str, words: list[str]) -> str:
    """Where the first English words stand on the page, for the failure message."""
    shown = []
    for word in words[:3]:
        at = text.find(word)
        shown.append(text[max(0, at - 20) : at + len(word) + 20].replace("\n", " "))
    return " | ".join(shown)


def _get_rules(app: Flask) -> set[str]:
    return {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods}


def test_every_get_rule_is_read_or_excused(app: Flask):
    stub = defaultdict(lambda: 1, documents=defaultdict(lambda: 1))
    read = set(_urls(app, stub))
    rules = _get_rules(app)
    assert sorted(rules - read - set(NOT_VISITED)) == [], "GET pages neither read nor excused"
    assert sorted((read | set(NOT_VISITED)) - rules) == [], "listed pages that no longer exist"
    assert not read & set(NOT_VISITED)


def test_every_page_reads_in_chinese_for_every_role(app: Flask, db: Session, world):
    urls = _urls(app, world)
    reached: set[str] = set()
    problems: list[str] = []
    for role in ROLES:
        client = _signed_in(app, role)
        for endpoint, paths in urls.items():
            for path in paths:
                response = client.get(path)
                if response.status_code != 200:
                    continue
                reached.add(endpoint)
                text = visible_text(response.get_data(as_text=True))
                words = list(dict.fromkeys(english_words(text)))
                if path == world["glossary_editor"]:
                    words = [w for w in words if w.lower() not in world["glossary_words"]]
                if words:
                    problems.append(f"{role} {path}: {' '.join(words)}  [{_context(text, words)}]")
    assert not problems, "\n".join(problems)
    assert sorted(set(urls) - reached) == []


def test_the_shipped_course_reads_in_chinese(app: Flask, db: Session):
    """The course's own pages (lessons, glossary, cases, guides, question banks) as a
    trainer sees them: the real course, not the fixture one."""
    sources, errors = read_sources(
        {name: REPO_ROOT / name for name in ("content", "quizzes", "case_studies")}
    )
    assert not errors
    import_sources(db, sources)
    db.commit()
    make_user(db, "p2", role="trainer", display_name=NAMES["trainer"])
    catalogue = build_catalogue(*published_sources(db))
    client = _signed_in(app, "trainer")
    paths = ["/glossary", "/cases", "/search?q=還款", "/search?q=案例", "/author/guides"]
    for module in catalogue.modules:
        paths.append(f"/modules/{module.slug}")
        paths += [f"/modules/{module.slug}/{lesson.slug}" for lesson in module.lessons]
        paths += [f"/author/guides/{module.slug}", f"/author/quizzes/{module.slug}"]
    paths += [f"/cases/{slug}" for slug in catalogue.cases]
    problems = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = visible_text(response.get_data(as_text=True))
        if words := list(dict.fromkeys(english_words(text))):
            problems.append(f"{path}: {' '.join(words)}  [{_context(text, words)}]")
    assert problems == []
