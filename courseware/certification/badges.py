"""A certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (W3C VC 2.0 data model), signed
with a Data Integrity proof, and our own verifier of such credentials.

The credential names the holder by name only (the subject id is an opaque URN); it carries
the achievement (the course and its criteria), the evidence summary (each module's quiz
result, the case judgement score, any exemption), the certificate's dates as
``validFrom``/``validUntil`` and a ``BitstringStatusListEntry`` for revocation. Texts are in
zh-Hant, the course's language.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from courseware.certification.grounds import grounds_of
from courseware.certification.linked_data import (
    OB_V3,
    VC_V2,
    proof_problems,
    sign,
)
from courseware.certification.policy import Policy
from courseware.certification.signing_keys import Issuer, SigningKey
from courseware.certification.status_list import (
    LIST_NUMBER,
    encode_list,
    revoked_indexes,
    status_entry,
)
from courseware.core.errors import N_
from courseware.core.models import Certificate, CredentialStatus
from courseware.core.translate import translator

MAX_CREDENTIAL_BYTES = 64 * 1024
MAX_OBJECTS = 300  # JSON objects in a credential: bounds the canonicalization's work
STATUSES = ("active", "revoked", "expired")
_NAMESPACE = uuid.UUID("6f0f3c2e-8b7a-4d52-9c1e-2f6c1c0b9a11")


@dataclass(frozen=True)
class Site:
    """Where the credentials point: the site's absolute base URL, without a trailing slash."""

    base: str

    def credential_url(self, code: str) -> str:
        return f"{self.base}/certificate/{code}/credential.json"

    def status_list_url(self, issuer: Issuer, key: SigningKey, number: int = LIST_NUMBER) -> str:
        """One list per issuer DID: with did:web all keys share it, with did:key each key
        (each its own DID) has its own, signed by that key."""
        url = f"{self.base}/credentials/status/{number}"
        return url if issuer.web_did else f"{url}/{key.multibase}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _evidence(
    certificate: Certificate,
    grounds: list[Any],
    module_titles: Mapping[str, str],
    policy: Policy,
) -> list[dict[str, Any]]:
    tr = translator()
    found: list[dict[str, Any]] = []
    cases = [g for g in grounds if g.kind in ("case", "renewal_case") and g.score is not None]
    for ground in grounds:
        if ground.kind == "quiz":
            title = module_titles.get(ground.subject, ground.subject)
            found.append(
                {
                    "type": ["Evidence"],
                    "name": tr(N_("Module: %(title)s")) % {"title": title},
                    "description": tr(
                        N_("Every lesson read; module quiz passed with %(percent)s%%.")
                    )
                    % {"percent": f"{ground.score:.0f}" if ground.score is not None else "-"},
                }
            )
        elif ground.kind == "exemption":
            found.append(
                {
                    "type": ["Evidence"],
                    "name": tr(N_("Exemption")),
                    "description": tr(N_("Exempted from requirement %(key)s by the institution."))
                    % {"key": ground.subject},
                }
            )
    if cases:
        average = sum(g.score for g in cases) / len(cases)
        found.append(
            {
                "type": ["Evidence"],
                "name": tr(N_("Case judgement")),
                "description": tr(
                    N_(
                        "%(count)s loan case decisions, average judgement score "
                        "%(average)s of 100 (pass mark %(mark)s)."
                    )
                )
                % {
                    "count": len(cases),
                    "average": f"{average:.1f}",
                    "mark": f"{policy.certification.case_average_min:g}",
                },
            }
        )
    return found


def _criteria(module_titles: Mapping[str, str], policy: Policy) -> str:
    tr = translator()
    rules = policy.certification
    modules = "、".join(module_titles.values())
    return tr(
        N_(
            "Read every lesson and pass the quiz of each module (%(modules)s); decide at least "
            "%(cases)s loan cases with an average judgement score of at least %(mark)s of 100. "
            "Valid %(months)s months, renewed by a renewal assessment."
        )
    ) % {
        "modules": modules,
        "cases": rules.cases_required,
        "mark": f"{rules.case_average_min:g}",
        "months": rules.validity_months,
    }


