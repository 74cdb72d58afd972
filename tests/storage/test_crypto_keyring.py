"""storage.crypto key ring: file handling, JSON, rotation (C8) and pseudonyms (P2–P4)."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import pickle
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.crypto import (
    CryptoError,
    FieldCipher,
    KeyRing,
    KeyRingError,
    KeyVersionUnavailableError,
    Role,
    new_dek,
    pseudonym,
    pseudonym_candidates,
    rewrap_dek,
    unwrap_dek,
    wrap_dek,
    wrapped_kek_version,
)

TEST_IDS = [1_000_000_007, 1_000_000_000_003, 2**40 - 1]


def key(n: int) -> bytes:
    return hashlib.sha256(f"test key {n}".encode()).digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def ring_json(**changes: object) -> str:
    doc: dict[str, object] = {
        "format": 1,
        "keks": {"1": b64(key(1))},
        "primary_kek": 1,
        "peppers": {"1": b64(key(2))},
        "primary_pepper": 1,
    }
    doc.update(changes)
    return json.dumps(doc)


def secrets_of(ring: KeyRing) -> list[bytes]:
    doc = json.loads(ring.to_json())
    return [base64.b64decode(v) for group in ("keks", "peppers") for v in doc[group].values()]


def assert_no_key_material(text: str, ring_or_keys: KeyRing | list[bytes]) -> None:
    keys = secrets_of(ring_or_keys) if isinstance(ring_or_keys, KeyRing) else ring_or_keys
    for raw in keys:
        for form in (b64(raw), raw.hex(), repr(raw), b64(raw)[:12], raw.hex()[:16]):
            assert form not in text


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
def old_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# ------------------------------------------------------------------- construction


def test_generate_has_one_primary_kek_and_pepper(ring: KeyRing) -> None:
    assert ring.kek_versions == (1,)
    assert ring.pepper_versions == (1,)
    assert ring.primary_kek_version == 1
    assert ring.primary_pepper_version == 1
    keys = secrets_of(ring)
    assert len(keys) == 2
    assert all(len(k) == 32 for k in keys)
    assert keys[0] != keys[1]
    assert secrets_of(KeyRing.generate()) != keys


def test_to_json_has_the_documented_shape(ring: KeyRing) -> None:
    doc = json.loads(ring.to_json())
    assert set(doc) == {"format", "keks", "primary_kek", "peppers", "primary_pepper"}
    assert doc["format"] == 1
    assert doc["primary_kek"] == 1
    assert doc["primary_pepper"] == 1
    assert set(doc["keks"]) == {"1"}
    assert len(base64.b64decode(doc["keks"]["1"], validate=True)) == 32
    assert len(base64.b64decode(doc["peppers"]["1"], validate=True)) == 32


def test_json_round_trip_keeps_every_key(ring: KeyRing) -> None:
    ring, _ = ring.with_new_kek()
    ring, _ = ring.with_new_pepper()
    again = KeyRing.from_json(ring.to_json())
    assert again.to_json() == ring.to_json()
    dek = new_dek()
    assert unwrap_dek(again, wrap_dek(ring, dek, "s"), "s") == dek


def test_from_json_accepts_a_hand_written_ring() -> None:
    ring = KeyRing.from_json(ring_json())
    assert ring.kek_versions == (1,)
    expected = hmac.digest(key(2), b"tg-user:42", "sha256")
    assert pseudonym(ring, "user", 42) == expected


# ------------------------------------------------------------------- bad input


BAD_JSON = {
    "not-json": "{not json",
    "truncated": ring_json()[:-5],
    "array": "[]",
    "string": '"keks"',
    "missing-keks": json.dumps({"format": 1, "primary_kek": 1, "peppers": {}, "primary_pepper": 1}),
    "format-2": ring_json(format=2),
    "format-true": ring_json(format=True),
    "format-str": ring_json(format="1"),
    "short-kek": ring_json(keks={"1": b64(key(1)[:31])}),
    "long-kek": ring_json(keks={"1": b64(key(1) + b"x")}),
    "short-pepper": ring_json(peppers={"1": b64(key(2)[:16])}),
    "not-base64": ring_json(keks={"1": "!!!!" + b64(key(1))[4:]}),
    "base64-with-space": ring_json(keks={"1": b64(key(1))[:20] + " " + b64(key(1))[20:]}),
    "key-not-string": ring_json(keks={"1": 12345}),
    "keks-not-object": ring_json(keks=[b64(key(1))]),
    "empty-keks": ring_json(keks={}),
    "missing-primary-kek": ring_json(primary_kek=2),
    "missing-primary-pepper": ring_json(primary_pepper=3),
    "primary-bool": ring_json(primary_kek=True),
    "primary-str": ring_json(primary_kek="1"),
    "version-zero": ring_json(keks={"0": b64(key(1))}, primary_kek=0),
    "version-leading-zero": ring_json(keks={"01": b64(key(1))}),
    "version-negative": ring_json(keks={"-1": b64(key(1))}),
    "version-word": ring_json(keks={"one": b64(key(1))}),
    "version-too-big": ring_json(keks={"4294967296": b64(key(1))}, primary_kek=4294967296),
    "version-is-a-key": ring_json(keks={b64(key(1)): "1"}),
    "duplicate-version": ring_json().replace(
        f'"keks": {{"1": "{b64(key(1))}"}}',
        f'"keks": {{"1": "{b64(key(1))}", "1": "{b64(key(3))}"}}',
    ),
    "unknown-entry": ring_json(primary_keks=1),
    "key-as-entry-name": ring_json(**{b64(key(3)): 1}),
    "same-key-twice": ring_json(peppers={"1": b64(key(1))}),
    "retired-and-present": ring_json(retired_keks=[1]),
    "retired-not-list": ring_json(retired_keks=2),
}


@pytest.mark.parametrize("text", list(BAD_JSON.values()), ids=list(BAD_JSON))
def test_bad_key_ring_json_is_refused_with_one_clean_line(text: str) -> None:
    with pytest.raises(KeyRingError) as info:
        KeyRing.from_json(text)
    message = str(info.value)
    assert message
    assert "\n" not in message
    assert_no_key_material(message, [key(1), key(2), key(3), key(1)[:31], key(1) + b"x"])
    # JSONDecodeError keeps the whole document; it must not ride along.
    assert info.value.__context__ is None


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33), "x" * 32])
def test_constructor_refuses_wrong_key_sizes(bad: object) -> None:
    with pytest.raises(KeyRingError, match="32 bytes"):
        KeyRing({1: bad}, 1, {1: key(2)}, 1)  # type: ignore[dict-item]
    with pytest.raises(KeyRingError, match="32 bytes"):
        KeyRing({1: key(1)}, 1, {1: bad}, 1)  # type: ignore[dict-item]


def test_constructor_refuses_a_missing_primary() -> None:
    with pytest.raises(KeyRingError, match="primary KEK"):
        KeyRing({1: key(1)}, 2, {1: key(2)}, 1)
    with pytest.raises(KeyRingError, match="primary pepper"):
        KeyRing({1: key(1)}, 1, {1: key(2)}, 2)


# ------------------------------------------------------------------- redaction


def test_repr_and_str_show_versions_only(ring: KeyRing) -> None:
    ring, _ = ring.with_new_kek()
    for text in (repr(ring), str(ring), f"{ring}", f"{ring!r}"):
        assert text == "KeyRing(keks=[1, 2], primary_kek=1, peppers=[1], primary_pepper=1)"
        assert_no_key_material(text, ring)


@pytest.mark.parametrize("action", [pickle.dumps, copy.copy, copy.deepcopy])
def test_key_ring_cannot_be_pickled(ring: KeyRing, action: object) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        action(ring)  # type: ignore[operator]


def test_key_ring_is_immutable(ring: KeyRing) -> None:
    with pytest.raises(AttributeError):
        ring._primary_kek = 2
    with pytest.raises(AttributeError):
        ring.anything = 1
    with pytest.raises(TypeError):
        ring._keks[2] = key(9)  # type: ignore[index]
    with pytest.raises(AttributeError):
        del ring._keks


# ------------------------------------------------------------------- file handling


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_save_writes_0600_and_creates_parents(
    tmp_path: Path, ring: KeyRing, old_umask: None
) -> None:
    """Even with umask 0 the file must come out 0600."""
    path = tmp_path / "deep" / "er" / "keyring.json"
    ring.save(path)
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert mode_of(path.parent.parent) == 0o700  # intermediate directories too
    assert KeyRing.load(path).to_json() == ring.to_json()
    assert sorted(p.name for p in path.parent.iterdir()) == ["keyring.json"]  # no temp left


def test_save_never_overwrites_unless_told(tmp_path: Path, ring: KeyRing) -> None:
    path = tmp_path / "keyring.json"
    ring.save(path)
    before = path.read_bytes()
    other = KeyRing.generate()
    with pytest.raises(KeyRingError, match="already exists") as info:
        other.save(path)
    assert "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keyring.json"]
    other.save(path, overwrite=True)
    assert mode_of(path) == 0o600
    assert KeyRing.load(path).to_json() == other.to_json()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keyring.json"]


def test_save_never_clobbers_a_file_created_while_it_writes(
    tmp_path: Path, ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `keys init` racing: the one that loses must not replace the winner's ring."""
    path = tmp_path / "keyring.json"
    winner = KeyRing.generate()
    real_fsync = os.fsync
    fired: list[bool] = []

    def fsync_then_lose_the_race(fd: int) -> None:
        real_fsync(fd)
        if not fired:
            fired.append(True)
            winner.save(path)  # the other process finishes first

    monkeypatch.setattr(os, "fsync", fsync_then_lose_the_race)
    with pytest.raises(KeyRingError, match="already exists"):
        ring.save(path)
    monkeypatch.undo()
    assert KeyRing.load(path).to_json() == winner.to_json()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keyring.json"]


