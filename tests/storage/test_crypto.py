"""storage.crypto: field encryption, AAD and DEK wrapping (research tests C1–C5, C7).

Every tamper test asserts that decryption *raises*; none of them accept a
silent wrong answer.
"""

from __future__ import annotations

import base64
import copy
import os
import pickle
import random
import traceback
import uuid
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

import storage.crypto as crypto
from storage.crypto import (
    DEK_SIZE,
    CryptoError,
    FieldCipher,
    KeyRing,
    KeyVersionUnavailableError,
    aad,
    new_dek,
    rewrap_dek,
    unwrap_dek,
    wrap_dek,
    wrapped_kek_version,
)

SUBJECT = "6f1c2a7e-0c55-4d8e-9a57-1d1b1e6b9a10"
OTHER_SUBJECT = "a3b9d0f2-5b1e-4c4f-8d2e-7f6a5c4b3a21"
ROW = "3e1f9a4c-2b7d-4e6f-8a1b-0c9d8e7f6a5b"
OTHER_ROW = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
TABLE = "disclosure"
COLUMN = "free_text"

# One cipher shared by the property tests (hypothesis dislikes function-scoped fixtures).
_DEK = new_dek()
_CIPHER = FieldCipher(_DEK, SUBJECT)


@pytest.fixture
def dek() -> bytes:
    return new_dek()


@pytest.fixture
def cipher(dek: bytes) -> FieldCipher:
    return FieldCipher(dek, SUBJECT)


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate()


def flip(blob: bytes, bit: int) -> bytes:
    data = bytearray(blob)
    data[bit // 8] ^= 1 << (bit % 8)
    return bytes(data)


# ----------------------------------------------------------------------------- AAD


def test_aad_is_length_prefixed_big_endian() -> None:
    assert aad("ab", b"\x00") == b"\x00\x00\x00\x02ab" + b"\x00\x00\x00\x01\x00"
    assert aad() == b""
    assert aad("") == b"\x00\x00\x00\x00"


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (("ab", "c"), ("a", "bc")),
        (("a", ""), ("a",)),
        (("", "a"), ("a", "")),
        (("a\x00\x00\x00\x01b",), ("a", "b")),
        (("é",), (b"e\xcc\x81",)),  # NFC vs NFD are different bytes, so different AAD
    ],
)
def test_aad_distinct_part_lists_never_collide(
    left: tuple[str | bytes, ...], right: tuple[str | bytes, ...]
) -> None:
    assert aad(*left) != aad(*right)


def test_aad_str_is_utf8_and_equals_bytes_form() -> None:
    assert aad("日本") == aad("日本".encode())


@given(st.lists(st.binary(max_size=8), max_size=5), st.lists(st.binary(max_size=8), max_size=5))
@settings(database=None, max_examples=300)
def test_aad_is_injective(left: list[bytes], right: list[bytes]) -> None:
    assert (aad(*left) == aad(*right)) == (left == right)


def test_aad_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        aad("a", 1)  # type: ignore[arg-type]


def test_field_cipher_aad_matches_documented_layout(cipher: FieldCipher) -> None:
    """The inlined fast path must equal the public aad() of the documented parts."""
    expected = aad("firststep/field/v1", TABLE, COLUMN, ROW, SUBJECT)
    assert cipher._aad(TABLE, COLUMN, ROW) == expected
    assert aad("firststep/field/v1") == crypto._FIELD_AAD_PREFIX


# ------------------------------------------------------------------ C1 round trip


@given(st.binary(max_size=4096))
@settings(database=None, max_examples=300, deadline=None)
def test_c1_round_trip_random_bytes(plaintext: bytes) -> None:
    blob = _CIPHER.seal(TABLE, COLUMN, ROW, plaintext)
    body = len(blob) - (1 + 12 + 16)  # format 2: length and plaintext padded to 64 bytes
    assert body % 64 == 0 and len(plaintext) + 4 <= body < len(plaintext) + 4 + 64
    assert blob[0] == 0x02
    assert _CIPHER.open(TABLE, COLUMN, ROW, blob) == plaintext


@given(st.text(max_size=500))
@settings(database=None, max_examples=200, deadline=None)
def test_c1_round_trip_text(text: str) -> None:
    blob = _CIPHER.seal_text(TABLE, COLUMN, ROW, text)
    assert _CIPHER.open_text(TABLE, COLUMN, ROW, blob) == text


