"""Where the key ring comes from: an environment variable (secret managers) or a 0600 file."""

from __future__ import annotations

from bot.settings import Settings
from storage.crypto import KeyRing


def load_keyring(settings: Settings) -> KeyRing:
    if settings.keyring_json is not None:
        return KeyRing.from_json(settings.keyring_json.get_secret_value())
    return KeyRing.load(settings.keyring)
