"""Single sign-on through the institution's OpenID Connect provider (authlib).

``/login/sso`` sends the browser to the provider (authorization code flow with PKCE, a
fresh state and nonce kept in the session); ``/login/sso/callback`` takes the code back,
exchanges it, and authlib checks the id token (signature against the provider's keys,
issuer, audience, expiry, nonce). ``accounts.sso`` then picks the account. Whatever goes
wrong ends on ``common/auth/sso_error.html`` with a sentence saying what, never a traceback.
On only when COURSEWARE_OIDC_ISSUER is set.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import login_user
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)

from courseware.accounts import sso as accounts_sso
from courseware.core.audit import record
from courseware.core.clock import utcnow
from courseware.core.errors import N_
from courseware.web.common.access import public
from courseware.web.common.database import db_session
from courseware.web.common.extensions import limiter
from courseware.web.common.navigation import home_url
from courseware.web.common.policy import policy
from courseware.web.common.security import safe_next

bp = Blueprint("sso", __name__)

KEY = "courseware.sso"
NEXT_KEY = "sso_next"
STATE_PREFIX = "_state_idp_"  # authlib's session keys for the provider registered as "idp"
TIMEOUT_SECONDS = 10

# Why a sign-in through the provider was refused, as the page says it.
PROBLEMS = {
    "state": N_(
        "This sign-in was already completed or has expired, or it was not started in this "
        "browser. Start again from the sign-in page."
    ),
    "audience": N_(
        "The sign-in service's answer was issued to another application, so it was refused."
    ),
    "expired": N_(
        "The sign-in service's answer has expired, so it was refused. Start again from the "
        "sign-in page; if it happens again, tell your administrator (the clocks may disagree)."
    ),
    "signature": N_(
        "The sign-in service's answer does not carry its valid signature, so it was refused."
    ),
    "nonce": N_(
        "The sign-in service's answer belongs to another sign-in, so it was refused. Start "
        "again from the sign-in page."
    ),
    "issuer": N_(
        "The answer did not come from the institution's sign-in service, so it was refused."
    ),
    "invalid": N_("The sign-in service's answer could not be checked, so it was refused."),
    "denied": N_("The sign-in service did not sign you in."),
    "down": N_(
        "The institution's sign-in service does not answer. Try again in a few minutes; if "
        "it stays down, ask your administrator."
    ),
}
STATUS = {"down": 502}


def enabled(app: Flask | None = None) -> bool:
    return KEY in (app or current_app).extensions


def init_sso(app: Flask) -> None:
    """Register the provider with authlib when COURSEWARE_OIDC_ISSUER is set."""
    issuer = (app.config.get("OIDC_ISSUER") or "").rstrip("/")
    if not issuer:
        return
    if not app.config.get("OIDC_CLIENT_ID"):
        raise RuntimeError("COURSEWARE_OIDC_ISSUER is set: set COURSEWARE_OIDC_CLIENT_ID too")
    oauth = OAuth(app)
    oauth.register(
        "idp",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config.get("OIDC_CLIENT_SECRET"),
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config.get("OIDC_SCOPES") or "openid email profile",
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )
    app.extensions[KEY] = oauth


def _client() -> Any:
    if not enabled():
        abort(404)
    return current_app.extensions[KEY].idp


def _issuer() -> str:
    return (current_app.config.get("OIDC_ISSUER") or "").rstrip("/")


def _refused(code: str):
    current_app.logger.warning("single sign-on refused: %s", code)
    session_db = db_session()
    record(session_db, None, "account.sso_refused", "user", "", after={"reason": code})
    session_db.commit()
    page = render_template("common/auth/sso_error.html", message=_(PROBLEMS[code]))
    return page, STATUS.get(code, 400)


@bp.get("/login/sso")
@limiter.limit("30 per minute")
def start():
    client = _client()
    # One sign-in at a time per browser: an earlier one's state (authlib keeps each in the
    # session cookie for an hour) is dropped, so repeated clicks do not grow the cookie.
    for key in [k for k in session if k.startswith(STATE_PREFIX)]:
        session.pop(key)
    session[NEXT_KEY] = safe_next(request.args.get("next"), "")
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError):
        return _refused("down")
    if str(metadata.get("issuer", "")).rstrip("/") != _issuer():
        return _refused("issuer")
    try:
        return client.authorize_redirect(redirect_uri=url_for("sso.callback", _external=True))
    except requests.RequestException:
        return _refused("down")


def _problem(exc: Exception) -> str:
    # authlib and joserfc name what failed; the page says it in words.
    if isinstance(exc, MismatchingStateError):
        return "state"
    if isinstance(exc, OAuthError):
        return "denied"
    if isinstance(exc, ExpiredTokenError):
        return "expired"
    if isinstance(exc, InvalidClaimError | MissingClaimError):
        claim = getattr(exc, "claim", "")
        return {"aud": "audience", "nonce": "nonce", "iss": "issuer", "azp": "audience"}.get(
            claim, "invalid"
        )
    if isinstance(exc, BadSignatureError):
        return "signature"
    if isinstance(exc, requests.RequestException):
        return "down"
    return "invalid"


def _with_userinfo(client: Any, token: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
    """The id token's claims completed from the userinfo endpoint, as many providers put
    email or groups only there. The id token's own claims win; another ``sub`` is ignored."""
    if not client.load_server_metadata().get("userinfo_endpoint"):
        return claims
    extra = dict(client.userinfo(token=token))
    if extra.get("sub") != claims.get("sub"):
        return claims
    return {**extra, **claims}


@bp.get("/login/sso/callback")
@limiter.limit("30 per minute")
def callback():
    client = _client()
    try:
        issuer = client.load_server_metadata()["issuer"]
        # The id token must name us as its audience and the configured provider as its
        # issuer (authlib alone accepts another audience when azp names us).
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": client.client_id},
            }
        )
    except (OAuthError, JoseError, requests.RequestException, ValueError, KeyError) as exc:
        return _refused(_problem(exc))
    claims = dict(token.get("userinfo") or {})
    if not claims:
        return _refused("invalid")
    config = current_app.config
    wanted = (config.get("OIDC_ROLE_CLAIM") or "roles", policy().sso.match_claim)
    if any(name not in claims for name in wanted):
        try:
            claims = _with_userinfo(client, token, claims)
        except (OAuthError, requests.RequestException, ValueError):
            return _refused("down")
    session_db = db_session()
    try:
        result = accounts_sso.sign_in(
            session_db,
            policy().sso,
            _issuer(),
            claims,
            config.get("OIDC_ROLE_CLAIM") or "roles",
            utcnow(),
        )
    except accounts_sso.SsoRefused as refusal:
        session_db.commit()  # the refusal is audited
        return render_template("common/auth/sso_error.html", message=_(refusal.message)), 403
    session_db.commit()
    target = session.get(NEXT_KEY) or ""
    language = session.get("lang")
    session.clear()  # a new session at sign-in; only the language choice carries over
    if language:
        session["lang"] = language
    login_user(result.user)
    session.permanent = True
    session["seen"] = int(time.time())
    return redirect(safe_next(target, home_url(result.user.role)))


for _endpoint in ("sso.start", "sso.callback"):
    public(_endpoint)