def test_save_refuses_even_an_empty_existing_file(tmp_path: Path, ring: KeyRing) -> None:
    path = tmp_path / "keyring.json"
    path.touch()
    with pytest.raises(KeyRingError, match="already exists"):
        ring.save(path)
    assert path.read_bytes() == b""


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o666, 0o700 | 0o004])
def test_load_refuses_group_or_world_access(tmp_path: Path, ring: KeyRing, mode: int) -> None:
    path = tmp_path / "keyring.json"
    ring.save(path)
    path.chmod(mode)
    with pytest.raises(KeyRingError) as info:
        KeyRing.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert f"{mode:04o}" in message
    assert f"chmod 600 {path}" in message
    assert_no_key_material(message, ring)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_load_accepts_owner_only_modes(tmp_path: Path, ring: KeyRing, mode: int) -> None:
    path = tmp_path / "keyring.json"
    ring.save(path)
    path.chmod(mode)
    assert KeyRing.load(path).to_json() == ring.to_json()


def test_load_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="firststep keys init") as info:
        KeyRing.load(tmp_path / "nope.json")
    assert "\n" not in str(info.value)


def test_load_refuses_a_directory(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir(mode=0o700)
    with pytest.raises(KeyRingError, match="not a regular file"):
        KeyRing.load(folder)


def test_load_refuses_bad_content_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, ring_json(keks={"1": b64(key(1)[:20])}).encode())
    os.close(fd)
    with pytest.raises(KeyRingError, match="32 bytes") as info:
        KeyRing.load(path)
    assert "\n" not in str(info.value)


