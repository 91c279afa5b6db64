"""Encrypt every payload Temporal stores: workflow inputs, results, updates, queries carry
complainants' names and phones, and Temporal keeps them in history and shows them in its UI.

AES-256-GCM; each payload names the key it was sealed with, so keys can rotate: new
payloads use the active key, old ones still open with the key they name.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import os
from typing import Sequence

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"


class CodecSettingsError(ValueError):
    pass


class EncryptionCodec(PayloadCodec):
    def __init__(self, keys: dict[str, bytes], active: str):
        if active not in keys:
            raise CodecSettingsError(f"GROUPDESK_CODEC_KEY_ID={active!r} is not one of GROUPDESK_CODEC_KEYS")
        self.keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.active = active

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        sealed = []
        for payload in payloads:
            nonce = os.urandom(12)
            data = self.keys[self.active].encrypt(nonce, payload.SerializeToString(), self.active.encode())
            sealed.append(Payload(metadata={"encoding": ENCODING, KEY_ID: self.active.encode()}, data=nonce + data))
        return sealed

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        opened = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                opened.append(payload)  # written before encryption was turned on
                continue
            kid = payload.metadata.get(KEY_ID, b"").decode()
            if kid not in self.keys:
                raise ValueError(f"payload sealed with key {kid!r}, which GROUPDESK_CODEC_KEYS no longer holds")
            plain = self.keys[kid].decrypt(payload.data[:12], payload.data[12:], kid.encode())
            opened.append(Payload.FromString(plain))
        return opened


def parse_keys(raw: str) -> dict[str, bytes]:
    """GROUPDESK_CODEC_KEYS: `id=base64key,id2=base64key`, each key 32 bytes (AES-256)."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        kid, sep, encoded = item.partition("=")
        if not sep or not kid.strip():
            raise CodecSettingsError(f"GROUPDESK_CODEC_KEYS: {item[:8]!r}... is not id=base64key")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise CodecSettingsError(f"GROUPDESK_CODEC_KEYS: key {kid!r} is not valid base64") from None
        if len(key) != 32:
            raise CodecSettingsError(f"GROUPDESK_CODEC_KEYS: key {kid!r} has {len(key)} bytes; AES-256 needs 32"
                                     " (make one with: python -c \"import os,base64;print(base64.b64encode("
                                     "os.urandom(32)).decode())\")")
        keys[kid.strip()] = key
    return keys


def codec_from_settings(settings) -> EncryptionCodec | None:
    """The codec of GROUPDESK_CODEC_KEYS (None: no encryption), its keys derived once per process: the start
    checks, the worker, its client and each /codec request share one (a wrong setting raises every time)."""
    return _codec(settings.codec_keys, settings.codec_key_id)


@functools.lru_cache(maxsize=8)  # by the settings' text: a process holds one, tests a few
def _codec(codec_keys: str, codec_key_id: str) -> EncryptionCodec | None:
    keys = parse_keys(codec_keys)
    if not keys:
        return None
    return EncryptionCodec(keys, codec_key_id or next(iter(keys)))


def data_converter(settings) -> DataConverter:
    from temporalio.contrib.pydantic import pydantic_data_converter

    codec = codec_from_settings(settings)
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec) if codec else pydantic_data_converter
