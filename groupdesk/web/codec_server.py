"""The codec endpoint the Temporal UI calls to show decrypted payloads to people who may see them."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from groupdesk.engine.codec import codec_from_settings
from groupdesk.web.auth import current_viewer
from groupdesk.web.operations import bearer, token_matches

router = APIRouter(prefix="/codec", include_in_schema=False)


def _allowed(request: Request) -> None:
    settings = request.app.state.services.settings
    if token_matches(bearer(request), settings.codec_token):
        return
    viewer = current_viewer(request)
    if viewer is None:
        raise HTTPException(status_code=401, detail="sign in to the groupdesk console first")
    if not viewer.sees_everything:
        raise HTTPException(status_code=403, detail="only operators and ops may read decrypted histories")


async def _apply(request: Request, direction: str) -> dict:
    _allowed(request)
    codec = codec_from_settings(request.app.state.services.settings)
    payloads = json_format.ParseDict(await request.json(), Payloads())
    if codec is not None:
        converted = await (codec.decode if direction == "decode" else codec.encode)(list(payloads.payloads))
        payloads = Payloads(payloads=converted)
    return json_format.MessageToDict(payloads)


@router.post("/decode")
async def decode(request: Request) -> dict:
    return await _apply(request, "decode")


@router.post("/encode")
async def encode(request: Request) -> dict:
    return await _apply(request, "encode")
