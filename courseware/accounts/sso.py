"""Single sign-on: the account an OpenID Connect provider's verified claims sign in.

The web layer (``web.common.sso``) runs the protocol (authlib: authorization code with
PKCE, state, nonce, the id token's signature, issuer, audience and expiry). What arrives
here is already verified; this module decides which account it is, whether it may sign in
and with which role:

1. an account already linked to (issuer, sub) in ``external_identities``;
2. else the account whose ``match_field`` (email, user name or employee number) equals the
   id token's ``match_claim``, which is then linked;
3. else, when ``create_accounts`` allows, a new account (no usable password).

A disabled account is refused. Roles come from the role claim through ``roles`` (settings.yaml
``sso:``): the highest role any of the claim's values maps to; with ``sync_roles`` the provider
is the authority and an account whose claim maps to nothing gets ``default_role``. Every sign-in,
link, creation, role change and refusal is written to the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from courseware.accounts.users import NewAccount, create_user
from courseware.core.audit import record
from courseware.core.config import ROLES
from courseware.core.db import begin_write
from courseware.core.errors import N_
from courseware.core.models import ExternalIdentity, LearnerContact, User


class SsoRules(BaseModel):
    """The ``sso:`` section of settings.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The id token claim that finds an existing account on a first sign-in ...
    match_claim: str = "email"
    # ... compared with this field of our accounts (email: the learner's contact address).
    match_field: Literal["email", "username", "employee_id"] = "email"
    # A person the provider knows but who has no account here gets one on first sign-in.
    create_accounts: bool = True
    # Values of the role claim (COURSEWARE_OIDC_ROLE_CLAIM) mapped to our roles.
    roles: dict[str, str] = {}
    # The role of a new account whose claim maps to nothing.
    default_role: str = "trainee"
    # The provider is the authority on roles: every sign-in sets the mapped role.
    sync_roles: bool = True

    @field_validator("roles")
    @classmethod
    def _known_roles(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted({role for role in value.values() if role not in ROLES})
        if unknown:
            raise ValueError(f"unknown roles {unknown}; use {list(ROLES)}")
        return value

    @field_validator("default_role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"unknown role {value!r}; use {list(ROLES)}")
        return value


class SsoRefused(Exception):
    """A verified person who may not sign in; ``message`` is a translatable sentence."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message


NO_ACCOUNT = N_(
    "Your institution account is not linked to an account here, and accounts are not "
    "created automatically. Ask your administrator to create one."
)
DISABLED = N_("Your account here is disabled. Ask your administrator if you need it again.")
NO_SUBJECT = N_("The sign-in service did not say who you are. Try again later.")


@dataclass(frozen=True)
class SsoResult:
    user: User
    created: bool
    linked: bool


def claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    """A claim as a list of strings: a list, a single string or absent (empty)."""
    value = claims.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def mapped_role(rules: SsoRules, values: list[str]) -> str | None:
    """The highest of our roles the claim's values map to, or None."""
    mapped = {rules.roles[v] for v in values if v in rules.roles}
    if not mapped:
        return None
    return max(mapped, key=ROLES.index)


def _match(session: Session, rules: SsoRules, claims: Mapping[str, Any]) -> User | None:
    values = claim_values(claims, rules.match_claim)
    if not values or not values[0].strip():
        return None
    value = values[0].strip().lower()
    if rules.match_field == "email":
        if claims.get("email_verified") is False:
            return None  # an address the provider has not checked proves nothing
        query = (
            select(User)
            .join(LearnerContact, LearnerContact.user_id == User.id)
            .where(func.lower(LearnerContact.email) == value)
        )
    elif rules.match_field == "username":
        query = select(User).where(func.lower(User.username) == value)
    else:
        query = select(User).where(func.lower(User.employee_id) == value)
    found = list(session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None  # two accounts with one address: neither


_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def _free_username(session: Session, claims: Mapping[str, Any], subject: str) -> str:
    candidates = [
        str(claims.get("preferred_username") or ""),
        str(claims.get("email") or "").split("@")[0],
        "sso-" + _NAME_CHARS.sub("", subject)[:20],
    ]
    base = next(
        (c for c in (_NAME_CHARS.sub("", x)[:56] for x in candidates) if len(c) >= 2), "sso-user"
    )
    name, n = base, 1
    while session.scalar(select(User.id).where(func.lower(User.username) == name.lower())):
        n += 1
        name = f"{base}-{n}"
    return name


def _create(
    session: Session, rules: SsoRules, issuer: str, claims: Mapping[str, Any], role: str | None
) -> User:
    subject = str(claims["sub"])
    username = _free_username(session, claims, subject)
    display = str(claims.get("name") or username).strip()[:100] or username
    data = NewAccount(username=username, display_name=display, role=role or rules.default_role)
    # No usable password: a random one nobody is told. The account signs in through SSO.
    user = create_user(session, data, secrets.token_urlsafe(32), check_password=False)
    email = str(claims.get("email") or "").strip()
    if email and claims.get("email_verified") is not False and len(email) <= 254:
        session.add(LearnerContact(user_id=user.id, email=email))
    record(session, user.id, "account.sso_create", "user", user.id, after={"issuer": issuer})
    return user


def sign_in(
    session: Session,
    rules: SsoRules,
    issuer: str,
    claims: Mapping[str, Any],
    role_claim: str,
    now: datetime,
) -> SsoResult:
    """The account these verified id token claims sign in; raises SsoRefused. The caller
    commits (also after a refusal, which is audited)."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise SsoRefused("no_subject", NO_SUBJECT)
    _one_at_a_time(session, issuer, subject)
    role = mapped_role(rules, claim_values(claims, role_claim))
    identity = session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject
        )
    )
    created = linked = False
    if identity is not None:
        user = session.get(User, identity.user_id)
        assert user is not None  # a foreign key
    else:
        matched = _match(session, rules, claims)
        if matched is None:
            if not rules.create_accounts:
                record(session, None, "account.sso_refused", "user", "", after=_who(issuer, claims))
                raise SsoRefused("no_account", NO_ACCOUNT)
            matched, created = _create(session, rules, issuer, claims, role), True
        user = matched
        identity = ExternalIdentity(issuer=issuer, subject=subject, user_id=user.id)
        session.add(identity)
        linked = True
        if not created:
            record(session, user.id, "account.sso_link", "user", user.id, after={"issuer": issuer})
    if not user.active:
        record(
            session, user.id, "account.sso_refused", "user", user.id, after={"reason": "disabled"}
        )
        raise SsoRefused("disabled", DISABLED)
    if rules.sync_roles and not created and role_claim in claims:
        new_role = role or rules.default_role
        if new_role != user.role:
            record(
                session,
                None,
                "account.sso_role",
                "user",
                user.id,
                before={"role": user.role},
                after={"role": new_role},
            )
            user.role = new_role
            user.session_version += 1  # other sessions of the old role end
    identity.last_used_at = now
    user.last_login_at = now
    record(session, user.id, "account.sso_sign_in", "user", user.id, after={"issuer": issuer})
    return SsoResult(user=user, created=created, linked=linked)


def _one_at_a_time(session: Session, issuer: str, subject: str) -> None:
    """Two first sign-ins of one person at once (two tabs, a double click) must not both
    create the account: the second waits for the first and then finds its link. SQLite
    writes one transaction at a time once it holds the write lock; PostgreSQL takes a lock
    on this (issuer, subject) until the transaction ends."""
    begin_write(session)
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"{issuer}\0{subject}".encode()).digest()[:8], "big")
        session.execute(select(func.pg_advisory_xact_lock(key - (1 << 63))))


def _who(issuer: str, claims: Mapping[str, Any]) -> dict[str, str]:
    return {"issuer": issuer, "sub": str(claims.get("sub") or "")}
