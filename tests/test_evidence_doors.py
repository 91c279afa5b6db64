"""Evidence through every door on the real dev server: `groupdesk attach` and `attachments list|get`, the JSON API
(multipart) and the console's upload, each refusal one line; staff of the hall attach while the incident runs,
until its archive record is written; whoever may see the incident downloads, and every download is logged."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

import evidence_files as files
from groupdesk.runtime.config import EXAMPLE_DIRECTORY, REPO_ROOT
from groupdesk.people.directory import load_directory
from groupdesk.drills.smart_meter import wait_for
from groupdesk.incidents.registration import prepare_start
from groupdesk.playbooks.loader import load_playbook
from groupdesk.record.attachments import Attachments
from groupdesk.record.evidence_check import sha256
from groupdesk.record.evidence_store import store_for
from groupdesk.storage import open_database
from groupdesk.storage.schema import archive_records
from groupdesk.web.app import create_app
from helpers import answer_follow_up, outcome, run_cli as cli, setup_for, start
from test_evidence import s3  # noqa: F401 - moto's S3 API server, a fixture
from web_helpers import signed_in
from worker import build_worker

pytestmark = pytest.mark.devserver
PLAYBOOK = load_playbook(REPO_ROOT / "playbooks" / "smart-meter-group-complaint.yaml")


def request_for(hall: str = "xicheng", lead: str = "sun.li"):
    return prepare_start(directory=load_directory(EXAMPLE_DIRECTORY), playbook=PLAYBOOK, hall_id=hall, headcount=9,
                         lead_name="张建国", lead_phone=f"1380013{uuid.uuid4().int % 10000:04d}", summary="电量异常",
                         started_by=lead, incident_id=f"ev-{uuid.uuid4().hex[:8]}")


def one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and lines[0].startswith("error: "), result
    return lines[0]


async def test_the_cli_attaches_lists_and_gets_until_the_record_is_written(dev_env, tmp_path):
    setup = setup_for(tmp_path, dev_env, queue="ev")
    env, settings = setup.env, setup.settings
    photo, gif, link = tmp_path / "电表.jpg", tmp_path / "meter.jpg", tmp_path / "polyglot.jpg"
    photo.write_bytes(files.photo_jpeg())
    gif.write_bytes(files.gif())
    link.write_bytes(files.polyglots()["jpeg+zip"])
    big = tmp_path / "big.jpg"
    big.write_bytes(files.oversized_jpeg())
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request_for())
        done = await cli(env, "attach", handle.id, str(photo), "--step", "talk_with_lead", "--as", "zhao.min", "--json")
        assert done.returncode == 0, done.stderr
        row = json.loads(done.stdout)
        assert row["created"] and row["added_by"] == "zhao.min" and row["step"] == "talk_with_lead"
        assert row["original_sha256"] == sha256(photo.read_bytes()) != row["stored_sha256"]
        shown = json.loads((await cli(env, "show", handle.id, "--json")).stdout)  # the workflow was told
        added = [e for e in shown["timeline"] if e["kind"] == "evidence_added"]
        assert [(e["step"], e["actor"]) for e in added] == [("talk_with_lead", "zhao.min")], shown["timeline"]
        assert row["stored_sha256"] in added[0]["detail"] and "电表" not in json.dumps(shown, ensure_ascii=False)
        assert [(e["original_sha256"], e["stored_sha256"]) for e in shown["evidence"]] == \
            [(row["original_sha256"], row["stored_sha256"])]
        assert "not accepted" in one_line(await cli(env, "attach", handle.id, str(gif), "--as", "sun.li"))
        assert "(a polyglot file)" in one_line(await cli(env, "attach", handle.id, str(link), "--as", "sun.li"))
        assert "over the 10 MB limit" in one_line(await cli(env, "attach", handle.id, str(big), "--as", "sun.li"))
        assert one_line(await cli(env, "attach", handle.id, str(photo), "--step", "nowhere", "--as", "sun.li")) \
            .startswith("error: step: 'nowhere' is not a step of smart-meter-group-complaint")
        other_hall = one_line(await cli(env, "attach", handle.id, str(photo), "--as", "wu.fang"))
        assert other_hall.startswith("error: --as: wu.fang may not see incidents of hall xicheng"), other_hall

        listed = await cli(env, "attachments", "list", handle.id, "--as", "wang.jun", "--json")
        assert [r["stored_sha256"] for r in json.loads(listed.stdout)] == [row["stored_sha256"]], listed.stderr
        out = tmp_path / "copy.jpg"
        got = await cli(env, "attachments", "get", handle.id, row["stored_sha256"][:12], "--out", str(out),
                        "--as", "wang.jun")
        assert got.returncode == 0 and sha256(out.read_bytes()) == row["stored_sha256"], got.stderr
        assert "may not see" in one_line(await cli(env, "attachments", "get", handle.id, row["stored_sha256"],
                                                  "--out", str(out), "--as", "wu.fang"))
        assert "has no attachment" in one_line(await cli(env, "attachments", "get", handle.id, "0" * 64,
                                                        "--out", str(out), "--as", "wang.jun"))
        table = Attachments(open_database(settings), store_for(settings))
        assert [(d["by"], d["via"]) for d in table.downloads(handle.id)] == [("wang.jun", "cli")]

        for step, name in (("move_to_vip_room", "done"), ("keep_order", "done"), ("talk_with_lead", "accepted")):
            await outcome(handle, step, name, "sun.li")
        await wait_for(handle, lambda s: s.stage == "follow_up", timeout=60)  # closed, awaiting the follow-up: running
        late = await cli(env, "attach", handle.id, str(tmp_path / "电表.jpg"), "--as", "sun.li")
        assert late.returncode == 0 and "already attached" in late.stdout, late.stderr
        await answer_follow_up(handle, 5)
        await handle.result()  # the archive record is written as the workflow completes
        with open_database(settings).read() as c:
            sealed = json.loads(c.execute(select(archive_records.c.record).where(
                archive_records.c.incident_id == handle.id)).scalar_one())
        assert [(e["original_sha256"], e["stored_sha256"], e["kind"], e["size"], e["step"], e["added_by"])
                for e in sealed["evidence"]] == [(row["original_sha256"], row["stored_sha256"], "image/jpeg",
                                                  row["size"], "talk_with_lead", "zhao.min")]  # the late attach: once
        verified = await cli(env, "archive", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        archived = one_line(await cli(env, "attach", handle.id, str(gif.with_name("电表.jpg")), "--as", "sun.li"))
        assert "is archived" in archived, archived
        after = await cli(env, "attachments", "get", handle.id, row["stored_sha256"], "--out", str(out),
                          "--as", "lin.yue")  # the record's evidence stays readable to whoever may see it
        assert after.returncode == 0, after.stderr


async def test_the_api_and_the_console_upload_and_download(dev_env, tmp_path, s3):  # noqa: F811
    endpoint, client = s3
    settings = setup_for(tmp_path, queue="ev", GROUPDESK_ATTACHMENTS_URL="s3://evidence/halls",
                         GROUPDESK_ATTACHMENTS_ENDPOINT_URL=endpoint).settings
    app = create_app(settings, client=dev_env.client)
    photo = files.photo_jpeg()
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env, settings, request_for("dongcheng", "wu.fang"))
        url = f"/api/incidents/{handle.id}/attachments"
        async with signed_in(app, "zheng.hao") as guard:  # the security guard of the hall, from the API
            made = await guard.post(url, files={"file": ("电表.jpg", photo, "image/png")}, data={"step": "keep_order"})
            assert made.status_code == 201, made.text
            row = made.json()
            assert row["media_type"] == "image/jpeg" and row["original_sha256"] == sha256(photo)  # the content decides
            same = await guard.post(url, files={"file": ("again.jpg", photo, "image/jpeg")})
            assert same.status_code == 200 and same.json()["id"] == row["id"] and not same.json()["created"]
            refused = {
                "path": await guard.post(url, files={"file": ("../../etc/cron.d/x.jpg", photo, "image/jpeg")}),
                "type": await guard.post(url, files={"file": ("x.pdf", files.gif(), "application/pdf")}),
                "polyglot": await guard.post(url, files={"file": ("x.jpg", files.polyglots()["jpeg+html"], "image/jpeg")}),
                "size": await guard.post(url, files={"file": ("x.jpg", files.oversized_jpeg(), "image/jpeg")}),
                "none": await guard.post(url, data={"step": "keep_order"}),
            }
            assert {k: r.status_code for k, r in refused.items()} == \
                {"path": 422, "type": 422, "polyglot": 422, "size": 413, "none": 422}
            for response in refused.values():
                detail = response.json()["detail"]
                assert detail.startswith("file: ") and "\n" not in detail, detail
            assert "path characters" in refused["path"].json()["detail"]
            listed = await guard.get(url)
            assert [r["id"] for r in listed.json()] == [row["id"]]
            got = await guard.get(f"{url}/{row['stored_sha256']}")
            assert got.status_code == 200 and sha256(got.content) == row["stored_sha256"]
            assert got.headers["content-disposition"].startswith("attachment;")
            assert got.headers["x-content-type-options"] == "nosniff" and "sandbox" in got.headers["content-security-policy"]
        stored = client.get_object(Bucket="evidence", Key=f"halls/{row['stored_sha256'][:2]}/{row['stored_sha256']}")
        assert sha256(stored["Body"].read()) == row["stored_sha256"]  # in the bucket, by its hash
        async with signed_in(app, "sun.li") as other:  # the lead of another hall: neither sees nor attaches
            assert (await other.get(f"{url}/{row['stored_sha256']}")).status_code == 403
            assert (await other.post(url, files={"file": ("x.jpg", photo, "image/jpeg")})).status_code == 403
        async with signed_in(app, "he.ping") as manager:  # the city's manager sees and downloads, attaches nothing
            assert [r["id"] for r in (await manager.get(url)).json()] == [row["id"]]
            refused = await manager.post(url, files={"file": ("x.jpg", photo, "image/jpeg")})
            assert refused.status_code == 403 and "holds no role at hall dongcheng" in refused.text
            page = (await manager.get(f"/incidents/{handle.id}")).text
            assert "电表.jpg" in page and 'id="attach-form"' not in page
        async with signed_in(app, "wu.fang") as lead:  # the console: the page lists it, the form takes another
            page = (await lead.get(f"/incidents/{handle.id}")).text
            assert f'href="/incidents/{handle.id}/attachments/{row["stored_sha256"]}"' in page and "电表.jpg" in page
            assert 'accept="image/*,application/pdf" capture' in page and 'enctype="multipart/form-data"' in page
            form = await lead.post(f"/incidents/{handle.id}/attachments", data={"csrf_token": lead.headers["X-CSRF-Token"]},
                                   files={"file": ("检定证书.pdf", files.scan_pdf(), "application/pdf")})
            assert form.status_code == 303, form.text
            flash = await lead.get(f"/incidents/{handle.id}")
            assert "已上传 / attached: 检定证书.pdf" in flash.text
            bad = await lead.post(f"/incidents/{handle.id}/attachments", data={"csrf_token": lead.headers["X-CSRF-Token"]},
                                  files={"file": ("x.jpg", files.polyglots()["jpeg+zip"], "image/jpeg")})
            assert bad.status_code == 303 and "未上传 / not attached: file: the JPEG is also a ZIP archive" in \
                (await lead.get(f"/incidents/{handle.id}")).text
            download = await lead.get(f"/incidents/{handle.id}/attachments/{row['stored_sha256']}")
            assert download.status_code == 200 and sha256(download.content) == row["stored_sha256"]
        table = Attachments(open_database(settings), store_for(settings))
        assert [(d["by"], d["via"]) for d in table.downloads(handle.id)] == [("zheng.hao", "api"), ("wu.fang", "console")]
        assert len(table.list(handle.id)) == 2
        await handle.terminate("test over")
