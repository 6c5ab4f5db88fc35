"""Bitstring Status List (W3C VC 2.0) for revocation: each certificate's bit, allocated at
random in list 1 the first time its credential is issued (random, so neighbouring bits say
nothing about when a certificate was issued), and the list built from the certificates'
revocations.
"""

from __future__ import annotations

import base64
import gzip
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from courseware.core.models import Certificate, CredentialStatus

LIST_SIZE = 131_072  # bits: the specification's minimum, for group privacy
LIST_NUMBER = 1


class StatusListFull(Exception):
    """No free index was found."""


def status_entry(session: Session, certificate_id: int) -> CredentialStatus:
    """The certificate's place in the status list, allocated (and flushed) when first asked."""
    found = session.scalar(
        select(CredentialStatus).where(CredentialStatus.certificate_id == certificate_id)
    )
    if found is not None:
        return found
    for _attempt in range(32):
        index = secrets.randbelow(LIST_SIZE)
        taken = session.scalar(
            select(CredentialStatus.id).where(
                CredentialStatus.status_list == LIST_NUMBER,
                CredentialStatus.status_index == index,
            )
        )
        if taken is not None:
            continue
        entry = CredentialStatus(
            certificate_id=certificate_id, status_list=LIST_NUMBER, status_index=index
        )
        try:
            with session.begin_nested():
                session.add(entry)
                session.flush()
        except IntegrityError:
            # another request allocated for the same certificate, or took the index
            found = session.scalar(
                select(CredentialStatus).where(CredentialStatus.certificate_id == certificate_id)
            )
            if found is not None:
                return found
            continue
        return entry
    raise StatusListFull("no free status list index")


def revoked_indexes(session: Session, list_number: int = LIST_NUMBER) -> set[int]:
    return set(
        session.scalars(
            select(CredentialStatus.status_index)
            .join(Certificate, Certificate.id == CredentialStatus.certificate_id)
            .where(
                CredentialStatus.status_list == list_number,
                Certificate.revoked_at.is_not(None),
            )
        )
    )


def encode_list(indexes: set[int], size: int = LIST_SIZE) -> str:
    """The bitstring, GZIP-compressed, as a base64url multibase string ("u…"); bit 0 is the
    most significant bit of the first byte."""
    bits = bytearray(size // 8)
    for index in indexes:
        bits[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def bit_is_set(encoded: str, index: int) -> bool:
    """Read one bit of an encoded list (raises ValueError when it cannot be read)."""
    if not encoded.startswith("u"):
        raise ValueError("not base64url multibase")
    body = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if not 0 <= index < len(raw) * 8:
        raise ValueError("index outside the list")
    return bool(raw[index // 8] & (0x80 >> (index % 8)))