@pytest.mark.parametrize(
    "plaintext",
    [
        b"",
        b"\x00",
        b"\xff\xfe\x80\xc3(",  # not UTF-8
        os.urandom(4096),
        "Ça va 🙂 日本語".encode(),
    ],
    ids=["empty", "nul", "non-utf8", "4KB", "unicode"],
)
def test_c1_round_trip_edge_cases(cipher: FieldCipher, plaintext: bytes) -> None:
    assert cipher.open(TABLE, COLUMN, ROW, cipher.seal(TABLE, COLUMN, ROW, plaintext)) == plaintext


def test_c1_one_thousand_random_plaintexts(cipher: FieldCipher) -> None:
    rng = random.Random(20240501)
    for i in range(1000):
        plaintext = rng.randbytes(rng.randint(0, 4096))
        row = f"row-{i}"
        assert cipher.open(TABLE, COLUMN, row, cipher.seal(TABLE, COLUMN, row, plaintext)) == (
            plaintext
        )


def test_same_plaintext_seals_differently(cipher: FieldCipher) -> None:
    a = cipher.seal(TABLE, COLUMN, ROW, b"same")
    b = cipher.seal(TABLE, COLUMN, ROW, b"same")
    assert a != b
    assert a[1:13] != b[1:13]


def test_a_cipher_rebuilt_from_the_same_dek_opens(dek: bytes, cipher: FieldCipher) -> None:
    blob = cipher.seal(TABLE, COLUMN, ROW, b"persisted")
    assert FieldCipher(dek, SUBJECT).open(TABLE, COLUMN, ROW, blob) == b"persisted"


# -------------------------------------------------------------------- C2 row swap


@pytest.mark.parametrize(
    ("table", "column", "row_id"),
    [
        (TABLE, COLUMN, OTHER_ROW),
        (TABLE, "substances", ROW),
        ("subject", COLUMN, ROW),
        (TABLE + "x", COLUMN, ROW),
        (TABLE, COLUMN, ROW.upper()),
    ],
    ids=["other-row", "other-column", "other-table", "longer-table", "row-id-case"],
)
def test_c2_ciphertext_in_another_place_fails(
    cipher: FieldCipher, table: str, column: str, row_id: str
) -> None:
    blob = cipher.seal(TABLE, COLUMN, ROW, b"only for row 1")
    with pytest.raises(CryptoError):
        cipher.open(table, column, row_id, blob)


def test_c2_swapping_two_rows_blobs_fails_both_ways(cipher: FieldCipher) -> None:
    r1 = cipher.seal(TABLE, COLUMN, ROW, b"first")
    r2 = cipher.seal(TABLE, COLUMN, OTHER_ROW, b"second")
    with pytest.raises(CryptoError):
        cipher.open(TABLE, COLUMN, OTHER_ROW, r1)
    with pytest.raises(CryptoError):
        cipher.open(TABLE, COLUMN, ROW, r2)


def test_c2_boundary_shift_between_parts_fails(dek: bytes) -> None:
    """("ab","c") and ("a","bc") must not be interchangeable contexts."""
    cipher = FieldCipher(dek, SUBJECT)
    blob = cipher.seal("ab", "c", ROW, b"x")
    with pytest.raises(CryptoError):
        cipher.open("a", "bc", ROW, blob)


# ----------------------------------------------------------------- C3 subject swap


def test_c3_field_moved_to_another_subject_fails(dek: bytes) -> None:
    blob = FieldCipher(dek, SUBJECT).seal(TABLE, COLUMN, ROW, b"S1's disclosure")
    with pytest.raises(CryptoError):
        FieldCipher(new_dek(), OTHER_SUBJECT).open(TABLE, COLUMN, ROW, blob)


def test_c3_subject_is_bound_even_with_the_same_dek(dek: bytes) -> None:
    """The subject id is in the AAD, not only implied by the key."""
    blob = FieldCipher(dek, SUBJECT).seal(TABLE, COLUMN, ROW, b"S1's disclosure")
    with pytest.raises(CryptoError):
        FieldCipher(dek, OTHER_SUBJECT).open(TABLE, COLUMN, ROW, blob)


def test_c3_wrapped_dek_moved_to_another_subject_fails(ring: KeyRing, dek: bytes) -> None:
    wrapped = wrap_dek(ring, dek, SUBJECT)
    assert unwrap_dek(ring, wrapped, SUBJECT) == dek
    with pytest.raises(CryptoError) as info:
        unwrap_dek(ring, wrapped, OTHER_SUBJECT)
    assert not isinstance(info.value, KeyVersionUnavailableError)
    with pytest.raises(CryptoError):
        FieldCipher.from_wrapped(ring, wrapped, OTHER_SUBJECT)


# ----------------------------------------------------------------- C4 bit flips