def build_credential(
    session: Session,
    certificate: Certificate,
    holder_name: str,
    module_titles: Mapping[str, str],
    policy: Policy,
    issuer: Issuer,
    site: Site,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of a certificate (allocates its status list bit)."""
    tr = translator()
    entry = status_entry(session, certificate.id)
    url = site.credential_url(certificate.code)
    list_url = site.status_list_url(issuer, issuer.current, entry.status_list)
    grounds = grounds_of(session, [certificate])[certificate.id]
    academy = tr(N_("Microloan Officer Academy"))
    return {
        "@context": [VC_V2, OB_V3],
        "id": url,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": tr(N_("Microloan officer certificate")),
        "issuer": {
            "id": issuer.did,
            "type": ["Profile"],
            "name": academy,
            "url": site.base + "/",
        },
        "validFrom": _stamp(certificate.issued_at),
        "validUntil": _stamp(certificate.expires_at),
        "credentialSubject": {
            "id": "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, url)),
            "type": ["AchievementSubject"],
            "name": holder_name,
            "achievement": {
                "id": "urn:uuid:" + str(uuid.uuid5(_NAMESPACE, site.base + "#achievement")),
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": tr(N_("Microloan officer certificate")),
                "description": tr(
                    N_(
                        "Certifies that the holder completed %(academy)s's course for microloan "
                        "officers: the lessons, the module quizzes and judged loan cases."
                    )
                )
                % {"academy": academy},
                "criteria": {"narrative": _criteria(module_titles, policy)},
                "creator": {"id": issuer.did, "type": ["Profile"], "name": academy},
            },
        },
        "evidence": _evidence(certificate, grounds, module_titles, policy),
        "credentialStatus": {
            "id": f"{list_url}#{entry.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(entry.status_index),
            "statusListCredential": list_url,
        },
    }


def issue_credential(
    session: Session,
    certificate: Certificate,
    holder_name: str,
    module_titles: Mapping[str, str],
    policy: Policy,
    issuer: Issuer,
    site: Site,
    now: datetime,
) -> dict[str, Any]:
    """The certificate's signed credential (the caller commits: a status bit may be new)."""
    unsigned = build_credential(
        session, certificate, holder_name, module_titles, policy, issuer, site
    )
    return sign(unsigned, issuer, now)


def status_list_credential(
    session: Session,
    issuer: Issuer,
    site: Site,
    now: datetime,
    key: SigningKey | None = None,
    number: int = LIST_NUMBER,
) -> dict[str, Any]:
    """The signed BitstringStatusListCredential: a set bit is a revoked certificate."""
    key = key or issuer.current
    url = site.status_list_url(issuer, key, number)
    document = {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did_for(key.multibase),
        "validFrom": _stamp(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_list(revoked_indexes(session, number)),
        },
    }
    return sign(document, issuer, now, key)


@dataclass
class CredentialCheck:
    """Our verifier's answer: ``verified`` only when the proof is ours and intact, the
    certificate is not revoked and today lies within the credential's dates."""

    verified: bool = False
    status: str | None = None  # active | revoked | expired; None when it could not be read
    problems: list[str] = field(default_factory=list)
    holder: str = ""
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    code: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "status": self.status, "problems": self.problems}


PROBLEMS = {
    "too_large": N_("The credential is too large."),
    "not_json": N_("This is not JSON."),
    "not_a_badge": N_("This is not an Open Badges credential."),
    "unknown_context": N_("The credential uses a JSON-LD context this site does not know."),
    "too_complex": N_("The credential has too many parts."),
    "not_json_ld": N_("The credential is not valid JSON-LD."),
    "no_proof": N_("The credential is not signed."),
    "unsupported_proof": N_("The signature is not an eddsa-rdfc-2022 Data Integrity proof."),
    "wrong_proof_purpose": N_("The signature is not an assertion."),
    "unknown_key": N_("The signing key is not one of this site's keys."),
    "issuer_mismatch": N_("The signing key does not belong to the credential's issuer."),
    "bad_signature": N_("The signature does not match: the credential was changed after signing."),
    "no_status": N_("The credential has no revocation status entry."),
    "unknown_status": N_("The revocation status entry is not one of this site's."),
    "revoked": N_("The certificate was revoked."),
    "expired": N_("The credential has expired."),
    "not_yet_valid": N_("The credential is not valid yet."),
    "bad_dates": N_("The credential's dates cannot be read."),
}


