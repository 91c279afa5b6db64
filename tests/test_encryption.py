"""Complainants' personal data never sits in Temporal's history in plain text."""

from __future__ import annotations

import base64
import os
import uuid

import httpx
import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.client import Client

from groupdesk.engine.codec import CodecSettingsError, EncryptionCodec, data_converter, parse_keys
from helpers import patient_playbook, setup_for, split_by_query, until
from groupdesk.core.models import IncidentState, RecordFollowUp, RecordOutcome
from groupdesk.incidents.gateway.handles import Incident
from groupdesk.messaging.outbox import Outbox
from groupdesk.engine.replay import replay
from groupdesk.web.app import create_app
from groupdesk.incidents.gateway import start_incident
from web_helpers import signed_in
from worker import build_worker

KEY_A, KEY_B = base64.b64encode(os.urandom(32)).decode(), base64.b64encode(os.urandom(32)).decode()


def plain(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_round_trip_rotation_and_tampering():
    old = EncryptionCodec(parse_keys(f"k1={KEY_A}"), "k1")
    (sealed,) = await old.encode([plain(b'{"phone": "+8613800138000"}')])
    assert b"13800138000" not in sealed.data and sealed.metadata["encryption-key-id"] == b"k1"
    rotated = EncryptionCodec(parse_keys(f"k1={KEY_A},k2={KEY_B}"), "k2")
    assert (await rotated.decode([sealed]))[0].data == b'{"phone": "+8613800138000"}'  # old key still opens
    assert (await rotated.encode([plain(b"x")]))[0].metadata["encryption-key-id"] == b"k2"
    assert (await rotated.decode([plain(b"legacy")]))[0].data == b"legacy"  # from before encryption
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(Exception):
        await rotated.decode([tampered])
    with pytest.raises(ValueError, match="no longer holds"):
        await EncryptionCodec(parse_keys(f"k2={KEY_B}"), "k2").decode([sealed])


@pytest.mark.parametrize("raw,named", [("k1", "is not id=base64key"), ("k1=***", "not valid base64"),
                                       (f"k1={base64.b64encode(b'short').decode()}", "AES-256 needs 32")])
def test_bad_keys_are_named(raw, named):
    with pytest.raises(CodecSettingsError, match=named):
        parse_keys(raw)


async def talk_accepted_by_sms(handle, outbox: Outbox) -> None:
    """The talk_accepted path and the survey's answer, each given once its SMS is stored, as the benchmark's staff
    act: no query reaches the incident. A query answered while a batch runs can leave a history that the same code
    does not replay (README, "Replay hazards", the first; it showed here on a loaded host); this test is about the
    codec, and bench/replay_under_queries.py measures that hazard."""
    incident = Incident.of(handle)

    async def stored(purpose: str, step: str | None = None) -> None:
        await until(lambda: any(m.purpose == purpose and step in (None, m.step) for m in outbox.list(handle.id)),
                    f"no {purpose} SMS for {step or 'the incident'}")

    for step, outcome, actor in (("move_to_vip_room", "done", "zhao.min"), ("keep_order", "done", "qian.lei"),
                                 ("talk_with_lead", "accepted", "sun.li")):
        await stored("step_started", step)
        await incident.record_outcome(RecordOutcome(step=step, outcome=outcome, actor=actor))
    await stored("follow_up")
    await incident.follow_up(RecordFollowUp(score=4, actor="sun.li"))


@pytest.mark.devserver
async def test_raw_history_holds_no_name_or_phone_and_replays_with_the_codec(dev_env, tmp_path, make_start):
    settings = setup_for(tmp_path, queue="enc", GROUPDESK_CODEC_KEYS=f"k1={KEY_A}", GROUPDESK_CODEC_KEY_ID="k1",
                         GROUPDESK_CODEC_TOKEN="tok").settings
    address = dev_env.client.service_client.config.target_host
    sealed = await Client.connect(address, data_converter=data_converter(settings))
    async with build_worker(sealed, settings):
        patient = patient_playbook(tmp_path)  # the survey waits 26 s
        request = make_start(incident_id=f"enc-{uuid.uuid4().hex[:8]}", drill=True, time_scale=200000.0,
                             lead_name="欧阳建国", lead_phone="13912345678", playbook=patient)
        handle = await start_incident(sealed, settings, request)
        await talk_accepted_by_sms(handle, Outbox(settings))
        final = await sealed.get_workflow_handle(request.incident_id, result_type=IncidentState).result()
    assert final.status == "closed"
    raw = (await dev_env.client.get_workflow_handle(request.incident_id).fetch_history()).to_json()
    for secret in ("13912345678", "欧阳建国", "\\u6b27\\u9633", "智能电表换装"):
        assert secret not in raw, f"{secret} is in the stored history"
    history = await sealed.get_workflow_handle(request.incident_id).fetch_history()
    replayed = await replay(history, "encrypted", converter=data_converter(settings))
    assert replayed.error is None, (replayed.diverged_at, f"{split_by_query(history.events)} tasks split by a query")

    app = create_app(settings, client=sealed)
    payload = history.events[0].workflow_execution_started_event_attributes.input
    body = json_format.MessageToDict(Payloads(payloads=list(payload.payloads)))
    async with signed_in(app, None) as anonymous:
        assert (await anonymous.post("/codec/decode", json=body)).status_code == 401
    async with signed_in(app, "sun.li") as lead:
        assert (await lead.post("/codec/decode", json=body)).status_code == 403
    sealed_data = bytearray(base64.b64decode(body["payloads"][0]["data"]))
    sealed_data[-1] ^= 1  # one bit of the ciphertext changed: the seal does not open
    altered = {"payloads": [{**body["payloads"][0], "data": base64.b64encode(bytes(sealed_data)).decode()}]}
    async with signed_in(app, "ma.ning") as ops:
        decoded = await ops.post("/codec/decode", json=body)
        refused = await ops.post("/codec/decode", json=altered)
        garbled = await ops.post("/codec/decode", json={"payloads": [{"data": "not base64!"}]})
    assert decoded.status_code == 200 and "欧阳建国" in base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
    assert refused.status_code == 400 and refused.json()["detail"].startswith("payloads: a payload does not open")
    assert garbled.status_code == 422 and "payloads.0.data: not base64" in garbled.json()["detail"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as ui:
        by_token = await ui.post("/codec/decode", json=body, headers={"Authorization": "Bearer tok"})
    assert by_token.status_code == 200
