"""The issuer's Ed25519 signing keys for verifiable credentials, and the issuer's DID.

The keys live in the instance folder (``credential-keys.json``, mode 600), generated on first
need. Rotation adds a key and makes it the one that signs; the earlier keys stay in the file
(public halves are what matter after rotation) so every credential signed before still
verifies. Each key is named by its Multikey ``publicKeyMultibase`` (``z6Mk…``), which is also
the fragment of its verification method id.

The issuer is ``did:web:<host>`` when the site's configured base URL is https at the root of
its host (``/.well-known/did.json`` lists every key), else the key's own ``did:key``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from courseware.core.clock import utcnow

KEY_FILE = "credential-keys.json"
_ED25519_PUB = b"\xed\x01"  # multicodec ed25519-pub, as varint
_ED25519_PRIV = b"\x80\x26"  # multicodec ed25519-priv
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


class KeyError_(Exception):
    """The key file cannot be read."""


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise ValueError("not base58btc")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + body


def public_multibase(public: bytes) -> str:
    return "z" + b58encode(_ED25519_PUB + public)


def public_from_multibase(text: str) -> bytes | None:
    """The 32 raw bytes of an Ed25519 Multikey, or None when ``text`` is not one."""
    if not text.startswith("z"):
        return None
    try:
        raw = b58decode(text[1:])
    except ValueError:
        return None
    if len(raw) != 34 or not raw.startswith(_ED25519_PUB):
        return None
    return raw[2:]


@dataclass(frozen=True)
class SigningKey:
    multibase: str  # publicKeyMultibase, also the verification method's fragment
    secret: bytes  # 32-byte Ed25519 seed
    created: str

    @property
    def public(self) -> bytes:
        return _public_of(self.secret)

    def sign(self, data: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.secret).sign(data)


def _public_of(secret: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes_raw()


def verify_signature(public: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except Exception:  # noqa: BLE001 - InvalidSignature or a malformed key: both are "no"
        return False
    return True


def _new_key(now: datetime) -> SigningKey:
    secret = Ed25519PrivateKey.generate().private_bytes_raw()
    return SigningKey(public_multibase(_public_of(secret)), secret, _stamp(now))


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _write(path: Path, keys: list[SigningKey], *, only_if_absent: bool = False) -> None:
    """Write the key file whole (a temporary file renamed or linked into place). With
    ``only_if_absent`` an existing file wins: two workers making the first key at once end
    up with the same one."""
    data = {
        "keys": [
            {
                "publicKeyMultibase": k.multibase,
                "secretKeyMultibase": "z" + b58encode(_ED25519_PRIV + k.secret),
                "created": k.created,
            }
            for k in keys
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    if not only_if_absent:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def _read(path: Path) -> list[SigningKey]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        keys = []
        for item in data["keys"]:
            raw = b58decode(item["secretKeyMultibase"][1:])
            if not raw.startswith(_ED25519_PRIV) or len(raw) != 34:
                raise ValueError("not an Ed25519 secret key")
            key = SigningKey(public_multibase(_public_of(raw[2:])), raw[2:], item["created"])
            if key.multibase != item["publicKeyMultibase"]:
                raise ValueError("the public key does not match the secret key")
            keys.append(key)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyError_(f"{path}: {exc}") from exc
    if not keys:
        raise KeyError_(f"{path}: no keys")
    return keys


def load_keys(instance_path: Path, now: datetime | None = None) -> list[SigningKey]:
    """Every key, oldest first; the last signs. The first key is made on first need."""
    path = Path(instance_path) / KEY_FILE
    if not path.exists():
        _write(path, [_new_key(now or utcnow())], only_if_absent=True)
    return _read(path)


def rotate_key(instance_path: Path, now: datetime | None = None) -> SigningKey:
    """Add a new signing key; the earlier ones stay so their credentials still verify."""
    keys = load_keys(instance_path, now)
    fresh = _new_key(now or utcnow())
    _write(Path(instance_path) / KEY_FILE, [*keys, fresh])
    return fresh


def did_web(base_url: str | None) -> str | None:
    """``did:web:<host>`` for an https base URL at its host's root, else None."""
    if not base_url:
        return None
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.hostname or parts.path.strip("/"):
        return None
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return "did:web:" + quote(host, safe="")


@dataclass(frozen=True)
class Issuer:
    """Who signs: the DID and the keys (oldest first, the last signs)."""

    keys: tuple[SigningKey, ...]
    web_did: str | None = None

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def did_for(self, key_multibase: str) -> str:
        return self.web_did or f"did:key:{key_multibase}"

    @property
    def did(self) -> str:
        return self.did_for(self.current.multibase)

    def method_id(self, key: SigningKey) -> str:
        return f"{self.did_for(key.multibase)}#{key.multibase}"

    def public_key_of(self, method_id: str) -> bytes | None:
        """The public key behind a verification method id, when the method is one of ours."""
        for key in self.keys:
            if method_id == self.method_id(key):
                return key.public
        return None

    def owns(self, did: str) -> bool:
        return any(did == self.did_for(k.multibase) for k in self.keys)

    def did_document(self) -> dict[str, Any]:
        """The did:web document: every key, current and earlier, may assert."""
        if self.web_did is None:
            raise ValueError("a did:key issuer has no DID document to serve")
        methods = [
            {
                "id": self.method_id(k),
                "type": "Multikey",
                "controller": self.web_did,
                "publicKeyMultibase": k.multibase,
            }
            for k in self.keys
        ]
        ids = [m["id"] for m in methods]
        return {
            "@context": DID_CONTEXTS,
            "id": self.web_did,
            "verificationMethod": methods,
            "assertionMethod": ids,
            "authentication": ids,
        }


def load_issuer(instance_path: Path, base_url: str | None) -> Issuer:
    return Issuer(tuple(load_keys(instance_path)), did_web(base_url))