def test_load_refuses_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"\xff\xfe{}")
    os.close(fd)
    with pytest.raises(KeyRingError, match="UTF-8"):
        KeyRing.load(path)


# ------------------------------------------------------------------- rotation API


def test_new_kek_is_added_but_not_primary(ring: KeyRing) -> None:
    ring2, version = ring.with_new_kek()
    assert version == 2
    assert ring2.kek_versions == (1, 2)
    assert ring2.primary_kek_version == 1
    assert ring.kek_versions == (1,)  # the original ring is untouched
    assert wrapped_kek_version(wrap_dek(ring2, new_dek(), "s")) == 1


def test_promote_and_retire_kek(ring: KeyRing) -> None:
    ring2, v2 = ring.with_new_kek()
    promoted = ring2.promote_kek(v2)
    assert promoted.primary_kek_version == 2
    retired = promoted.retire_kek(1)
    assert retired.kek_versions == (2,)
    assert retired.retired_kek_versions == (1,)


def test_retiring_the_primary_is_refused(ring: KeyRing) -> None:
    with pytest.raises(KeyRingError, match="primary") as info:
        ring.retire_kek(1)
    assert "\n" not in str(info.value)
    with pytest.raises(KeyRingError, match="primary"):
        ring.retire_pepper(1)
    ring2, v2 = ring.with_new_kek()
    with pytest.raises(KeyRingError, match="primary"):
        ring2.promote_kek(v2).retire_kek(v2)


