"""A certificate's state (valid, expiring, expired, replaced, revoked) is named the same on
every page that shows it, and it may be revoked only while it is valid or expiring."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from courseware import certification
from courseware.core import clock
from courseware.core.models import Certificate
from tests.conftest import login, post

EN = {"Accept-Language": "en"}
LABELS = {
    "valid": "Valid",
    "expiring": "Expiring",
    "expired": "Expired",
    "replaced": "Replaced",
    "revoked": "Revoked",
}


def _into_state(db, certified, users, state: str) -> None:
    """Move the clock or the records so that the ``certified`` certificate is in ``state``."""
    if state == "expiring":
        clock.set_time(certified.expires_at - timedelta(days=30))
    elif state == "expired":
        clock.set_time(certified.expires_at + timedelta(days=1))
    elif state == "revoked":
        certification.revoke(db, certified, users["hr"].id, "Records found to be falsified")
    elif state == "replaced":
        db.add(
            Certificate(
                user_id=certified.user_id,
                cycle=certified.cycle + 1,
                code=certification.new_code(),
                kind="manual",
                issued_at=clock.utcnow(),
                expires_at=certified.expires_at + timedelta(days=365),
                reason="Issued again after a name change",
                evidence={},
            )
        )
    db.commit()


def _row(html: str, code: str) -> str:
    """The table row that shows the certificate ``code``."""
    found = re.search(
        r"<tr>(?:(?!</tr>).)*?" + re.escape(code) + r"(?:(?!</tr>).)*</tr>", html, re.S
    )
    assert found, f"no row for {code}"
    return found.group(0)


@pytest.mark.parametrize("state", list(LABELS))
def test_each_state_is_named_alike_on_every_page(app, client, db, certified, users, state):
    _into_state(db, certified, users, state)
    trainee = users["trainee"]
    assert (
        certification.certificate_states(
            list(db.scalars(select(Certificate).where(Certificate.user_id == trainee.id))),
            app.extensions["courseware.certification.policy"].policy,
            clock.utcnow(),
        )[certified.id]
        == state
    )
    badge = f'data-state="{state}"'

    # Public verification.
    html = client.get(f"/verify/{certified.code}", headers=EN).get_data(as_text=True)
    assert badge in html and LABELS[state] in html

    # HR's page on the learner's certification: the state, and a revoke form only where it
    # applies.
    login(client, "hr")
    html = client.get(f"/people/{trainee.id}/certification", headers=EN).get_data(as_text=True)
    row = _row(html, certified.code)
    assert badge in row and LABELS[state] in row
    assert "Not certified" not in row
    revoke_form = f"/people/{trainee.id}/certificates/{certified.id}/revoke"
    assert (revoke_form in html) == (state in ("valid", "expiring"))

    # HR's transcript and its export.
    html = client.get(f"/hr/learners/{trainee.id}", headers=EN).get_data(as_text=True)
    assert LABELS[state] in _row(html, certified.code)
    text = client.get(f"/hr/learners/{trainee.id}/export.csv", headers=EN).get_data(as_text=True)
    line = next(
        x for x in text.splitlines() if x.startswith("Certificate,") and certified.code in x
    )
    assert f",{LABELS[state]}," in line

    # The printable certificate, for HR and for the holder; the holder's own page.
    html = client.get(f"/certificate/{certified.code}", headers=EN).get_data(as_text=True)
    assert badge in html
    holder = app.test_client()
    login(holder, "trainee")
    html = holder.get(f"/certificate/{certified.code}", headers=EN).get_data(as_text=True)
    assert badge in html
    html = holder.get("/certificate", headers=EN).get_data(as_text=True)
    if state == "replaced":
        assert badge in _row(html, certified.code)
    else:
        assert badge in html.split('id="current-title"', 1)[1].split("</h2>", 1)[0]


@pytest.mark.parametrize("state", ["expired", "replaced", "revoked"])
def test_a_certificate_that_no_longer_counts_cannot_be_revoked(client, db, certified, users, state):
    _into_state(db, certified, users, state)
    login(client, "hr")
    page = f"/people/{users['trainee'].id}/certification"
    revoked_before = db.get(Certificate, certified.id).revoked_at
    response = post(
        client,
        f"/people/{users['trainee'].id}/certificates/{certified.id}/revoke",
        {"reason": "Trying to revoke it anyway"},
        token_from=page,
        headers=EN,
    )
    assert response.status_code == 400
    assert "Only a valid or expiring current certificate can be revoked." in response.get_data(
        as_text=True
    )
    db.expire_all()
    assert db.get(Certificate, certified.id).revoked_at == revoked_before
