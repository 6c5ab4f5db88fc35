"""Accounts as a domain service: password rules, hashing, sign-in, new accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.accounts.users import (
    AccountError,
    NewAccount,
    authenticate,
    change_password,
    create_user,
    password_problem,
)
from courseware.core.models import AuditEvent

GOOD = "a long quiet river bank"


@pytest.mark.parametrize(
    ("password", "username"),
    [
        ("short1!", ""),  # under 10 characters
        ("password123", ""),  # a common password
        ("meiling-rocks-2026", "meiling"),  # contains the user name
        ("aaaaabbbbbaaaaa", ""),  # too few different characters
        ("x" * 150 + "yzwv" * 20, ""),  # over 200 characters
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, username: str) -> None:
    assert password_problem(password, username) is not None


def test_a_long_plain_sentence_is_a_good_password() -> None:
    assert password_problem(GOOD, "meiling") is None


def test_a_new_account_stores_a_hash_signs_in_and_is_audited(db: Session) -> None:
    user = create_user(db, NewAccount("meiling", "林美玲", branch="台中"), GOOD, actor_id=None)
    db.commit()
    assert GOOD not in user.password_hash
    assert authenticate(db, "MeiLing", GOOD) is user  # user names ignore case
    assert authenticate(db, "meiling", GOOD + "x") is None
    assert authenticate(db, "nobody", GOOD) is None
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "account.create"))
    assert event is not None and event.after["username"] == "meiling"


def test_a_taken_name_or_unknown_role_is_an_error_on_its_field(db: Session) -> None:
    create_user(db, NewAccount("meiling", "林美玲"), GOOD)
    with pytest.raises(AccountError) as taken:
        create_user(db, NewAccount("MEILING", "Another"), GOOD)
    assert taken.value.field == "username"
    with pytest.raises(AccountError) as role:
        create_user(db, NewAccount("ahua", "阿華", role="owner"), GOOD)
    assert role.value.field == "role"


def test_a_disabled_account_cannot_sign_in(db: Session) -> None:
    user = create_user(db, NewAccount("ahua", "阿華"), GOOD)
    user.active = False
    db.commit()
    assert authenticate(db, "ahua", GOOD) is None


def test_changing_a_password_needs_the_current_one_and_a_new_one(db: Session) -> None:
    user = create_user(db, NewAccount("ahua", "阿華"), GOOD)
    with pytest.raises(AccountError) as wrong:
        change_password(db, user, "not the password at all", "another long sentence here")
    assert wrong.value.field == "current_password"
    with pytest.raises(AccountError) as same:
        change_password(db, user, GOOD, GOOD)
    assert same.value.field == "new_password"
    change_password(db, user, GOOD, "another long sentence here")
    assert authenticate(db, "ahua", "another long sentence here") is user
