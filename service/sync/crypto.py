"""Tokens at rest: Fernet (AES-128-CBC + HMAC-SHA256) under keys from ``VAGUS_SYNC_KEYS``.

The keys are comma-separated, newest first. :class:`MultiFernet` encrypts with the
first and decrypts with any, so a new key is rotated in by putting it in front;
:func:`Vault.rotate` re-encrypts a stored value under it, after which the old key
can be dropped. A value that no key opens raises :class:`KeyMissing`, whose
message names no part of the value.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class KeyMissing(RuntimeError):
    """No sync key is configured, or none of them opens a stored value."""


class Vault:
    def __init__(self, keys: str) -> None:
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        if not parts:
            raise KeyMissing(
                "VAGUS_SYNC_KEYS is not set: cloud sync needs a Fernet key "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            )
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in parts])
        except ValueError:
            raise KeyMissing(
                "VAGUS_SYNC_KEYS holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken:
            raise KeyMissing(
                "a stored sync secret opens with none of VAGUS_SYNC_KEYS "
                "(was a key dropped before its values were rotated?)"
            ) from None

    def rotate(self, sealed: str) -> str:
        """``sealed`` re-encrypted under the newest key."""
        try:
            return self._fernet.rotate(sealed.encode()).decode()
        except InvalidToken:
            raise KeyMissing("a stored sync secret opens with none of VAGUS_SYNC_KEYS") from None
