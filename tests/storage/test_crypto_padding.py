"""Sealed answers all have one length, so a stolen backup cannot tell them apart
(issue 15, 2: unpadded, alcohol sealed to 36 bytes and crack/cocaine to 42).

Every possible answer of every question goes through the real step (the person's
transaction seals it) and the stored ciphertext's length is read from the database.
Format 1 blobs already stored are still read.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conversations.person.disclosure import QUESTIONS
from storage.crypto import PAD_BUCKET, CryptoError, FieldCipher, KeyRing, new_dek
from storage.db import Database
from storage.models import Disclosure
from storage.repositories.people import person_transaction
from tests.support.ops import T0, make_person

ALEX = 7_700_001_502
VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "field_v2.json").read_text(encoding="utf-8")
)


def every_answer(options: tuple[str, ...], multi: bool) -> list[str]:
    """What the flow stores: one code, or any non-empty choice joined in options order."""
    if not multi:
        return list(options)
    return [
        ",".join(chosen)
        for size in range(1, len(options) + 1)
        for chosen in combinations(options, size)
    ]


async def test_every_answer_of_every_question_seals_to_one_length(
    database: Database, ring: KeyRing
) -> None:
    await make_person(database, ring, ALEX, disclosures={})
    lengths: dict[str, set[int]] = {}
    for question in QUESTIONS:
        for answer in every_answer(question.options, question.multi):
            async with person_transaction(database, ring, ALEX, T0) as tx:
                assert tx.person is not None
                await tx.move(tx.person.state, disclosures={question.field: answer})
            async with database.engine.connect() as connection:
                stored = await connection.execute(
                    select(Disclosure.value_ct).where(Disclosure.field == question.field)
                )
                lengths.setdefault(question.field, set()).add(len(stored.scalar_one()))
    assert set(lengths) == {q.field for q in QUESTIONS}
    assert {length for found in lengths.values() for length in found} == {1 + 12 + 16 + 64}


def test_lengths_fall_in_64_byte_buckets_and_round_trip() -> None:
    cipher = FieldCipher(new_dek(), "subject")
    for size in range(0, 400):
        plaintext = bytes([size % 251]) * size
        blob = cipher.seal("t", "c", "r", plaintext)
        assert (len(blob) - 29) % PAD_BUCKET == 0
        assert len(blob) - 29 >= size + 4
        assert len(blob) - 29 < size + 4 + PAD_BUCKET
        assert cipher.open("t", "c", "r", blob) == plaintext


def test_padding_is_authenticated() -> None:
    """A body whose length says more than it holds, or with bytes in the padding, is
    refused even though the tag is right (sealed here by hand with the same key)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from storage.crypto import aad

    dek = new_dek()
    cipher = FieldCipher(dek, "subject")
    nonce = bytes(12)
    ad = aad("firststep/field/v2", "t", "c", "r", "subject")
    for body in (
        (70).to_bytes(4, "big") + b"x" * 60,  # says 70 bytes, holds 60
        (2).to_bytes(4, "big") + b"ok" + b"\x01" + bytes(57),  # padding not zero
        (2).to_bytes(4, "big") + b"ok" + bytes(10),  # not a whole bucket
    ):
        blob = b"\x02" + nonce + AESGCM(dek).encrypt(nonce, body, ad)
        with pytest.raises(CryptoError):
            cipher.open("t", "c", "r", blob)


@pytest.mark.parametrize("vector", VECTORS["field"], ids=lambda v: v["row_id"][-4:])
def test_field_v2_vectors(vector: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from storage.crypto import aad

    dek = bytes.fromhex(vector["dek"])
    nonce = bytes.fromhex(vector["nonce"])
    plaintext = bytes.fromhex(vector["plaintext"])
    blob = bytes.fromhex(vector["blob"])
    where = (vector["table"], vector["column"], vector["row_id"])
    cipher = FieldCipher(dek, vector["subject_id"])
    assert cipher.open(*where, blob) == plaintext
    assert cipher._seal_with_nonce(*where, plaintext, nonce) == blob
    expected_aad = aad("firststep/field/v2", *where, vector["subject_id"])
    assert expected_aad.hex() == vector["aad"]
    body = len(plaintext).to_bytes(4, "big") + plaintext
    body += bytes(-len(body) % 64)
    assert blob == b"\x02" + nonce + AESGCM(dek).encrypt(nonce, body, expected_aad)
