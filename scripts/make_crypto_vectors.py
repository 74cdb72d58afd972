"""Write frozen known-answer vectors for storage.crypto: tests/storage/vectors/
envelope_v1.json (every format 1), and field_v2.json (padded field format 2, with
--field-v2).

Run once when a format is introduced and commit the output; never regenerate to
make a failing test pass.  If ``tests/storage/test_crypto_vectors.py`` fails, the
on-disk format changed and existing databases would no longer decrypt: either
restore the old behaviour or introduce a new format byte and a new vectors file.

Keys and nonces are derived from public labels (SHA-256), so they are test-only
and the output is reproducible byte for byte.

    .venv/bin/python scripts/make_crypto_vectors.py [--check] [--field-v2]
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from storage.crypto import (
    FieldCipher,
    KeyRing,
    RoleName,
    _wrap_dek_with_nonce,
    aad,
    pseudonym,
)

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "storage" / "vectors"
OUT = VECTORS / "envelope_v1.json"
FIELD_V2_OUT = VECTORS / "field_v2.json"


def fixed(label: str, size: int = 32) -> bytes:
    """Deterministic test-only bytes from a public label."""
    return hashlib.sha256(f"firststep test vector: {label}".encode()).digest()[:size]


AAD_CASES: list[list[str]] = [
    ["ab", "c"],
    ["a", "bc"],
    [],
    [""],
    ["firststep/field/v1", "disclosure", "free_text", "row", "subject"],
    ["héllo", "日本", "🙂"],
]

FIELD_CASES: list[dict[str, object]] = [
    {"table": "disclosure", "column": "free_text", "plaintext": b""},
    {"table": "disclosure", "column": "free_text", "plaintext": b"I drink most days"},
    {"table": "disclosure", "column": "substances", "plaintext": b"\xff\xfe\x00\x80\xc3(non-utf8"},
    {"table": "subject", "column": "chat_ref", "plaintext": b"1099511627775"},
    {"table": "disclosure", "column": "free_text", "plaintext": "Ça va 🙂 日本語".encode()},
    {"table": "outbox", "column": "params", "plaintext": bytes(range(256)) + bytes(44)},
]

DEK_CASES: list[dict[str, object]] = [
    {"kek_version": 1, "subject": "0b4f8c1e-3c1d-4a53-9e43-1f0f3a9f6b21"},
    {"kek_version": 2, "subject": "0b4f8c1e-3c1d-4a53-9e43-1f0f3a9f6b21"},
    {"kek_version": 70000, "subject": "d2f1a0c4-8e5b-4a8e-a4a1-6e0e2c2b9f10"},
]

PSEUDONYM_CASES: list[tuple[int, RoleName, int]] = [
    (1, "user", 1),
    (1, "user", 1_000_000_000),
    (1, "mentor", 1_000_000_000),
    (1, "user", 1_000_000_000_000),
    (1, "user", 2**40 - 1),
    (2, "user", 1_000_000_000),
    (2, "mentor", 2**40 - 1),
]


def build() -> dict[str, object]:
    aad_vectors = [{"parts": parts, "aad": aad(*parts).hex()} for parts in AAD_CASES]

    field_vectors = []
    for i, case in enumerate(FIELD_CASES):
        dek = fixed(f"dek {i % 2}")
        subject = f"subject-{i % 3}"
        row_id = f"00000000-0000-4000-8000-{i:012d}"
        nonce = fixed(f"field nonce {i}", 12)
        table, column = str(case["table"]), str(case["column"])
        plaintext = case["plaintext"]
        assert isinstance(plaintext, bytes)
        cipher = FieldCipher(dek, subject)
        blob = cipher._seal_v1_with_nonce(table, column, row_id, plaintext, nonce)
        field_vectors.append(
            {
                "dek": dek.hex(),
                "subject_id": subject,
                "table": table,
                "column": column,
                "row_id": row_id,
                "nonce": nonce.hex(),
                "aad": aad("firststep/field/v1", table, column, row_id, subject).hex(),
                "plaintext": plaintext.hex(),
                "blob": blob.hex(),
            }
        )

    dek_vectors = []
    for i, case in enumerate(DEK_CASES):
        version = case["kek_version"]
        subject = str(case["subject"])
        assert isinstance(version, int)
        kek = fixed(f"kek {version}")
        ring = KeyRing({version: kek}, version, {1: fixed("pepper 1")}, 1)
        dek = fixed(f"wrapped dek {i}")
        nonce = fixed(f"wrap nonce {i}", 12)
        blob = _wrap_dek_with_nonce(ring, dek, subject, nonce, version)
        dek_vectors.append(
            {
                "kek_version": version,
                "kek": kek.hex(),
                "subject_id": subject,
                "nonce": nonce.hex(),
                "aad": aad("firststep/dek/v1", subject, str(version)).hex(),
                "dek": dek.hex(),
                "blob": blob.hex(),
            }
        )

    peppers = {v: fixed(f"pepper {v}") for v in (1, 2)}
    pseudonym_vectors = []
    for version, role, telegram_id in PSEUDONYM_CASES:
        ring = KeyRing({1: fixed("kek 1")}, 1, peppers, version)
        value = pseudonym(ring, role, telegram_id)
        pseudonym_vectors.append(
            {
                "pepper_version": version,
                "pepper": peppers[version].hex(),
                "role": role,
                "telegram_id": telegram_id,
                "pseudonym": value.hex(),
            }
        )

    return {
        "description": (
            "Frozen First Step envelope vectors, format v1. Test-only keys derived from "
            "public labels. Generated once by scripts/make_crypto_vectors.py; never edit."
        ),
        "formats": {
            "aad": "u32be(len(p)) || p for each part (str as UTF-8)",
            "field": "0x01 || nonce(12) || AESGCM(dek).encrypt(nonce, pt, "
            "aad('firststep/field/v1', table, column, row_id, subject_id))",
            "wrapped_dek": "0x01 || u32be(kek_version) || nonce(12) || AESGCM(kek).encrypt("
            "nonce, dek, aad('firststep/dek/v1', subject_id, str(kek_version)))",
            "pseudonym": "HMAC-SHA256(pepper, 'tg-' + role + ':' + str(telegram_id))",
        },
        "aad": aad_vectors,
        "field": field_vectors,
        "wrapped_dek": dek_vectors,
        "pseudonym": pseudonym_vectors,
    }


# Format 2 pads to 64-byte buckets: the cases sit on both sides of each bucket's edge.
FIELD_V2_LENGTHS = [0, 1, 17, 59, 60, 61, 124, 125, 300]


def build_field_v2() -> dict[str, object]:
    vectors = []
    for i, length in enumerate(FIELD_V2_LENGTHS):
        dek = fixed(f"v2 dek {i % 2}")
        subject = f"subject-{i % 3}"
        row_id = f"00000000-0000-4000-8000-{i:012d}"
        nonce = fixed(f"v2 field nonce {i}", 12)
        plaintext = (fixed(f"v2 plaintext {i}", 32) * 10)[:length]
        blob = FieldCipher(dek, subject)._seal_with_nonce(
            "disclosures", "value", row_id, plaintext, nonce
        )
        vectors.append(
            {
                "dek": dek.hex(),
                "subject_id": subject,
                "table": "disclosures",
                "column": "value",
                "row_id": row_id,
                "nonce": nonce.hex(),
                "aad": aad("firststep/field/v2", "disclosures", "value", row_id, subject).hex(),
                "plaintext": plaintext.hex(),
                "blob": blob.hex(),
            }
        )
    return {
        "description": (
            "Frozen First Step field vectors, format 2 (padded). Test-only keys derived "
            "from public labels. Generated once by scripts/make_crypto_vectors.py "
            "--field-v2; never edit."
        ),
        "format": "0x02 || nonce(12) || AESGCM(dek).encrypt(nonce, u32be(len(pt)) || pt || "
        "zeros to a multiple of 64, aad('firststep/field/v2', table, column, row_id, "
        "subject_id))",
        "field": vectors,
    }


def main(argv: list[str]) -> int:
    if "--field-v2" in argv:
        return write(FIELD_V2_OUT, build_field_v2(), argv)
    return write(OUT, build(), argv)


def write(out: Path, built: dict[str, object], argv: list[str]) -> int:
    text = json.dumps(built, indent=2, ensure_ascii=False) + "\n"
    if "--check" in argv:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        print("vectors match" if same else "vectors DIFFER from current code")
        return 0 if same else 1
    if out.exists() and "--force" not in argv:
        print(f"{out} exists; frozen vectors are not regenerated (use --check)")
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