def test_unknown_versions_are_refused(ring: KeyRing) -> None:
    for change in (ring.promote_kek, ring.retire_kek, ring.promote_pepper, ring.retire_pepper):
        with pytest.raises(KeyRingError, match="not in the key ring"):
            change(5)


def test_retired_version_numbers_are_never_reused(ring: KeyRing) -> None:
    ring, v2 = ring.with_new_kek()
    ring = ring.retire_kek(v2)  # aborted rotation: v2 added, then dropped
    ring, v3 = ring.with_new_kek()
    assert v3 == 3
    ring, p2 = ring.with_new_pepper()
    ring = ring.retire_pepper(p2)
    assert ring.with_new_pepper()[1] == 3
    again = KeyRing.from_json(ring.to_json())  # remembered across save/load
    assert again.retired_kek_versions == (2,)
    assert again.retired_pepper_versions == (2,)
    assert again.with_new_kek()[1] == 4


# ------------------------------------------------------------------- C8 KEK rotation


def test_c8_rotation_without_downtime() -> None:
    ring_v1 = KeyRing.generate()
    subjects = [f"subject-{i:04d}" for i in range(300)]
    deks = {s: new_dek() for s in subjects}
    sealed = {
        s: FieldCipher(deks[s], s).seal("disclosure", "free_text", "r", s.encode())
        for s in subjects
    }
    store = {s: wrap_dek(ring_v1, deks[s], s) for s in subjects}
    assert {wrapped_kek_version(b) for b in store.values()} == {1}

    def readers_see_everything(ring: KeyRing) -> None:
        for s in subjects:
            cipher = FieldCipher.from_wrapped(ring, store[s], s)
            assert cipher.open("disclosure", "free_text", "r", sealed[s]) == s.encode()

    # 1. add v2, not primary: every reader (old ring or new) still works.
    ring_added, v2 = ring_v1.with_new_kek()
    readers_see_everything(ring_v1)
    readers_see_everything(ring_added)
    # 2. promote v2: old wraps still unwrap; new wraps use v2.
    ring_promoted = ring_added.promote_kek(v2)
    readers_see_everything(ring_promoted)
    # 3. rewrap in the background, readers checked halfway through.
    for i, s in enumerate(subjects):
        store[s] = rewrap_dek(ring_promoted, store[s], s)
        if i == len(subjects) // 2:
            readers_see_everything(ring_promoted)
    assert sum(wrapped_kek_version(b) == 1 for b in store.values()) == 0
    # 4. retire v1: everything still opens, data ciphertexts were never touched.
    ring_retired = ring_promoted.retire_kek(1)
    assert ring_retired.kek_versions == (2,)
    readers_see_everything(ring_retired)
    assert all(unwrap_dek(ring_retired, store[s], s) == deks[s] for s in subjects)

    # A ring holding only v1 unwraps none of the rewrapped DEKs (cf. pyca test_rotate).
    for s in subjects:
        with pytest.raises(KeyVersionUnavailableError):
            unwrap_dek(ring_v1, store[s], s)
    # A ring with an unrelated v2 (no shared keys) fails too.
    stranger, _ = KeyRing.generate().with_new_kek()
    stranger = stranger.promote_kek(2)
    for s in subjects[:50]:
        with pytest.raises(CryptoError):
            unwrap_dek(stranger, store[s], s)

    with pytest.raises(KeyRingError):
        ring_retired.retire_kek(2)


# ------------------------------------------------------------------- pseudonyms


def test_pseudonym_is_hmac_sha256_of_the_documented_message() -> None:
    ring = KeyRing({1: key(1)}, 1, {1: key(2)}, 1)
    for tid in TEST_IDS:
        assert pseudonym(ring, "user", tid) == hmac.digest(
            key(2), f"tg-user:{tid}".encode(), "sha256"
        )
        assert pseudonym(ring, "mentor", tid) == hmac.digest(
            key(2), f"tg-mentor:{tid}".encode(), "sha256"
        )


