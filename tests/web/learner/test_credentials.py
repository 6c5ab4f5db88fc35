"""Open Badges 3.0 credentials: the signed credential of a certificate, its status list, the
did:web document, key rotation, and our verifier (POST /verify) through the test client."""

from __future__ import annotations

import io
import json
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from courseware import certification, cli
from courseware.certification.linked_data import sign
from courseware.certification.signing_keys import KEY_FILE, load_issuer
from courseware.certification.status_list import bit_is_set
from courseware.core import clock
from tests.conftest import csrf_token
from tests.test_cli import _env as cli_env

JSON = {"Accept": "application/json"}


def fetch(client, code: str) -> dict:
    response = client.get(f"/certificate/{code}/credential.json")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/vc+ld+json"
    return json.loads(response.get_data(as_text=True))


def check(client, credential: dict | str) -> dict:
    text = credential if isinstance(credential, str) else json.dumps(credential)
    response = client.post("/verify", data={"credential": text}, headers=JSON)
    assert response.status_code == 200
    return response.get_json()


def rotate(app) -> str:
    """`courseware credentials rotate-key` on the app's instance folder."""
    result = CliRunner().invoke(cli.main, ["credentials", "rotate-key"], env=cli_env(app))
    assert result.exit_code == 0, result.output
    return result.output


def test_credential_is_an_open_badge_naming_the_holder_only(client, certified, users):
    credential = fetch(client, certified.code)
    assert credential["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    subject = credential["credentialSubject"]
    assert subject["name"] == users["trainee"].display_name
    assert subject["id"].startswith("urn:uuid:")
    assert subject["achievement"]["criteria"]["narrative"]
    text = json.dumps(credential, ensure_ascii=False)
    trainee = users["trainee"]
    for private in (trainee.employee_id, trainee.branch, "username", "email"):
        assert private not in text
    names = [e["name"] for e in credential["evidence"]]
    assert any(n.startswith("模組") for n in names) and "案例判斷" in names
    assert credential["validFrom"].startswith(certified.issued_at.strftime("%Y-%m-%d"))
    assert credential["validUntil"].startswith(certified.expires_at.strftime("%Y-%m-%d"))
    status = credential["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["issuer"]["id"].startswith("did:key:z6Mk")


def test_the_status_bit_is_allocated_once(client, certified):
    first = fetch(client, certified.code)["credentialStatus"]
    again = fetch(client, certified.code)["credentialStatus"]
    assert first == again


def test_unknown_code_has_no_credential(client, certified):
    assert client.get("/certificate/MLA-0000-0000-0000-0000/credential.json").status_code == 404


def test_issued_credential_verifies(client, certified):
    answer = check(client, fetch(client, certified.code))
    assert answer == {"verified": True, "status": "active", "problems": []}


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["credentialSubject"].update(name="冒名者"),
        lambda c: c.update(validUntil="2099-01-01T00:00:00Z"),
        lambda c: c["evidence"].pop(),
    ],
)
def test_tampered_credential_is_refused(client, certified, change):
    credential = fetch(client, certified.code)
    change(credential)
    answer = check(client, credential)
    assert answer["verified"] is False
    assert "bad_signature" in answer["problems"]


def test_revoked_certificate_is_reported_revoked(client, db, certified, users):
    credential = fetch(client, certified.code)
    index = int(credential["credentialStatus"]["statusListIndex"])
    listed = client.get(credential["credentialStatus"]["statusListCredential"])
    encoded = listed.get_json()["credentialSubject"]["encodedList"]
    assert not bit_is_set(encoded, index)
    certification.revoke(db, certified, users["hr"].id, "forged evidence")
    db.commit()
    answer = check(client, credential)
    assert answer == {"verified": False, "status": "revoked", "problems": ["revoked"]}
    listed = client.get(credential["credentialStatus"]["statusListCredential"]).get_json()
    assert bit_is_set(listed["credentialSubject"]["encodedList"], index)
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"


def test_expired_credential_is_reported_expired(client, certified):
    credential = fetch(client, certified.code)
    clock.set_time(certified.expires_at + timedelta(days=1))
    answer = check(client, credential)
    assert answer == {"verified": False, "status": "expired", "problems": ["expired"]}


def test_rotated_key_signs_new_credentials_and_old_ones_still_verify(app, client, certified):
    before = fetch(client, certified.code)
    result = rotate(app)
    assert "earlier credentials still verify" in result
    after = fetch(client, certified.code)
    assert after["proof"]["verificationMethod"] != before["proof"]["verificationMethod"]
    assert check(client, before)["verified"] is True
    assert check(client, after)["verified"] is True


