"""Where evidence files live, content-addressed by the SHA-256 of the stored copy: `<data dir>/attachments/<aa>/<sha>`
by default, or S3-compatible object storage (AWS S3, MinIO) when GROUPDESK_ATTACHMENTS_URL=s3://bucket/prefix."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol

from groupdesk.runtime.config import parse_s3_url
from groupdesk.runtime.datafiles import private_dir

CHUNK = 1024 * 1024


class StoreUnavailable(Exception):
    """The storage cannot be reached or refused the request: one line naming the setting."""


class EvidenceStore(Protocol):
    def put(self, sha: str, content: bytes, media_type: str) -> None: ...

    def get(self, sha: str) -> bytes | None: ...  # None: not there

    def digest(self, sha: str) -> str | None: ...  # the SHA-256 of what is stored under sha; None: not there

    def where(self, sha: str) -> str: ...


def relative_key(sha: str) -> str:
    return f"{sha[:2]}/{sha}"


class LocalStore:
    """Files under a directory of the data dir, 0600 in 0700 directories, each written once by rename."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha: str) -> Path:
        return self.root / relative_key(sha)

    def where(self, sha: str) -> str:
        return str(self.path(sha))

    def put(self, sha: str, content: bytes, media_type: str) -> None:
        target = self.path(sha)
        if self.digest(sha) == sha:
            return  # the same content is there already
        private_dir(target.parent)
        draft = target.with_name(f".{sha}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(draft, target)  # readers see the whole file or none (an altered one is replaced whole)

    def get(self, sha: str) -> bytes | None:
        try:
            return self.path(sha).read_bytes()
        except FileNotFoundError:
            return None

    def digest(self, sha: str) -> str | None:
        digest = hashlib.sha256()
        try:
            with open(self.path(sha), "rb") as stored:
                while chunk := stored.read(CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            return None
        return digest.hexdigest()


class S3Store:
    """Objects `<prefix>/<aa>/<sha>` in one bucket, through boto3 (credentials and region from the usual AWS
    variables; GROUPDESK_ATTACHMENTS_ENDPOINT_URL for MinIO or another S3-compatible server)."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str = "", client=None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or _s3_client(endpoint_url)

    def key(self, sha: str) -> str:
        return f"{self.prefix}/{relative_key(sha)}" if self.prefix else relative_key(sha)

    def where(self, sha: str) -> str:
        return f"s3://{self.bucket}/{self.key(sha)}"

    def put(self, sha: str, content: bytes, media_type: str) -> None:
        with _reported("store"):
            self.client.put_object(Bucket=self.bucket, Key=self.key(sha), Body=content, ContentType=media_type)

    def get(self, sha: str) -> bytes | None:
        body = self._body(sha)
        if body is None:
            return None
        with _reported("read"), body:
            return body.read()

    def digest(self, sha: str) -> str | None:
        body = self._body(sha)
        if body is None:
            return None
        digest = hashlib.sha256()
        with _reported("read"), body:
            for chunk in body.iter_chunks(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def _body(self, sha: str):
        from botocore.exceptions import ClientError

        with _reported("read"):
            try:
                return self.client.get_object(Bucket=self.bucket, Key=self.key(sha))["Body"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                    return None
                raise


class _reported:
    """boto3's errors as one line naming the setting (credentials, a missing bucket, an unreachable server)."""

    def __init__(self, doing: str):
        self.doing = doing

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, (BotoCoreError, ClientError)):
            detail = exc.response.get("Error", {}).get("Code", "error") if isinstance(exc, ClientError) else \
                str(exc).splitlines()[0][:160]
            raise StoreUnavailable(f"GROUPDESK_ATTACHMENTS_URL: cannot {self.doing} evidence ({detail}); check the"
                                   " bucket, the AWS credentials and GROUPDESK_ATTACHMENTS_ENDPOINT_URL") from exc
        return False


def _s3_client(endpoint_url: str):
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30,
                    s3={"addressing_style": "path"} if endpoint_url else None)
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config)


_stores: dict[tuple, EvidenceStore] = {}


def store_for(settings) -> EvidenceStore:
    """The process's store for these settings (one boto3 client each, reused: it is thread-safe)."""
    key = (str(settings.data_dir), settings.attachments_url, settings.attachments_endpoint_url)
    if key not in _stores:
        if settings.attachments_url:
            bucket, prefix = parse_s3_url(settings.attachments_url)
            _stores[key] = S3Store(bucket, prefix, settings.attachments_endpoint_url)
        else:
            _stores[key] = LocalStore(Path(settings.data_dir) / "attachments")
    return _stores[key]
