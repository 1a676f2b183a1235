"""The service's payload encryption (``docs/worker-protocol.md``, "Payload encryption"): a handler worker must read
what the service wrote and write what it reads. The same format as the service's codec: AES-256-GCM over the whole
serialized ``Payload``, data ``IV ‖ ciphertext ‖ tag``, metadata ``encoding`` and ``encryption-key-id``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCRYPTED_ENCODING = b"binary/encrypted"
KEY_ID_FIELD = "encryption-key-id"
_IV_BYTES = 12
_HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")
_BASE64_KEY = re.compile(r"^[A-Za-z0-9+/]{43}=?$")


class PayloadKeyInvalidError(ValueError):
    """Raised by :func:`parse_payload_key` for a key that is not 32 bytes as hex or base64."""

    def __init__(self) -> None:
        super().__init__(
            "a payload encryption key must be 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)"
        )


class PayloadKeyUnknownError(ValueError):
    """Raised when decoding a payload encrypted with a key this worker was not given."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"a payload is encrypted with key {key_id}, which is not one this worker was given")
        self.key_id = key_id


def parse_payload_key(text: str) -> bytes:
    """The key as the service's ``PAYLOAD_ENCRYPTION_KEY`` takes it: 64 hex digits or base64 of 32 bytes."""
    trimmed = text.strip()
    key: bytes | None = None
    if _HEX_KEY.match(trimmed):
        key = bytes.fromhex(trimmed)
    elif _BASE64_KEY.match(trimmed):
        try:
            key = base64.b64decode(trimmed + "=" * (-len(trimmed) % 4), validate=True)
        except binascii.Error:
            key = None
    if key is None or len(key) != 32:
        raise PayloadKeyInvalidError()
    return key


def payload_key_id(key: bytes) -> str:
    """A key's public name: a digest, so the metadata says which key without revealing anything of it."""
    return hashlib.sha256(b"durable-jobs payload key\0" + key).hexdigest()[:16]


class PayloadEncryptionCodec(PayloadCodec):
    """Encrypts with ``key``; decrypts with it and ``older`` keys; plain payloads pass through as written."""

    def __init__(self, key: bytes, older: Iterable[bytes] = ()) -> None:
        self._current_id = payload_key_id(key).encode()
        self._current = AESGCM(key)
        self._keys = {payload_key_id(each): AESGCM(each) for each in [*older, key]}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        iv = os.urandom(_IV_BYTES)
        # AESGCM appends the 16-byte tag to the ciphertext: IV ‖ ciphertext ‖ tag, as the service writes.
        sealed = self._current.encrypt(iv, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_FIELD: self._current_id},
            data=iv + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
            return payload
        key_id = payload.metadata.get(KEY_ID_FIELD, b"").decode(errors="replace")
        key = self._keys.get(key_id)
        if key is None:
            raise PayloadKeyUnknownError(key_id)
        plain = Payload()
        plain.ParseFromString(key.decrypt(payload.data[:_IV_BYTES], payload.data[_IV_BYTES:], None))
        return plain
