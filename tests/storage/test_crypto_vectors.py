"""C6: frozen known-answer vectors for every on-disk format.

tests/vectors/envelope_v1.json was generated once and committed.  If a test
here fails, data already stored would stop decrypting (or returning users
would stop being recognised): do not regenerate the file; restore the format or
add a new format version alongside v1.

Each vector is checked three ways: current code opens it, current code
re-produces the same bytes from the same nonce, and a raw AESGCM / stdlib HMAC
call following the documented layout agrees (so the docs match the bytes).
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.crypto import (
    FieldCipher,
    KeyRing,
    _wrap_dek_with_nonce,
    aad,
    pseudonym,
    pseudonym_candidates,
    unwrap_dek,
    wrapped_kek_version,
)

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "envelope_v1.json").read_text(encoding="utf-8")
)
FILLER_PEPPER = bytes(range(32))
FILLER_KEK = bytes(range(32, 64))


def test_the_vector_file_covers_the_edge_cases() -> None:
    plaintexts = [bytes.fromhex(v["plaintext"]) for v in VECTORS["field"]]
    assert b"" in plaintexts
    assert any(_not_utf8(p) for p in plaintexts)
    assert any(len(p) >= 256 for p in plaintexts)
    assert {v["kek_version"] for v in VECTORS["wrapped_dek"]} >= {1, 70000}
    assert {v["role"] for v in VECTORS["pseudonym"]} == {"user", "mentor"}
    assert {v["pepper_version"] for v in VECTORS["pseudonym"]} == {1, 2}


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@pytest.mark.parametrize("vector", VECTORS["aad"], ids=lambda v: "|".join(v["parts"]) or "none")
def test_aad_vectors(vector: dict[str, Any]) -> None:
    assert aad(*vector["parts"]).hex() == vector["aad"]


@pytest.mark.parametrize("vector", VECTORS["field"], ids=lambda v: v["row_id"][-4:])
def test_field_vectors(vector: dict[str, Any]) -> None:
    dek = bytes.fromhex(vector["dek"])
    nonce = bytes.fromhex(vector["nonce"])
    plaintext = bytes.fromhex(vector["plaintext"])
    blob = bytes.fromhex(vector["blob"])
    where = (vector["table"], vector["column"], vector["row_id"])
    cipher = FieldCipher(dek, vector["subject_id"])

    assert cipher.open(*where, blob) == plaintext
    assert cipher._seal_v1_with_nonce(*where, plaintext, nonce) == blob

    expected_aad = aad("firststep/field/v1", *where, vector["subject_id"])
    assert expected_aad.hex() == vector["aad"]
    assert blob == b"\x01" + nonce + AESGCM(dek).encrypt(nonce, plaintext, expected_aad)


@pytest.mark.parametrize("vector", VECTORS["wrapped_dek"], ids=lambda v: str(v["kek_version"]))
def test_wrapped_dek_vectors(vector: dict[str, Any]) -> None:
    version = vector["kek_version"]
    kek = bytes.fromhex(vector["kek"])
    dek = bytes.fromhex(vector["dek"])
    nonce = bytes.fromhex(vector["nonce"])
    blob = bytes.fromhex(vector["blob"])
    subject = vector["subject_id"]
    # The vector KEK sits in a ring with another, non-primary version, as in production.
    other = 1 if version != 1 else 2
    ring = KeyRing({version: kek, other: FILLER_KEK}, other, {1: FILLER_PEPPER}, 1)

    assert wrapped_kek_version(blob) == version
    assert unwrap_dek(ring, blob, subject) == dek
    assert _wrap_dek_with_nonce(ring, dek, subject, nonce, version) == blob

    expected_aad = aad("firststep/dek/v1", subject, str(version))
    assert expected_aad.hex() == vector["aad"]
    raw = AESGCM(kek).encrypt(nonce, dek, expected_aad)
    assert blob == b"\x01" + version.to_bytes(4, "big") + nonce + raw


@pytest.mark.parametrize(
    "vector",
    VECTORS["pseudonym"],
    ids=lambda v: f"p{v['pepper_version']}-{v['role']}-{v['telegram_id']}",
)
def test_pseudonym_vectors(vector: dict[str, Any]) -> None:
    version = vector["pepper_version"]
    pepper = bytes.fromhex(vector["pepper"])
    other = 1 if version != 1 else 2
    ring = KeyRing({1: FILLER_KEK}, 1, {version: pepper, other: FILLER_PEPPER}, other)
    expected = bytes.fromhex(vector["pseudonym"])

    assert pseudonym(ring, vector["role"], vector["telegram_id"], version=version) == expected
    assert (version, expected) in pseudonym_candidates(ring, vector["role"], vector["telegram_id"])
    message = f"tg-{vector['role']}:{vector['telegram_id']}".encode()
    assert hmac.digest(pepper, message, "sha256") == expected
