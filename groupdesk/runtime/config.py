"""Settings from the environment, so the same commands run against the dev server or a cluster."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit
from typing import Literal

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE = Path(__file__).resolve().parent.parent  # groupdesk/
REPO_ROOT = PACKAGE.parent
EXAMPLE_DIRECTORY = PACKAGE / "examples" / "directory.yaml"
EXAMPLE_ACCOUNTS = PACKAGE / "examples" / "accounts.yaml"


def parse_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix` (GROUPDESK_ATTACHMENTS_URL); ValueError naming the form otherwise."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ValueError("s3://bucket/prefix, or empty to keep evidence in the data dir")
    return parts.netloc, parts.path.strip("/")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True, env_ignore_empty=True)
    _hash_key: tuple | None = PrivateAttr(None)  # (what it was read from, the key)

    temporal_address: str = Field("127.0.0.1:7233", alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field("default", alias="TEMPORAL_NAMESPACE")
    temporal_tls_cert: str = Field("", alias="TEMPORAL_TLS_CERT")
    temporal_tls_key: str = Field("", alias="TEMPORAL_TLS_KEY")
    temporal_tls_ca: str = Field("", alias="TEMPORAL_TLS_CA")
    temporal_api_key: str = Field("", alias="TEMPORAL_API_KEY")
    task_queue: str = Field("groupdesk", alias="GROUPDESK_TASK_QUEUE")
    data_dir: Path = Field(REPO_ROOT / ".groupdesk", alias="GROUPDESK_DATA_DIR")
    # outbox, inbox, console forms: sqlite:///<data dir>/groupdesk.sqlite3 unless set (postgresql+psycopg://…)
    database_url: str = Field("", alias="GROUPDESK_DATABASE_URL")
    directory: Path = Field(EXAMPLE_DIRECTORY, alias="GROUPDESK_DIRECTORY")
    playbooks_dir: Path = Field(REPO_ROOT / "playbooks", alias="GROUPDESK_PLAYBOOKS_DIR")
    sensitive_periods: Path | None = Field(None, alias="GROUPDESK_SENSITIVE_PERIODS")  # the calendar (groupdesk/playbooks/periods.py)
    sms_provider: Literal["outbox", "twilio", "aliyun", "tencent"] = Field("outbox", alias="GROUPDESK_SMS_PROVIDER")
    twilio_account_sid: str = Field("", alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str = Field("", alias="TWILIO_AUTH_TOKEN")
    twilio_from_number: str = Field("", alias="TWILIO_FROM_NUMBER")
    twilio_messaging_service_sid: str = Field("", alias="TWILIO_MESSAGING_SERVICE_SID")
    twilio_api_base: str = Field("", alias="GROUPDESK_TWILIO_API_BASE")
    twilio_timeout: float = Field(10.0, alias="GROUPDESK_TWILIO_TIMEOUT")
    public_url: str = Field("", alias="GROUPDESK_PUBLIC_URL")
    # ---- domestic SMS providers (groupdesk/messaging/aliyun.py, tencent.py, routes.py) ----
    # by country calling code, e.g. 86=aliyun,852=twilio,*=twilio; empty: every number to GROUPDESK_SMS_PROVIDER
    sms_routes: str = Field("", alias="GROUPDESK_SMS_ROUTES")
    aliyun_access_key_id: str = Field("", alias="ALIBABA_CLOUD_ACCESS_KEY_ID")
    aliyun_access_key_secret: str = Field("", alias="ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    aliyun_sign_name: str = Field("", alias="GROUPDESK_ALIYUN_SIGN_NAME")
    aliyun_api_base: str = Field("", alias="GROUPDESK_ALIYUN_API_BASE")
    aliyun_timeout: float = Field(5.0, alias="GROUPDESK_ALIYUN_TIMEOUT")
    aliyun_variable_limit: int = Field(35, alias="GROUPDESK_ALIYUN_VARIABLE_LIMIT")  # 35 unless Aliyun lifted it
    tencent_secret_id: str = Field("", alias="TENCENTCLOUD_SECRET_ID")
    tencent_secret_key: str = Field("", alias="TENCENTCLOUD_SECRET_KEY")
    tencent_sms_app_id: str = Field("", alias="GROUPDESK_TENCENT_SMS_APP_ID")
    tencent_sign_name: str = Field("", alias="GROUPDESK_TENCENT_SIGN_NAME")
    tencent_region: str = Field("ap-guangzhou", alias="GROUPDESK_TENCENT_REGION")
    tencent_api_base: str = Field("", alias="GROUPDESK_TENCENT_API_BASE")
    tencent_timeout: float = Field(5.0, alias="GROUPDESK_TENCENT_TIMEOUT")
    # the secret path segment of the domestic providers' push addresses (/aliyun/{token}/report ...)
    webhook_token: str = Field("", alias="GROUPDESK_WEBHOOK_TOKEN")
    # sign-in accounts (argon2id hashes); required outside `groupdesk dev`, which falls back to the examples
    accounts: Path | None = Field(None, alias="GROUPDESK_ACCOUNTS")
    secret_key: str = Field("", alias="GROUPDESK_SECRET_KEY")
    # the HMAC key of every phone hash and approval code: at least 32 random characters
    hash_key_value: str = Field("", alias="GROUPDESK_HASH_KEY")
    # X-Forwarded-For counts only from these proxies (CIDRs, comma-separated; default: none)
    trusted_proxies: str = Field("", alias="GROUPDESK_TRUSTED_PROXIES")
    # Incidents kept in the worker's memory between their tasks (~0.27 MB each on top of ~145 MB): at 400 a
    # worker measured 271 MB with 1,000 open (target: 5,000 open within 300 MB); an evicted incident
    # replays its history when it next wakes (~0.15 s of worker CPU for a whole drill's worth of wakes).
    # Raise it on a worker with memory to spare and many incidents active at once (README, Operations).
    max_cached_workflows: int = Field(400, alias="GROUPDESK_MAX_CACHED_WORKFLOWS", ge=0)
    metrics_port: int = Field(0, alias="GROUPDESK_METRICS_PORT")  # worker: Prometheus /metrics; 0 = off
    health_port: int = Field(0, alias="GROUPDESK_HEALTH_PORT")  # worker: /healthz; 0 = off
    web_host: str = Field("127.0.0.1", alias="GROUPDESK_WEB_HOST")
    web_port: int = Field(8800, alias="GROUPDESK_WEB_PORT")
    log_format: Literal["console", "json"] = Field("console", alias="GROUPDESK_LOG_FORMAT")
    codec_keys: str = Field("", alias="GROUPDESK_CODEC_KEYS")
    codec_key_id: str = Field("", alias="GROUPDESK_CODEC_KEY_ID")
    codec_token: str = Field("", alias="GROUPDESK_CODEC_TOKEN")
    metrics_token: str = Field("", alias="GROUPDESK_METRICS_TOKEN")
    codec_cors_origins: str = Field("http://127.0.0.1:8233,http://localhost:8233", alias="GROUPDESK_CODEC_CORS_ORIGINS")
    history_budget: int = Field(2000, alias="GROUPDESK_HISTORY_BUDGET", ge=200)
    register_search_attributes: bool = Field(False, alias="GROUPDESK_REGISTER_SEARCH_ATTRIBUTES")
    dev_ui_port: int = Field(8233, alias="GROUPDESK_DEV_UI_PORT")
    # evidence files (groupdesk/record/evidence_store.py): <data dir>/attachments unless s3://bucket/prefix
    attachments_url: str = Field("", alias="GROUPDESK_ATTACHMENTS_URL")
    attachments_endpoint_url: str = Field("", alias="GROUPDESK_ATTACHMENTS_ENDPOINT_URL")  # MinIO and the like

    # ---- staff on WeCom (企业微信): checked at every start by groupdesk/messaging/wecom/settings.py ----
    staff_channel: Literal["sms", "wecom"] = Field("sms", alias="GROUPDESK_STAFF_CHANNEL")
    wecom_corp_id: str = Field("", alias="GROUPDESK_WECOM_CORP_ID")
    wecom_agent_id: str = Field("", alias="GROUPDESK_WECOM_AGENT_ID")
    wecom_secret: str = Field("", alias="GROUPDESK_WECOM_SECRET")
    wecom_token: str = Field("", alias="GROUPDESK_WECOM_TOKEN")  # the app's callback Token
    wecom_aes_key: str = Field("", alias="GROUPDESK_WECOM_AES_KEY")  # its EncodingAESKey (43 characters)
    wecom_api_base: str = Field("https://qyapi.weixin.qq.com", alias="GROUPDESK_WECOM_API_BASE")  # + /cgi-bin/...
    wecom_oauth_base: str = Field("https://open.weixin.qq.com", alias="GROUPDESK_WECOM_OAUTH_BASE")  # sign-in page

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        networks(value)  # a malformed CIDR stops every process at start, naming the variable
        return value

    @field_validator("hash_key_value")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("GROUPDESK_HASH_KEY must be at least 32 random characters")
        return value

    @field_validator("attachments_url")
    @classmethod
    def _s3_url(cls, value: str) -> str:
        if value:
            parse_s3_url(value)
        return value

    def accounts_file(self, dev: bool) -> Path | None:
        """GROUPDESK_ACCOUNTS; only `groupdesk dev` (and tests that ask for dev) falls back to the example
        accounts, whose password the README prints."""
        return self.accounts or (EXAMPLE_ACCOUNTS if dev else None)

    def proxies(self) -> tuple:
        """GROUPDESK_TRUSTED_PROXIES as networks."""
        return networks(self.trusted_proxies)

    def session_secret(self) -> str:
        """GROUPDESK_SECRET_KEY, or (in dev and tests; production refuses to start without it,
        see startup.py) one made once and kept 0600 in the data dir."""
        return self.secret_key or self._kept_secret("secret_key")

    def hash_key(self) -> bytes:
        """GROUPDESK_HASH_KEY, or (dev and tests) one made once and kept 0600 in the data dir: keys every HMAC.
        Read once per settings object (a process holds one): not a file read per message."""
        source = (self.hash_key_value, self.data_dir)  # a copy with another key or data dir reads its own
        if self._hash_key is None or self._hash_key[0] != source:
            self._hash_key = (source, (self.hash_key_value or self._kept_secret("hash_key")).encode("utf-8"))
        return self._hash_key[1]

    def _kept_secret(self, name: str) -> str:
        """A random secret in the data dir (0600), made once even if two processes race to make it."""
        import os
        import secrets

        from groupdesk.runtime.datafiles import private_dir

        path = self.data_dir / name
        if path.exists() and not path.read_text(encoding="utf-8").strip():
            path.unlink()  # an empty leftover of an interrupted write
        if not path.exists():
            private_dir(self.data_dir)
            draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
            fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_urlsafe(32))
            try:
                os.link(draft, path)  # atomic: the first one made wins, the others read it
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return path.read_text(encoding="utf-8").strip()

    @property
    def dev_server_db(self) -> Path:
        return self.data_dir / "temporal.sqlite3"


def networks(raw: str) -> tuple:
    """`10.0.0.0/8, 192.0.2.7` as ip networks; ValueError naming the entry that is not one."""
    import ipaddress

    found = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            found.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item[:40]!r} is not an address or a CIDR such as 10.0.0.0/8") from None
    return tuple(found)


@lru_cache
def get_settings() -> Settings:
    return Settings()
