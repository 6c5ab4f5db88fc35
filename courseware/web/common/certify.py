"""The step after a learner's work is recorded: certify if it earns a certificate."""

from __future__ import annotations

from flask import flash
from flask_babel import gettext as _

from courseware import certification
from courseware.core.models import Certificate
from courseware.web.common.database import catalogue, db_session
from courseware.web.common.policy import policy


def certify_if_earned(user_id: int) -> Certificate | None:
    """Issue the learner's certificate if their recorded work now earns it, commit, and
    tell them. Every view that records work toward certification ends with this, in the
    transaction that recorded the work: one commit holds both, so a crash between them
    cannot leave a learner whose work earns a certificate without it."""
    session = db_session()
    issued = certification.check_and_issue(session, user_id, catalogue(), policy())
    session.commit()
    if issued is not None:
        flash(_("Congratulations: your certificate is issued."), "success")
    return issued