def test_a_key_not_ours_is_refused(app, client, certified, tmp_path):
    credential = fetch(client, certified.code)
    stranger = load_issuer(tmp_path / "elsewhere", None)
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    unsigned["issuer"] = {**unsigned["issuer"], "id": stranger.did}
    forged = sign(unsigned, stranger, clock.utcnow())
    answer = check(client, forged)
    assert answer["verified"] is False
    assert "unknown_key" in answer["problems"]


def test_key_file_is_private(app, client, certified):
    fetch(client, certified.code)
    path = Path(app.config["INSTANCE_PATH"]) / KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_did_web_lists_every_key_and_signs_as_the_site(app, client, certified):
    app.config["BASE_URL"] = "https://academy.example"
    assert client.get("/.well-known/did.json").status_code == 200
    before = fetch(client, certified.code)
    assert before["issuer"]["id"] == "did:web:academy.example"
    assert before["id"] == f"https://academy.example/certificate/{certified.code}/credential.json"
    rotate(app)
    document = client.get("/.well-known/did.json").get_json()
    methods = [m["id"] for m in document["verificationMethod"]]
    assert len(methods) == 2 and before["proof"]["verificationMethod"] in methods
    assert document["assertionMethod"] == methods
    assert check(client, before)["verified"] is True


def test_did_document_only_for_did_web(app, client, certified):
    assert client.get("/.well-known/did.json").status_code == 404
    app.config["BASE_URL"] = "http://academy.example"  # not https: did:key
    assert client.get("/.well-known/did.json").status_code == 404


def test_status_list_of_a_key_not_ours_is_404(client, certified):
    credential = fetch(client, certified.code)
    url = credential["credentialStatus"]["statusListCredential"]
    assert client.get(url).status_code == 200
    assert client.get(url[:-3] + "abc").status_code == 404
    assert client.get("/credentials/status/2/" + url.rsplit("/", 1)[1]).status_code == 404


def test_garbage_is_not_verified(client, certified):
    assert check(client, "not json") == {
        "verified": False,
        "status": None,
        "problems": ["not_json"],
    }
    assert check(client, "x" * 70_000)["problems"] == ["too_large"]
    assert check(client, {"type": ["VerifiableCredential"]})["problems"] == ["not_a_badge"]


def test_unknown_context_is_refused_without_fetching_it(client, certified):
    credential = fetch(client, certified.code)
    credential["@context"].append("https://evil.example/context.json")
    assert check(client, credential)["problems"] == ["unknown_context"]


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["evidence"].extend([{"type": ["Evidence"], "name": "x"}] * 300),
        lambda c: c["credentialSubject"].update(id="_:b0"),
        lambda c: c["credentialSubject"].update({"@context": {"x": "https://x.example/"}}),
    ],
)
def test_credentials_that_could_make_canonicalization_slow_are_refused(client, certified, change):
    credential = fetch(client, certified.code)
    change(credential)
    assert check(client, credential)["problems"] == ["too_complex"]


def test_json_body_is_accepted_too(client, certified):
    credential = fetch(client, certified.code)
    response = client.post("/verify", json=credential, headers=JSON)
    assert response.get_json()["verified"] is True


def test_html_form_needs_its_csrf_token(client, certified):
    credential = json.dumps(fetch(client, certified.code))
    assert client.post("/verify", data={"credential": credential}).status_code == 400


def test_html_form_answers_in_chinese(client, certified):
    credential = fetch(client, certified.code)
    token = csrf_token(client, "/verify")
    page = client.post("/verify", data={"credential": json.dumps(credential), "csrf_token": token})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-verified="yes"' in html
    credential["credentialSubject"]["name"] = "冒名者"
    upload = (io.BytesIO(json.dumps(credential).encode()), "credential.json")
    page = client.post(
        "/verify",
        data={"credential_file": upload, "csrf_token": token},
        content_type="multipart/form-data",
    )
    html = page.get_data(as_text=True)
    assert 'data-verified="no"' in html
    assert "簽章" in html


def test_certificate_page_links_the_credential_with_a_qr_code(client, certified, users):
    from tests.conftest import login

    login(client, "trainee")
    html = client.get(f"/certificate/{certified.code}").get_data(as_text=True)
    assert f"/certificate/{certified.code}/credential.json" in html
    assert html.count('class="qr-code"') == 2
