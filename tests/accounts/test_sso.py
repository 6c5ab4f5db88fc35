"""Single sign-on's account rules (accounts.sso), without a provider: which account the
verified claims sign in, with which role, and who is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.accounts.sso import SsoRefused, SsoRules, mapped_role, sign_in
from courseware.core.models import AuditEvent, ExternalIdentity, LearnerContact, User
from tests.concurrency import in_threads
from tests.conftest import make_user

ISSUER = "https://idp.bank.example"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
RULES = SsoRules(roles={"trainers": "trainer", "hr-team": "hr", "admins": "admin"})


def claims(sub: str = "u-1", **extra: object) -> dict[str, object]:
    return {"sub": sub, "email": f"{sub}@bank.example", "name": "王小明", **extra}


def _count(db: Session, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def _actions(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_highest_mapped_role_wins_and_unmapped_values_are_ignored():
    assert mapped_role(RULES, ["staff", "trainers", "admins"]) == "admin"
    assert mapped_role(RULES, ["staff"]) is None


def test_settings_refuse_a_role_we_do_not_have():
    with pytest.raises(ValidationError):
        SsoRules(roles={"bosses": "owner"})
    with pytest.raises(ValidationError):
        SsoRules(default_role="owner")


def test_a_new_person_gets_an_account_with_the_mapped_role(db: Session):
    result = sign_in(db, RULES, ISSUER, claims(roles=["trainers"]), "roles", NOW)
    db.commit()
    assert result.created and result.user.role == "trainer"
    assert result.user.username == "u-1" and result.user.display_name == "王小明"
    assert db.get(LearnerContact, result.user.id).email == "u-1@bank.example"
    assert "account.sso_create" in _actions(db)


def test_a_new_person_without_a_mapped_value_gets_the_default_role(db: Session):
    result = sign_in(db, RULES, ISSUER, claims(roles=["staff"]), "roles", NOW)
    assert result.user.role == "trainee"


def test_the_linked_identity_wins_over_a_changed_email(db: Session):
    first = sign_in(db, RULES, ISSUER, claims(), "roles", NOW).user
    db.commit()
    again = sign_in(db, RULES, ISSUER, claims(email="new@bank.example"), "roles", NOW)
    assert again.user.id == first.id and not again.created and not again.linked
    assert _count(db, User) == 1


def test_an_unverified_email_matches_nobody(db: Session):
    mine = make_user(db, "wang")
    db.add(LearnerContact(user_id=mine.id, email="u-1@bank.example"))
    db.commit()
    result = sign_in(db, RULES, ISSUER, claims(email_verified=False), "roles", NOW)
    assert result.user.id != mine.id and result.created


def test_an_address_two_accounts_share_matches_neither(db: Session):
    for name in ("wang", "wang2"):
        user = make_user(db, name)
        db.add(LearnerContact(user_id=user.id, email="u-1@bank.example"))
    db.commit()
    result = sign_in(db, RULES, ISSUER, claims(), "roles", NOW)
    assert result.created


def test_matching_by_user_name(db: Session):
    mine = make_user(db, "wang.xm")
    rules = SsoRules(match_claim="preferred_username", match_field="username")
    result = sign_in(db, rules, ISSUER, claims(preferred_username="Wang.XM"), "roles", NOW)
    assert result.user.id == mine.id and result.linked and not result.created


def test_without_account_creation_an_unknown_person_is_refused_and_audited(db: Session):
    rules = SsoRules(create_accounts=False)
    with pytest.raises(SsoRefused) as refused:
        sign_in(db, rules, ISSUER, claims(), "roles", NOW)
    assert refused.value.reason == "no_account"
    assert _count(db, User) == 0 and _count(db, ExternalIdentity) == 0
    assert _actions(db) == ["account.sso_refused"]


def test_a_disabled_account_is_refused(db: Session):
    sign_in(db, RULES, ISSUER, claims(), "roles", NOW).user.active = False
    db.commit()
    with pytest.raises(SsoRefused) as refused:
        sign_in(db, RULES, ISSUER, claims(), "roles", NOW)
    assert refused.value.reason == "disabled"


def test_the_provider_sets_the_role_at_every_sign_in(db: Session):
    user = sign_in(db, RULES, ISSUER, claims(roles=["admins"]), "roles", NOW).user
    db.commit()
    version = user.session_version
    sign_in(db, RULES, ISSUER, claims(roles=["staff"]), "roles", NOW)
    assert user.role == "trainee"  # no longer in a mapped group: the default role
    assert user.session_version == version + 1  # sessions with the old role end
    assert "account.sso_role" in _actions(db)


def test_without_the_role_claim_or_without_sync_the_role_stays(db: Session):
    user = sign_in(db, RULES, ISSUER, claims(roles=["hr-team"]), "roles", NOW).user
    sign_in(db, RULES, ISSUER, claims(), "roles", NOW)  # the claim is absent
    assert user.role == "hr"
    kept = SsoRules(roles=RULES.roles, sync_roles=False)
    sign_in(db, kept, ISSUER, claims(roles=["trainers"]), "roles", NOW)
    assert user.role == "hr"


def test_a_name_taken_here_gets_a_suffix(db: Session):
    make_user(db, "u-1")
    result = sign_in(db, SsoRules(match_field="employee_id"), ISSUER, claims(), "roles", NOW)
    assert result.user.username == "u-1-2"


def test_one_person_signing_in_twice_at_once_gets_one_account(app, db: Session):
    """Two first sign-ins of one person at the same moment (two tabs, a double click on
    the provider's button): one account, one link, no error."""
    sessions = app.extensions["courseware.core.db"].sessions

    def first_sign_in() -> int:
        with sessions() as session:
            result = sign_in(session, RULES, ISSUER, claims("twin"), "roles", NOW)
            session.commit()
            return result.user.id

    ids = in_threads(8, first_sign_in)
    assert len(set(ids)) == 1
    assert _count(db, ExternalIdentity) == 1
    assert db.scalar(select(func.count()).select_from(User).where(User.username == "twin")) == 1
