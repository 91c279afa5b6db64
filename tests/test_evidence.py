"""Evidence files by content: what is accepted, what is refused (one line each), metadata stripped with both
hashes kept, the 50-file limit, the content-addressed stores (the data dir, and S3 through a real S3 API server,
moto's), and `groupdesk archive verify` naming a stored file that is missing or altered."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from typer.testing import CliRunner

import evidence_files as files
from groupdesk.cli import app
from groupdesk.runtime.config import Settings
from groupdesk.record.attachments import Attachments
from groupdesk.record.evidence_check import EvidenceRefused, check, sha256
from groupdesk.record.evidence_store import LocalStore, S3Store, store_for
from groupdesk.storage import open_database
from helpers import quiet_port


def refusal(data: bytes, name: str = "") -> EvidenceRefused:
    with pytest.raises(EvidenceRefused) as refused:
        check(data, name)
    line = str(refused.value)
    assert "\n" not in line and line.startswith("file: "), line
    return refused.value


def test_a_phone_photo_is_kept_upright_without_gps_or_any_other_metadata():
    original = files.photo_jpeg()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825) == files.GPS  # the phone wrote where it was
    kept = check(original, "电表.jpg")
    stored = Image.open(io.BytesIO(kept.content))
    assert kept.media_type == "image/jpeg" and stored.format == "JPEG"
    assert dict(stored.getexif()) == {} and stored.getexif().get_ifd(0x8825) == {}  # no EXIF at all, GPS included
    assert "comment" not in stored.info and "exif" not in stored.info and b"13800138000" not in kept.content
    assert b"Camera Phone" not in kept.content and b"Exif" not in kept.content
    assert stored.size == (64, 96)  # turned upright as the EXIF orientation said (96×64 lying on its side)
    assert kept.original_sha256 == sha256(original) and kept.stored_sha256 == sha256(kept.content)
    assert kept.original_sha256 != kept.stored_sha256 and kept.original_size == len(original)


@pytest.mark.parametrize("make, media_type", [(files.photo_png, "image/png"), (files.photo_webp, "image/webp")])
def test_png_and_webp_lose_their_text_and_exif(make, media_type):
    kept = check(make(), "")
    stored = Image.open(io.BytesIO(kept.content))
    assert kept.media_type == media_type and dict(stored.getexif()) == {}
    assert not {"exif", "Author", "xmp"} & set(stored.info) and "张建国".encode() not in kept.content


def test_a_pdf_is_parsed_and_kept_as_it_came():
    original = files.scan_pdf()
    kept = check(original, "检定证书.pdf")
    assert kept.media_type == "application/pdf" and kept.content == original
    assert kept.original_sha256 == kept.stored_sha256 == sha256(original)


def test_what_is_refused_by_content_with_one_line_each():
    photo = files.photo_jpeg()
    assert "a GIF is not accepted" in str(refusal(files.gif(), "photo.jpg"))  # the name says JPEG: not believed
    assert "a ZIP archive" in str(refusal(files.zip_bytes(), "meter.pdf"))
    assert "a web page is not accepted" in str(refusal(b"<!DOCTYPE html><html><body>hi", "meter.png"))
    assert "this file is not accepted" in str(refusal("抄表记录".encode(), "meter.jpg"))
    assert "does not decode" in str(refusal(photo[: len(photo) // 2]))  # a truncated upload
    assert "does not parse as one" in str(refusal(b"%PDF-1.7\n1 0 obj garbage", "cert.pdf"))
    oversized = refusal(files.oversized_jpeg(), "big.jpg")
    assert oversized.status == 413 and "over the 10 MB limit" in str(oversized)
    assert "empty" in str(refusal(b""))
    for name in ("../../etc/passwd.jpg", "dir/meter.jpg", "C:\\photos\\meter.jpg", "meter\x00.jpg", ".."):
        assert "has path characters" in str(refusal(photo, name)), name


@pytest.mark.parametrize("kind", sorted(files.polyglots()))
def test_a_polyglot_file_is_refused(kind):
    line = str(refusal(files.polyglots()[kind], "x.jpg"))
    assert "(a polyglot file)" in line, line


def test_the_table_keeps_both_hashes_holds_one_copy_and_at_most_50_files(tmp_path, database_url):
    db, store = open_database(database_url), LocalStore(tmp_path / "attachments")  # SQLite, then PostgreSQL
    table = Attachments(db, store)
    photo = check(files.photo_jpeg(), "电表.jpg")
    row, created = table.add("inc-1", "xicheng", "talk_with_lead", "sun.li", photo, "电表.jpg")
    assert created and row["original_sha256"] == photo.original_sha256 and row["stored_sha256"] == photo.stored_sha256
    path = tmp_path / "attachments" / photo.stored_sha256[:2] / photo.stored_sha256
    assert path.read_bytes() == photo.content and path.stat().st_mode & 0o777 == 0o600
    again, created_again = table.add("inc-1", "xicheng", None, "zhao.min", photo, "again.jpg")
    assert not created_again and again["id"] == row["id"] and table.count("inc-1") == 1
    for n in range(49):
        image = io.BytesIO()
        Image.new("L", (8, 8), n).save(image, "PNG")
        table.add("inc-1", "xicheng", None, "sun.li", check(image.getvalue()), f"{n}.png")
    with pytest.raises(EvidenceRefused) as full:
        table.add("inc-1", "xicheng", None, "sun.li", check(files.photo_webp()), "51.webp")
    assert full.value.status == 409 and "already holds 50 files" in str(full.value)
    assert table.count("inc-1") == 50 and table.find("inc-1", photo.stored_sha256[:10])["id"] == row["id"]
    assert table.content(row, "wang.jun", "cli") == photo.content
    assert [(x["by"], x["via"], x["stored_sha256"]) for x in table.downloads("inc-1")] == \
        [("wang.jun", "cli", photo.stored_sha256)]


def verify(data_dir, **extra) -> tuple[int, str]:
    done = CliRunner().invoke(app, ["archive", "verify"], env={"GROUPDESK_DATA_DIR": str(data_dir), **extra})
    return done.exit_code, done.output


def test_archive_verify_names_a_stored_file_missing_or_altered(tmp_path):
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path)
    table = Attachments(open_database(settings), store_for(settings))
    photo, scan = check(files.photo_jpeg()), check(files.scan_pdf())
    first, _ = table.add("inc-2", "xicheng", None, "sun.li", photo, "a.jpg")
    second, _ = table.add("inc-2", "xicheng", None, "sun.li", scan, "b.pdf")
    code, out = verify(tmp_path)
    assert code == 0 and "archive intact: 0 records" in out and "2 evidence files" in out, out
    stored = tmp_path / "attachments" / photo.stored_sha256[:2] / photo.stored_sha256
    stored.write_bytes(photo.content[:-10] + b"0123456789")  # someone edits the photo on disk
    (tmp_path / "attachments" / scan.stored_sha256[:2] / scan.stored_sha256).unlink()
    code, out = verify(tmp_path)
    assert code == 1, out
    assert f"attachment {first['id']} of inc-2: stored file altered ({stored}" in out
    assert f"attachment {second['id']} of inc-2: stored file missing" in out
    with pytest.raises(EvidenceRefused) as refused:  # nobody downloads the altered copy as if it were the evidence
        table.content(first, "wang.jun", "cli")
    assert refused.value.status == 410 and "altered" in str(refused.value) and table.downloads("inc-2") == []


@pytest.fixture
def s3(monkeypatch):
    """moto's S3 API server on a free port (a real HTTP server, not a mock of boto3), with one bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = quiet_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in {"AWS_ACCESS_KEY_ID": "groupdesk-test", "AWS_SECRET_ACCESS_KEY": "groupdesk-test-secret",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket="evidence")
    yield endpoint, client
    server.stop()


