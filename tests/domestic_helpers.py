"""Aliyun and Tencent Cloud in tests: a fake API for the real SDK, settings pointing at it, and a copy of the
playbooks whose template registry was synced against the fake after it approved every text."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from fake_aliyun import ACCESS_KEY_ID, ACCESS_KEY_SECRET, SIGN_NAME as ALIYUN_SIGN, FakeAliyun
from fake_tencent import APP_ID, SECRET_ID, SECRET_KEY, SIGN_NAME as TENCENT_SIGN, FakeTencent
from groupdesk.runtime.config import REPO_ROOT, Settings
from groupdesk.messaging.channels import build

PROVIDERS = ["aliyun", "tencent"]
WEBHOOK_TOKEN = "push-token-" + "k" * 32


def fake_for(provider: str, httpserver):
    return (FakeAliyun if provider == "aliyun" else FakeTencent)(httpserver).install()


def provider_env(provider: str, fake, **extra: str) -> dict[str, str]:
    """The settings of `provider` pointed at `fake`, as environment variables. The client waits 10 s for an
    answer: the fake answers in this test's process, which a loaded run can keep from answering within 2."""
    if provider == "aliyun":
        env = dict(GROUPDESK_SMS_PROVIDER="aliyun", ALIBABA_CLOUD_ACCESS_KEY_ID=ACCESS_KEY_ID,
                   ALIBABA_CLOUD_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET, GROUPDESK_ALIYUN_SIGN_NAME=ALIYUN_SIGN,
                   GROUPDESK_ALIYUN_API_BASE=fake.base_url, GROUPDESK_ALIYUN_TIMEOUT="10")
    else:
        env = dict(GROUPDESK_SMS_PROVIDER="tencent", TENCENTCLOUD_SECRET_ID=SECRET_ID,
                   TENCENTCLOUD_SECRET_KEY=SECRET_KEY, GROUPDESK_TENCENT_SMS_APP_ID=APP_ID,
                   GROUPDESK_TENCENT_SIGN_NAME=TENCENT_SIGN, GROUPDESK_TENCENT_API_BASE=fake.base_url,
                   GROUPDESK_TENCENT_TIMEOUT="10")
    return {**env, "GROUPDESK_WEBHOOK_TOKEN": WEBHOOK_TOKEN, **extra}


def approved_playbooks(tmp_path: Path, provider: str, fake) -> Path:
    """A copy of the shipped playbooks whose every text the fake has approved, the registry synced from it:
    `sms templates export` -> the provider approves -> `sms templates sync`, as a centre does before go-live."""
    from groupdesk.messaging.template_sync import export_rows, sync

    root = tmp_path / f"playbooks-{provider}"
    done = _SYNCED.get(provider)
    if done is not None and not root.exists() and not fake.templates:
        synced, texts = done
        shutil.copytree(synced, root)
        fake.approve(texts)  # an empty fake numbers them as the one that was synced against did
        return root
    fresh = not root.exists() and not fake.templates
    if not root.exists():
        shutil.copytree(REPO_ROOT / "playbooks", root)
    settings = Settings(**provider_env(provider, fake), GROUPDESK_PLAYBOOKS_DIR=root)
    texts = [e.text for e in export_rows(settings, provider)]
    fake.approve(texts)
    result = sync(settings, build(settings, provider))
    assert not result.missing and not result.rejected, [e.text for e in result.missing[:3]]
    if fresh:  # kept for the next test of this process: the export and the sync cost about a CPU-second
        keep = Path(tempfile.mkdtemp(prefix=f"groupdesk-synced-{provider}-"))
        atexit.register(shutil.rmtree, keep, True)
        shutil.copytree(root, keep / "playbooks")
        _SYNCED[provider] = (keep / "playbooks", texts)
    return root


_SYNCED: dict[str, tuple[Path, list[str]]] = {}  # provider -> (playbooks synced against an empty fake, its texts)


def sent_texts(provider: str, fake) -> list[str]:
    """The registered template text of every SendSms the fake received (none may be free text)."""
    by_code = {str(t.get("code") or t.get("id")): t["content"] for t in fake.templates}
    key = "TemplateCode" if provider == "aliyun" else "TemplateId"
    return [by_code.get(str(r.get(key))) for r in fake.sends()]
