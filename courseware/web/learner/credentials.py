"""Open Badges 3.0 credentials on the web: a certificate's signed credential, the status list
that revokes them, and the did:web document listing the issuer's keys. All public, like
/verify: the certificate's unguessable code is the key to its credential."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, current_app, json, request
from sqlalchemy import select

from courseware import certification
from courseware.certification.badges import Site, issue_credential, status_list_credential
from courseware.certification.signing_keys import Issuer, load_issuer
from courseware.core.clock import utcnow
from courseware.core.models import Certificate, User
from courseware.web.common.access import public
from courseware.web.common.database import catalogue, db_session, writes
from courseware.web.common.policy import policy

bp = Blueprint("credentials", __name__)

CREDENTIAL_TYPE = "application/vc+ld+json"


def issuer() -> Issuer:
    """The issuer's keys (read on each request: `courseware credentials rotate-key` may have
    added one) and its DID (did:web from an https base URL)."""
    return load_issuer(Path(current_app.config["INSTANCE_PATH"]), _base_url())


def _base_url() -> str | None:
    return current_app.config.get("BASE_URL")


def site() -> Site:
    """The URLs the credentials name: the configured base URL, else this request's host."""
    return Site((_base_url() or request.host_url).rstrip("/"))


def _json(document: dict[str, Any], mimetype: str = CREDENTIAL_TYPE) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False)
    response = Response(body, mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"  # public documents, for verifiers
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/certificate/<code>/credential.json")
@writes  # the certificate's status list bit is allocated on the first request
def credential(code: str) -> Response:
    session = db_session()
    row = session.execute(
        select(Certificate, User.display_name)
        .join(User, User.id == Certificate.user_id)
        .where(Certificate.code == certification.normalise_code(code[:64]))
    ).first()
    if row is None:
        abort(404)
    certificate, holder = row
    module_titles = {m.slug: m.title for m in catalogue().modules}
    document = issue_credential(
        session, certificate, holder, module_titles, policy(), issuer(), site(), utcnow()
    )
    session.commit()
    response = _json(document)
    response.headers["Content-Disposition"] = (
        f'inline; filename="credential-{certificate.code}.json"'
    )
    return response


@bp.get("/credentials/status/<int:number>")
@bp.get("/credentials/status/<int:number>/<key>")
def status_list(number: int, key: str | None = None) -> Response:
    found = issuer()
    if number != 1 or (key is None) != bool(found.web_did):
        abort(404)
    signing = found.current
    if key is not None:
        signing = next((k for k in found.keys if k.multibase == key), None)
        if signing is None:
            abort(404)
    document = status_list_credential(db_session(), found, site(), utcnow(), signing, number)
    return _json(document)


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    found = issuer()
    if not found.web_did:
        abort(404)
    return _json(found.did_document(), "application/did+json")


for endpoint in ("credential", "status_list", "did_document"):
    public(f"credentials.{endpoint}")