def test_c4_every_bit_flip_of_a_field_blob_fails(cipher: FieldCipher) -> None:
    blob = cipher.seal(TABLE, COLUMN, ROW, b"a short disclosure, 40 bytes long......")
    opened = 0
    for bit in range(len(blob) * 8):
        try:
            cipher.open(TABLE, COLUMN, ROW, flip(blob, bit))
        except CryptoError:
            continue
        opened += 1
    assert opened == 0
    assert cipher.open(TABLE, COLUMN, ROW, blob)  # the untouched blob still opens


def test_c4_every_bit_flip_of_a_wrapped_dek_fails(ring: KeyRing, dek: bytes) -> None:
    # A ring that also holds v2, so a flipped version hint can find a real key.
    ring = ring.with_new_kek()[0]
    wrapped = wrap_dek(ring, dek, SUBJECT)
    assert len(wrapped) * 8 == 520
    for bit in range(len(wrapped) * 8):
        with pytest.raises(CryptoError):
            unwrap_dek(ring, flip(wrapped, bit), SUBJECT)
    assert unwrap_dek(ring, wrapped, SUBJECT) == dek


@pytest.mark.parametrize("part", ["table", "column", "row_id", "subject_id"])
def test_c4_every_bit_flip_of_each_aad_part_fails(dek: bytes, part: str) -> None:
    ctx = {"table": TABLE, "column": COLUMN, "row_id": ROW, "subject_id": SUBJECT}
    blob = FieldCipher(dek, SUBJECT).seal(TABLE, COLUMN, ROW, b"bound to its context")
    value = ctx[part]
    tried = 0
    for pos in range(len(value)):
        for bit in range(7):  # stay within ASCII so the part is still a valid str
            changed = dict(ctx)
            changed[part] = value[:pos] + chr(ord(value[pos]) ^ (1 << bit)) + value[pos + 1 :]
            cipher = FieldCipher(dek, changed["subject_id"])
            with pytest.raises(CryptoError):
                cipher.open(changed["table"], changed["column"], changed["row_id"], blob)
            tried += 1
    assert tried == 7 * len(value)


# ------------------------------------------------------- C5 truncate / extend / format


def test_c5_every_truncation_of_a_field_blob_fails(cipher: FieldCipher) -> None:
    blob = cipher.seal(TABLE, COLUMN, ROW, b"truncate me")
    for length in range(len(blob)):
        with pytest.raises(CryptoError):
            cipher.open(TABLE, COLUMN, ROW, blob[:length])


@pytest.mark.parametrize("suffix", [b"\x00", b"\x01", os.urandom(16)])
def test_c5_extended_field_blob_fails(cipher: FieldCipher, suffix: bytes) -> None:
    blob = cipher.seal(TABLE, COLUMN, ROW, b"extend me")
    with pytest.raises(CryptoError):
        cipher.open(TABLE, COLUMN, ROW, blob + suffix)


def test_c5_empty_and_header_only_blobs_fail(cipher: FieldCipher) -> None:
    for blob in (b"", b"\x01", b"\x01" + bytes(12), b"\x01" + bytes(27), b"\x01" + bytes(28)):
        with pytest.raises(CryptoError):
            cipher.open(TABLE, COLUMN, ROW, blob)


@pytest.mark.parametrize("fmt", [0x00, 0x03, 0x7F, 0xFF])
def test_c5_unknown_format_byte_fails(
    cipher: FieldCipher, ring: KeyRing, dek: bytes, fmt: int
) -> None:
    blob = cipher.seal(TABLE, COLUMN, ROW, b"format")
    with pytest.raises(CryptoError, match="unknown format"):
        cipher.open(TABLE, COLUMN, ROW, bytes([fmt]) + blob[1:])
    wrapped = wrap_dek(ring, dek, SUBJECT)
    with pytest.raises(CryptoError, match="unknown format"):
        unwrap_dek(ring, bytes([fmt]) + wrapped[1:], SUBJECT)
    with pytest.raises(CryptoError):
        wrapped_kek_version(bytes([fmt]) + wrapped[1:])


def test_c5_wrapped_dek_wrong_lengths_fail(ring: KeyRing, dek: bytes) -> None:
    wrapped = wrap_dek(ring, dek, SUBJECT)
    for blob in [wrapped[:n] for n in range(len(wrapped))] + [wrapped + b"\x00", b""]:
        with pytest.raises(CryptoError):
            unwrap_dek(ring, blob, SUBJECT)
        with pytest.raises(CryptoError):
            wrapped_kek_version(blob)


# --------------------------------------------------------------- C7 nonce freshness


