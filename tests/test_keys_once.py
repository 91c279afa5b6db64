"""Keys are derived once per process: the hash key (HMAC of personal data, status links, approval codes) and the
payload codec's keys, counted across a worker's start, its client, a gateway's work and /codec requests; no server."""

from __future__ import annotations

import base64
import os
from collections import Counter

import pytest

import worker
from groupdesk.engine import codec
from groupdesk.runtime.config import Settings
from helpers import setup_for


@pytest.fixture
def derived(monkeypatch) -> Counter:
    """Each time a key is made from the settings: the hash key read (or made) in the data dir, the codec keys parsed."""
    seen: Counter = Counter()
    kept, parse = Settings._kept_secret, codec.parse_keys

    def counted_secret(self, name):
        seen[name] += 1
        return kept(self, name)

    def counted_parse(raw):
        seen["codec_keys"] += 1
        return parse(raw)

    monkeypatch.setattr(Settings, "_kept_secret", counted_secret)
    monkeypatch.setattr(codec, "parse_keys", counted_parse)
    return seen


def fresh_codec_keys() -> str:
    return "k1=" + base64.b64encode(os.urandom(32)).decode()  # keys no earlier test of this process derived


def test_a_worker_its_client_and_a_gateway_derive_each_key_once(tmp_path, monkeypatch, derived):
    from groupdesk.incidents.gateway import Gateway
    from groupdesk.incidents.registration import prepare_start
    from groupdesk.startup import problems
    from machine_helpers import DIRECTORY, PLAYBOOK

    settings = setup_for(tmp_path, GROUPDESK_CODEC_KEYS=fresh_codec_keys()).settings  # the hash key: kept in data
    built = {}
    monkeypatch.setattr(worker, "Worker", lambda client, **kwargs: built.update(kwargs))  # no Temporal needed
    problems(settings, "worker")  # the start checks
    sealed = codec.data_converter(settings).payload_codec  # the worker's client
    worker.build_worker(None, settings)  # every component: outbox, SMS, codes, status links, archive, reports
    assert built["activities"] and sealed is not None
    gateway = Gateway(None, settings)  # as `groupdesk dev` and the console hold one, over the same settings
    for phone in ("13800138000", "13900139000", "13500135000"):  # each start: its id keyed with the hash key
        gateway.assign_id(prepare_start(directory=DIRECTORY, playbook=PLAYBOOK, hall_id="xicheng", headcount=20,
                                        lead_name="张建国", lead_phone=phone, summary="电量异常", started_by="sun.li",
                                        incident_id="pending"))
    assert derived == Counter({"hash_key": 1, "codec_keys": 1})


def test_codec_requests_share_the_codec_and_other_keys_get_their_own(tmp_path, derived):
    settings = setup_for(tmp_path, GROUPDESK_CODEC_KEYS=fresh_codec_keys()).settings
    first = codec.codec_from_settings(settings)
    assert all(codec.codec_from_settings(settings) is first for _ in range(5))  # each /codec/decode request
    other = setup_for(tmp_path, GROUPDESK_CODEC_KEYS=fresh_codec_keys()).settings
    assert codec.codec_from_settings(other) is not first  # another key is derived on its own, never mixed up
    assert derived["codec_keys"] == 2
    with pytest.raises(codec.CodecSettingsError):  # a wrong setting is refused each time it is asked for
        codec.codec_from_settings(setup_for(tmp_path, GROUPDESK_CODEC_KEYS="k1=short").settings)
    with pytest.raises(codec.CodecSettingsError):
        codec.codec_from_settings(setup_for(tmp_path, GROUPDESK_CODEC_KEYS="k1=short").settings)
