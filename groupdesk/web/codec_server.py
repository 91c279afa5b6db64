"""The codec endpoint the Temporal UI calls to show decrypted payloads to people who may see them.

Its body is checked like any other: the Temporal UI sends `{"payloads": [{"metadata": {name: base64}, "data":
base64}]}`; anything else, or a payload that does not open with our keys, is a 4xx naming what is wrong."""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidTag
from fastapi import APIRouter, Depends, HTTPException, Request
from google.protobuf.message import DecodeError
from pydantic import Field, field_validator
from temporalio.api.common.v1 import Payload

from groupdesk.engine.codec import codec_from_settings
from groupdesk.web.auth import current_viewer
from groupdesk.web.bodies import StrictBody
from groupdesk.web.operations import bearer, token_matches
from groupdesk.web.errors import Invalid

router = APIRouter(prefix="/codec", include_in_schema=False)
MAX_PAYLOADS = 1000


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64; send the payload as the Temporal UI does") from None
    return value


class PayloadIn(StrictBody):
    metadata: dict[str, str] = Field(default_factory=dict, max_length=32)
    data: str = ""

    @field_validator("metadata")
    @classmethod
    def _encoded_values(cls, value: dict[str, str]) -> dict[str, str]:
        for item in value.values():
            _base64(item)
        return value

    @field_validator("data")
    @classmethod
    def _encoded_data(cls, value: str) -> str:
        return _base64(value)

    def payload(self) -> Payload:
        return Payload(metadata={k: base64.b64decode(v) for k, v in self.metadata.items()},
                       data=base64.b64decode(self.data))


class PayloadsIn(StrictBody):
    payloads: list[PayloadIn] = Field(max_length=MAX_PAYLOADS)


def _allowed(request: Request) -> None:
    settings = request.app.state.services.settings
    if token_matches(bearer(request), settings.codec_token):
        return
    viewer = current_viewer(request)
    if viewer is None:
        raise HTTPException(status_code=401, detail="sign in to the groupdesk console first")
    if not viewer.sees_everything:
        raise HTTPException(status_code=403, detail="only operators and ops may read decrypted histories")


def _out(payload: Payload) -> dict:
    return {"metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()},
            "data": base64.b64encode(payload.data).decode()}


async def _apply(request: Request, body: PayloadsIn, direction: str) -> dict:
    codec = codec_from_settings(request.app.state.services.settings)
    payloads = [p.payload() for p in body.payloads]
    if codec is not None:
        try:
            payloads = await (codec.decode if direction == "decode" else codec.encode)(payloads)
        except (InvalidTag, DecodeError, ValueError, UnicodeDecodeError):
            raise Invalid("payloads", "a payload does not open with this console's keys (altered, or sealed with"
                                      " a key GROUPDESK_CODEC_KEYS no longer holds)", 400) from None
    return {"payloads": [_out(p) for p in payloads]}


@router.post("/decode", dependencies=[Depends(_allowed)])
async def decode(request: Request, body: PayloadsIn) -> dict:
    return await _apply(request, body, "decode")


@router.post("/encode", dependencies=[Depends(_allowed)])
async def encode(request: Request, body: PayloadsIn) -> dict:
    return await _apply(request, body, "encode")