def test_c7_fifty_thousand_seals_fresh_nonce_one_urandom_each(
    cipher: FieldCipher, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_urandom = os.urandom
    calls: list[int] = []
    handed_out: list[bytes] = []

    def spy(n: int) -> bytes:
        calls.append(n)
        value = real_urandom(n)
        handed_out.append(value)
        return value

    monkeypatch.setattr(os, "urandom", spy)
    n = 50_000
    nonces = [cipher.seal(TABLE, COLUMN, ROW, b"x")[1:13] for _ in range(n)]
    monkeypatch.undo()

    assert calls == [12] * n  # exactly one 12-byte urandom per seal, nothing else
    assert nonces == handed_out  # the nonce in the blob is the one urandom gave
    assert len(set(nonces)) == n


def test_c7_spy_would_catch_a_fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: with a stuck RNG the uniqueness assertion above would fail."""
    monkeypatch.setattr(os, "urandom", lambda n: bytes(n))
    cipher = FieldCipher(_DEK, SUBJECT)
    nonces = {cipher.seal(TABLE, COLUMN, ROW, b"x")[1:13] for _ in range(3)}
    assert len(nonces) == 1


def test_aesgcm_is_built_once_per_cipher(dek: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []

    def counting(key: bytes) -> AESGCM:
        built.append(len(key))
        return AESGCM(key)

    monkeypatch.setattr(crypto, "AESGCM", counting)
    cipher = FieldCipher(dek, SUBJECT)
    for i in range(20):
        cipher.open(TABLE, COLUMN, str(i), cipher.seal(TABLE, COLUMN, str(i), b"v"))
    assert built == [32]


# ---------------------------------------------------------------------- DEK wrapping


def test_new_dek_is_32_random_bytes() -> None:
    deks = {new_dek() for _ in range(100)}
    assert len(deks) == 100
    assert all(len(d) == DEK_SIZE for d in deks)


def test_wrapped_dek_layout(ring: KeyRing, dek: bytes) -> None:
    wrapped = wrap_dek(ring, dek, SUBJECT)
    assert len(wrapped) == 1 + 4 + 12 + 32 + 16
    assert wrapped[0] == 0x01
    assert wrapped[1:5] == (1).to_bytes(4, "big")
    assert wrapped_kek_version(wrapped) == 1
    assert dek not in wrapped
    assert wrap_dek(ring, dek, SUBJECT) != wrapped  # fresh nonce


def test_rewrap_keeps_the_dek_and_moves_to_primary(ring: KeyRing, dek: bytes) -> None:
    wrapped = wrap_dek(ring, dek, SUBJECT)
    ring2, v2 = ring.with_new_kek()
    ring2 = ring2.promote_kek(v2)
    rewrapped = rewrap_dek(ring2, wrapped, SUBJECT)
    assert wrapped_kek_version(rewrapped) == v2
    assert unwrap_dek(ring2, rewrapped, SUBJECT) == dek
    with pytest.raises(CryptoError):
        rewrap_dek(ring2, wrapped, OTHER_SUBJECT)


def test_forged_version_hint_fails(ring: KeyRing, dek: bytes) -> None:
    """The version is in the AAD, so pointing a blob at another real KEK fails."""
    ring2, v2 = ring.with_new_kek()
    wrapped = wrap_dek(ring2, dek, SUBJECT)
    forged = wrapped[:1] + v2.to_bytes(4, "big") + wrapped[5:]
    with pytest.raises(CryptoError):
        unwrap_dek(ring2, forged, SUBJECT)


def test_unknown_kek_version_is_a_distinct_crypto_error(ring: KeyRing, dek: bytes) -> None:
    wrapped = wrap_dek(ring, dek, SUBJECT)
    forged = wrapped[:1] + (7).to_bytes(4, "big") + wrapped[5:]
    with pytest.raises(KeyVersionUnavailableError) as info:
        unwrap_dek(ring, forged, SUBJECT)
    assert info.value.kek_version == 7
    assert isinstance(info.value, CryptoError)


@pytest.mark.parametrize("bad", [b"", bytes(16), bytes(31), bytes(33)])
def test_wrong_size_deks_are_refused(ring: KeyRing, bad: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_dek(ring, bad, SUBJECT)
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(bad, SUBJECT)


def test_empty_identifiers_are_refused(ring: KeyRing, dek: bytes, cipher: FieldCipher) -> None:
    with pytest.raises(ValueError, match="subject_id must not be empty"):
        FieldCipher(dek, "")
    with pytest.raises(ValueError, match="subject_id must not be empty"):
        wrap_dek(ring, dek, "")
    with pytest.raises(ValueError, match="subject_id must not be empty"):
        unwrap_dek(ring, wrap_dek(ring, dek, SUBJECT), "")
    for args in (("", COLUMN, ROW), (TABLE, "", ROW), (TABLE, COLUMN, "")):
        with pytest.raises(ValueError, match="must be non-empty"):
            cipher.seal(*args, b"x")
    with pytest.raises(TypeError):
        cipher.seal(TABLE, COLUMN, uuid.UUID(ROW), b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        FieldCipher(dek, uuid.UUID(SUBJECT))  # type: ignore[arg-type]


def test_from_wrapped_opens_what_the_dek_sealed(ring: KeyRing, dek: bytes) -> None:
    blob = FieldCipher(dek, SUBJECT).seal(TABLE, COLUMN, ROW, b"via the ring")
    cipher = FieldCipher.from_wrapped(ring, wrap_dek(ring, dek, SUBJECT), SUBJECT)
    assert cipher.open(TABLE, COLUMN, ROW, blob) == b"via the ring"


# -------------------------------------------------------- FieldCipher hygiene


def test_field_cipher_repr_reveals_nothing(dek: bytes, cipher: FieldCipher) -> None:
    for text in (repr(cipher), str(cipher), f"{cipher}", f"{cipher!r}"):
        assert text == "FieldCipher(<redacted>)"
        assert SUBJECT not in text
        assert dek.hex() not in text
        assert base64.b64encode(dek).decode() not in text


@pytest.mark.parametrize(
    "action",
    [
        pickle.dumps,
        lambda c: pickle.dumps(c, protocol=0),
        copy.copy,
        copy.deepcopy,
    ],
    ids=["pickle", "pickle-0", "copy", "deepcopy"],
)
def test_field_cipher_cannot_be_pickled_or_copied(
    cipher: FieldCipher, action: Callable[[FieldCipher], object]
) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        action(cipher)


def test_field_cipher_is_immutable_and_slotted(cipher: FieldCipher) -> None:
    assert not hasattr(cipher, "__dict__")
    with pytest.raises(AttributeError):
        cipher._aad_tail = b"other"
    with pytest.raises(AttributeError):
        cipher.extra = 1
    with pytest.raises(AttributeError):
        del cipher._aead


# ------------------------------------------------- CryptoError carries no secrets


CANARY = b"CANARY-heroin-since-2019-CANARY"


def _rendered(exc: BaseException) -> str:
    """Everything a logger could print for this exception, traceback included."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)


def _assert_clean(exc: BaseException, *secrets: bytes) -> None:
    text = _rendered(exc)
    for secret in (CANARY, *secrets):
        for form in (secret.hex(), base64.b64encode(secret).decode(), repr(secret)[2:-1]):
            assert form not in text
    assert "CANARY" not in text
    assert exc.__context__ is None
    assert exc.__cause__ is None


def test_crypto_errors_carry_no_plaintext_ciphertext_or_keys(ring: KeyRing, dek: bytes) -> None:
    cipher = FieldCipher(dek, SUBJECT)
    blob = cipher.seal(TABLE, COLUMN, ROW, CANARY)
    wrapped = wrap_dek(ring, dek, SUBJECT)
    failures: list[Callable[[], object]] = [
        lambda: cipher.open(TABLE, COLUMN, OTHER_ROW, blob),
        lambda: cipher.open(TABLE, COLUMN, ROW, flip(blob, 200)),
        lambda: cipher.open(TABLE, COLUMN, ROW, blob[:-1]),
        lambda: cipher.open(TABLE, COLUMN, ROW, b"\x03" + blob[1:]),
        lambda: cipher.open(TABLE, COLUMN, ROW, b"\x01" + blob[1:]),
        lambda: unwrap_dek(ring, wrapped, OTHER_SUBJECT),
        lambda: unwrap_dek(KeyRing.generate(), wrapped, SUBJECT),
        lambda: unwrap_dek(ring, wrapped[:1] + b"\x00\x00\x00\x09" + wrapped[5:], SUBJECT),
    ]
    for failing in failures:
        with pytest.raises(CryptoError) as info:
            failing()
        _assert_clean(info.value, blob, wrapped, dek)
        assert "\n" not in str(info.value)


def test_open_text_of_non_utf8_hides_the_bytes(cipher: FieldCipher) -> None:
    """A UnicodeDecodeError would quote plaintext bytes; it must not leak through."""
    blob = cipher.seal(TABLE, COLUMN, ROW, b"\xff" + CANARY)
    with pytest.raises(CryptoError, match="not UTF-8") as info:
        cipher.open_text(TABLE, COLUMN, ROW, blob)
    _assert_clean(info.value, blob)
    assert "0xff" not in _rendered(info.value)