def test_pseudonym_survives_a_save_load_round_trip(tmp_path: Path, ring: KeyRing) -> None:
    path = tmp_path / "keyring.json"
    ring.save(path)
    loaded = KeyRing.load(path)
    for tid in TEST_IDS:
        for role in ("user", "mentor"):
            assert pseudonym(loaded, role, tid) == pseudonym(ring, role, tid)
            assert len(pseudonym(ring, role, tid)) == 32


def test_pseudonym_enum_and_literal_agree(ring: KeyRing) -> None:
    assert pseudonym(ring, Role.USER, 5) == pseudonym(ring, "user", 5)
    assert pseudonym(ring, Role.MENTOR, 5) == pseudonym(ring, "mentor", 5)


def test_pseudonym_differs_per_role_per_pepper_and_per_ring(ring: KeyRing) -> None:
    ring2, p2 = ring.with_new_pepper()
    for tid in TEST_IDS:
        user, mentor = pseudonym(ring2, "user", tid), pseudonym(ring2, "mentor", tid)
        assert user != mentor
        assert pseudonym(ring2, "user", tid, version=p2) != user
        assert pseudonym(KeyRing.generate(), "user", tid) != user
        assert pseudonym(ring2, "user", tid + 1) != user
    values = {pseudonym(ring, "user", tid) for tid in range(1, 2001)}
    assert len(values) == 2000


def test_p4_pseudonym_is_not_an_unkeyed_hash(ring: KeyRing) -> None:
    for tid in TEST_IDS:
        unkeyed = {
            hashlib.sha256(str(tid).encode()).digest(),
            hashlib.sha256(tid.to_bytes(8, "big")).digest(),
            hashlib.sha256(tid.to_bytes(8, "little")).digest(),
            hashlib.sha256(f"tg-user:{tid}".encode()).digest(),
            hmac.digest(b"", f"tg-user:{tid}".encode(), "sha256"),
        }
        for role in ("user", "mentor"):
            assert pseudonym(ring, role, tid) not in unkeyed


def test_candidates_primary_first_then_newest_first() -> None:
    ring = KeyRing({1: key(1)}, 1, {1: key(2), 2: key(3), 3: key(4)}, 2)
    candidates = pseudonym_candidates(ring, "user", 42)
    assert [v for v, _ in candidates] == [2, 3, 1]
    for version, value in candidates:
        assert value == pseudonym(ring, "user", 42, version=version)
    assert candidates[0][1] == pseudonym(ring, "user", 42)


def test_p3_pepper_rotation_lazy_migration(ring: KeyRing) -> None:
    tid = TEST_IDS[0]
    stored_v1 = pseudonym(ring, "user", tid)
    ring2, p2 = ring.with_new_pepper()
    ring2 = ring2.promote_pepper(p2)
    candidates = pseudonym_candidates(ring2, "user", tid)
    assert [v for v, _ in candidates] == [2, 1]
    assert candidates[1][1] == stored_v1  # found via the v1 fallback
    migrated = candidates[0][1]
    ring3 = ring2.retire_pepper(1)
    assert pseudonym_candidates(ring3, "user", tid) == [(2, migrated)]
    with pytest.raises(KeyRingError, match="pepper version 1"):
        pseudonym(ring3, "user", tid, version=1)


@pytest.mark.parametrize(
    ("role", "tid", "error"),
    [
        ("admin", 5, ValueError),
        ("User", 5, ValueError),
        ("user", 0, ValueError),
        ("user", -5, ValueError),
        ("user", "5", TypeError),
        ("user", True, TypeError),
        ("user", 5.0, TypeError),
    ],
)
def test_pseudonym_rejects_bad_input(ring: KeyRing, role: str, tid: object, error: type) -> None:
    with pytest.raises(error):
        pseudonym(ring, role, tid)  # type: ignore[arg-type]
    with pytest.raises(error):
        pseudonym_candidates(ring, role, tid)  # type: ignore[arg-type]