def _count_objects(value: Any, top: bool = True) -> int:
    """The JSON objects in a credential, or more than ``MAX_OBJECTS`` when it names blank
    nodes (``"_:…"``) or JSON-LD keywords below the top-level ``@context``: our credentials
    have neither, and both could make the canonicalization's work grow without bound."""
    if isinstance(value, dict):
        if any(key.startswith("@") and not (top and key == "@context") for key in value):
            return MAX_OBJECTS + 1
        return 1 + sum(_count_objects(v, False) for v in value.values())
    if isinstance(value, list):
        return sum(_count_objects(v, False) for v in value)
    if isinstance(value, str) and value.startswith("_:"):
        return MAX_OBJECTS + 1
    return 0


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _parse(text: str | bytes) -> tuple[dict[str, Any] | None, list[str]]:
    if len(text) > MAX_CREDENTIAL_BYTES:
        return None, ["too_large"]
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None, ["not_json"]
    types = document.get("type") if isinstance(document, dict) else None
    if not isinstance(types, list) or "OpenBadgeCredential" not in types:
        return None, ["not_a_badge"]
    if document.get("@context") != [VC_V2, OB_V3]:
        return None, ["unknown_context"]
    if _count_objects(document) > MAX_OBJECTS:
        return None, ["too_complex"]
    return document, []


def _status(
    session: Session, document: dict[str, Any], issuer: Issuer, site: Site
) -> tuple[Certificate | None, str | None, str | None]:
    """(certificate, revoked or active, problem) from the credential's status entry."""
    entry = document.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry":
        return None, None, "no_status"
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not index.isdigit() or len(index) > 9:
        return None, None, "unknown_status"
    row = session.execute(
        select(CredentialStatus, Certificate)
        .join(Certificate, Certificate.id == CredentialStatus.certificate_id)
        .where(
            CredentialStatus.status_list == LIST_NUMBER,
            CredentialStatus.status_index == int(index),
        )
    ).first()
    lists = {site.status_list_url(issuer, k) for k in issuer.keys}
    if (
        row is None
        or entry.get("statusListCredential") not in lists
        or entry.get("statusPurpose") != "revocation"
        or document.get("id") != site.credential_url(row[1].code)
    ):
        return None, None, "unknown_status"
    certificate = row[1]
    return certificate, "revoked" if certificate.revoked_at else "active", None


def check_credential(
    session: Session, text: str | bytes, issuer: Issuer, site: Site, now: datetime
) -> CredentialCheck:
    """Verify a credential this site issued: the proof, the status list, the dates."""
    document, problems = _parse(text)
    if document is None:
        return CredentialCheck(problems=problems)
    check = CredentialCheck()
    check.problems = proof_problems(document, issuer)
    certificate, status, problem = _status(session, document, issuer, site)
    if problem:
        check.problems.append(problem)
    valid_from, valid_until = _when(document.get("validFrom")), _when(document.get("validUntil"))
    if valid_from is None or ("validUntil" in document and valid_until is None):
        check.problems.append("bad_dates")
    elif valid_from > now:
        check.problems.append("not_yet_valid")
    expired = valid_until is not None and valid_until <= now
    if status == "revoked":
        check.problems.append("revoked")
    elif expired:
        check.problems.append("expired")
    check.status = "revoked" if status == "revoked" else "expired" if expired else status
    subject = document.get("credentialSubject")
    name = subject.get("name") if isinstance(subject, dict) else None
    check.holder = name if isinstance(name, str) else ""
    check.valid_from, check.valid_until = valid_from, valid_until
    check.code = certificate.code if certificate is not None else ""
    check.verified = not check.problems and check.status == "active"
    return check
