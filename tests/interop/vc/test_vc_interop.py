"""Our credentials checked by an independent verifier: Digital Bazaar's @digitalbazaar/vc
with the eddsa-rdfc-2022 cryptosuite and the Bitstring Status List checker (verify.mjs),
not our own code.

Needs node and `npm ci --prefix tests/interop/vc`; without them the tests skip with the
reason, except under COURSEWARE_REQUIRE_INTEROP=1 (CI), where a skip is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from courseware import certification
from courseware.core import clock

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")
INSTALLED = (HERE / "node_modules" / "@digitalbazaar" / "vc").is_dir()


@pytest.fixture(autouse=True)
def _verifier_available() -> None:
    missing = (
        "node is not installed"
        if NODE is None
        else "the verifier's packages are not installed (npm ci --prefix tests/interop/vc)"
        if not INSTALLED
        else None
    )
    if missing is None:
        return
    if os.environ.get("COURSEWARE_REQUIRE_INTEROP") == "1":
        pytest.fail(f"COURSEWARE_REQUIRE_INTEROP=1 but {missing}")
    pytest.skip(missing)


def served(client, credential: dict) -> dict:
    """The documents a verifier fetches from the site: the status list credential and,
    for did:web, the DID document."""
    documents = {}
    url = credential["credentialStatus"]["statusListCredential"]
    documents[url] = client.get(url).get_json()
    issuer = credential["issuer"]["id"]
    if issuer.startswith("did:web:"):
        documents[issuer] = client.get("/.well-known/did.json").get_json()
    return documents


def independent_verify(client, credential: dict, tmp_path: Path) -> dict:
    bundle = tmp_path / "bundle.json"
    bundle.write_text(
        json.dumps(
            {
                "credential": credential,
                "documents": served(client, credential),
                "now": clock.utcnow().isoformat(),  # the tests' clock, not the machine's
            }
        ),
        encoding="utf-8",
    )
    assert NODE is not None
    run = subprocess.run(
        [NODE, str(HERE / "verify.mjs"), str(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def credential_of(client, code: str) -> dict:
    response = client.get(f"/certificate/{code}/credential.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def test_issued_credential_verifies(client, certified, tmp_path):
    answer = independent_verify(client, credential_of(client, certified.code), tmp_path)
    assert answer == {"verified": True, "revoked": False, "errors": []}


def test_did_web_credential_verifies_after_key_rotation(app, client, certified, tmp_path):
    from tests.web.learner.test_credentials import rotate

    app.config["BASE_URL"] = "https://academy.example"
    before = credential_of(client, certified.code)
    rotate(app)
    after = credential_of(client, certified.code)
    assert before["proof"]["verificationMethod"] != after["proof"]["verificationMethod"]
    for credential in (before, after):
        answer = independent_verify(client, credential, tmp_path)
        assert answer == {"verified": True, "revoked": False, "errors": []}


def test_tampered_credential_is_rejected(client, certified, tmp_path):
    credential = credential_of(client, certified.code)
    credential["credentialSubject"]["name"] = "冒名者"
    answer = independent_verify(client, credential, tmp_path)
    assert answer["verified"] is False
    assert answer["errors"]


def test_revoked_credential_is_reported_revoked(client, db, certified, users, tmp_path):
    credential = credential_of(client, certified.code)
    certification.revoke(db, certified, users["hr"].id, "forged evidence")
    db.commit()
    answer = independent_verify(client, credential, tmp_path)
    assert answer["verified"] is False
    assert answer["revoked"] is True