def test_evidence_in_s3_through_a_real_s3_api_server(s3, tmp_path):
    endpoint, client = s3
    settings = Settings(GROUPDESK_DATA_DIR=tmp_path, GROUPDESK_ATTACHMENTS_URL="s3://evidence/groupdesk/prod",
                        GROUPDESK_ATTACHMENTS_ENDPOINT_URL=endpoint)
    store = store_for(settings)
    assert isinstance(store, S3Store)
    table = Attachments(open_database(settings), store)
    photo = check(files.photo_jpeg())
    row, created = table.add("inc-3", "dongcheng", None, "wu.fang", photo, "meter.jpg")
    key = f"groupdesk/prod/{photo.stored_sha256[:2]}/{photo.stored_sha256}"
    got = client.get_object(Bucket="evidence", Key=key)
    assert created and got["Body"].read() == photo.content and got["ContentType"] == "image/jpeg"
    assert not (tmp_path / "attachments").exists()  # nothing on the local disk
    assert table.content(row, "wang.jun", "api") == photo.content
    s3_env = {"GROUPDESK_ATTACHMENTS_URL": "s3://evidence/groupdesk/prod", "GROUPDESK_ATTACHMENTS_ENDPOINT_URL": endpoint}
    assert verify(tmp_path, **s3_env)[0] == 0
    client.put_object(Bucket="evidence", Key=key, Body=b"not the photo")
    code, out = verify(tmp_path, **s3_env)
    assert code == 1 and f"stored file altered (s3://evidence/{key}" in out, out
    client.delete_object(Bucket="evidence", Key=key)
    code, out = verify(tmp_path, **s3_env)
    assert code == 1 and f"stored file missing (s3://evidence/{key})" in out, out
    code, out = verify(tmp_path, GROUPDESK_ATTACHMENTS_URL="s3://no-such-bucket/x",
                       GROUPDESK_ATTACHMENTS_ENDPOINT_URL=endpoint)
    assert code == 1 and "NoSuchBucket" in out and "GROUPDESK_ATTACHMENTS_URL" in out, out
