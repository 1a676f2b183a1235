"""The payload codec's format, as docs/worker-protocol.md specifies it (interop with the TypeScript codec is proved by
test/python-worker.test.ts, which encodes on one side and decodes on the other)."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from durable_jobs import PayloadKeyInvalidError, PayloadKeyUnknownError
from durable_jobs.payload_codec import PayloadEncryptionCodec, parse_payload_key, payload_key_id

pytestmark = pytest.mark.anyio

KEY = bytes(range(32))
OLD_KEY = bytes(range(1, 33))


def plain(value: object) -> Payload:
    return DataConverter.default.payload_converter.to_payloads([value])[0]


def test_keys_are_64_hex_digits_or_base64_of_32_bytes() -> None:
    assert parse_payload_key(KEY.hex()) == KEY
    assert parse_payload_key(KEY.hex().upper()) == KEY
    assert parse_payload_key(base64.b64encode(KEY).decode()) == KEY
    assert parse_payload_key(f"  {base64.b64encode(KEY).decode()}\n") == KEY
    for bad in ["", "abc", KEY.hex()[:-2], base64.b64encode(KEY[:31]).decode(), "z" * 64]:
        with pytest.raises(PayloadKeyInvalidError):
            parse_payload_key(bad)


def test_the_key_id_is_the_first_16_hex_digits_of_the_labelled_sha256() -> None:
    # sha256(b"durable-jobs payload key\0" + bytes(range(32))), as the service's payloadKeyId computes it.
    assert payload_key_id(KEY) == "b5822f79ad6d9e8d"


async def test_encode_is_aes_256_gcm_over_the_serialized_payload() -> None:
    codec = PayloadEncryptionCodec(KEY)
    original = plain({"steps": 3})
    [sealed] = await codec.encode([original])
    assert dict(sealed.metadata) == {"encoding": b"binary/encrypted", "encryption-key-id": payload_key_id(KEY).encode()}
    assert len(sealed.data) == 12 + len(original.SerializeToString()) + 16
    assert original.data not in sealed.data
    [again] = await codec.encode([original])
    assert again.data[:12] != sealed.data[:12], "a random IV each time"
    assert await codec.decode([sealed]) == [original]


async def test_plain_payloads_pass_through_and_older_keys_still_decrypt() -> None:
    old = PayloadEncryptionCodec(OLD_KEY)
    [written_before] = await old.encode([plain("old")])
    rotated = PayloadEncryptionCodec(KEY, [OLD_KEY])
    assert await rotated.decode([written_before, plain("clear")]) == [plain("old"), plain("clear")]
    with pytest.raises(PayloadKeyUnknownError, match=payload_key_id(OLD_KEY)):
        await PayloadEncryptionCodec(KEY).decode([written_before])
