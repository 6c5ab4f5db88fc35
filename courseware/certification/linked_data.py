"""JSON-LD for credentials: the bundled contexts, RDFC-1.0 canonicalization (PyLD's URDNA2015,
the same algorithm) and Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite.

The document loader knows only the contexts shipped in ``certification/contexts/``: nothing
is fetched at run time, and a credential naming any other context is refused.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from courseware.certification.signing_keys import (
    Issuer,
    SigningKey,
    b58decode,
    b58encode,
    verify_signature,
)

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXT_FILES = {
    VC_V2: "credentials-v2.json",
    OB_V3: "ob-v3p0-context-3.0.3.json",
}
CONTEXT_DIR = Path(__file__).resolve().parent / "contexts"
CRYPTOSUITE = "eddsa-rdfc-2022"


class LinkedDataError(Exception):
    """The document cannot be canonicalized (an unknown context, bad JSON-LD)."""


@cache
def _context(url: str) -> str:
    return (CONTEXT_DIR / CONTEXT_FILES[url]).read_text(encoding="utf-8")


def document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """PyLD's loader: the bundled contexts only, never the network."""
    if url not in CONTEXT_FILES:
        raise LinkedDataError(f"context not available offline: {url[:200]}")
    return {
        "contextUrl": None,
        "documentUrl": url,
        "contentType": "application/ld+json",
        "document": json.loads(_context(url)),
    }


def canonize(document: dict[str, Any]) -> str:
    """The document's RDFC-1.0 canonical N-Quads."""
    from pyld import jsonld  # about 10 MB: imported when a credential is signed or checked

    try:
        result = jsonld.normalize(
            document,
            {
                "algorithm": "URDNA2015",
                "format": "application/n-quads",
                "documentLoader": document_loader,
                "safe": True,
            },
        )
    except LinkedDataError:
        raise
    except Exception as exc:
        raise LinkedDataError(str(exc)[:300]) from exc
    return str(result)


def _hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof_options.items() if k != "proofValue"}
    config["@context"] = document.get("@context")
    return (
        hashlib.sha256(canonize(config).encode()).digest()
        + hashlib.sha256(canonize(unsigned).encode()).digest()
    )


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    document: dict[str, Any], issuer: Issuer, now: datetime, key: SigningKey | None = None
) -> dict[str, Any]:
    """The document with a ``DataIntegrityProof`` (eddsa-rdfc-2022) by the issuer's current key."""
    key = key or issuer.current
    proof: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": _stamp(now),
        "verificationMethod": issuer.method_id(key),
        "proofPurpose": "assertionMethod",
    }
    signature = key.sign(_hash_data(document, proof))
    signed = copy.deepcopy(document)
    signed["proof"] = {**proof, "proofValue": "z" + b58encode(signature)}
    return signed


def proof_problems(document: dict[str, Any], issuer: Issuer) -> list[str]:
    """What is wrong with the document's proof (an empty list: it is ours and intact)."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return ["no_proof"]
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        return ["unsupported_proof"]
    if proof.get("proofPurpose") != "assertionMethod":
        return ["wrong_proof_purpose"]
    method = proof.get("verificationMethod")
    public = issuer.public_key_of(method) if isinstance(method, str) else None
    if public is None:
        return ["unknown_key"]
    issuer_id = document.get("issuer")
    issuer_id = issuer_id.get("id") if isinstance(issuer_id, dict) else issuer_id
    if not isinstance(issuer_id, str) or not str(method).startswith(issuer_id + "#"):
        return ["issuer_mismatch"]
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        return ["bad_signature"]
    try:
        signature = b58decode(value[1:])
        data = _hash_data(document, proof)
    except ValueError:
        return ["bad_signature"]
    except LinkedDataError:
        return ["not_json_ld"]
    return [] if verify_signature(public, signature, data) else ["bad_signature"]
