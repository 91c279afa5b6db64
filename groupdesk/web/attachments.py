"""Evidence in the console and the JSON API: upload (a phone's camera included), the incident page's list, and
downloads (logged), with the gateway's checks (groupdesk.record.evidence)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from temporalio.client import WorkflowExecutionStatus

from groupdesk.core.models import IncidentState
from groupdesk.core.playbook import Playbook
from groupdesk.web.labels import person_name
from groupdesk.people.permissions import Viewer
from groupdesk.record.evidence_check import MAX_BYTES, EvidenceRefused, megabytes, size_problem
from groupdesk.record.evidence_store import StoreUnavailable
from groupdesk.web.auth import check_csrf, current_viewer, require_viewer

api = APIRouter(prefix="/api")
pages = APIRouter(include_in_schema=False)
UPLOAD_PATH = r"^/(api/)?incidents/[^/]+/attachments$"  # where the body limit is the file's (limits.py)
UPLOAD_LIMIT = MAX_BYTES + 256 * 1024  # the file and the form around it
TOO_LARGE = "file: over the 10 MB limit; attach a smaller photo or scan"
KIND = {"image/jpeg": ("照片", "photo"), "image/png": ("图片", "image"), "image/webp": ("图片", "image"),
        "application/pdf": ("PDF 文件", "PDF")}
SHOWN = ("id", "step", "added_by", "name", "media_type", "size", "original_size", "original_sha256",
         "stored_sha256", "created_at")


def console(request: Request):
    return request.app.state.console


async def _read(upload: object) -> tuple[bytes, str]:
    """The uploaded file (never more than the limit and one byte read) and its name."""
    if not isinstance(upload, UploadFile):
        raise EvidenceRefused("file", "no file was sent; send the photo or the scan as the form field `file`")
    data = await upload.read(MAX_BYTES + 1)
    if problem := size_problem(len(data)):
        raise EvidenceRefused("file", problem, 413 if data else 422)
    return data, upload.filename or ""


async def _attach(request: Request, viewer: Viewer, incident_id: str) -> tuple[dict, bool]:
    form = await request.form(max_files=1, max_fields=10)
    data, name = await _read(form.get("file"))
    step = str(form.get("step") or "").strip() or None
    gateway = await console(request).gateway()
    return await gateway.attach(viewer, incident_id, data, name, step)


def _refusal(exc: Exception) -> JSONResponse:
    if isinstance(exc, StoreUnavailable):
        return JSONResponse({"detail": str(exc)}, status_code=503)
    return JSONResponse({"detail": str(exc), "errors": {exc.field: exc.message}}, status_code=exc.status)


def _download(row: dict, content: bytes) -> Response:
    """The file as a download, never shown as a page of the console's origin."""
    name = row["name"] or f"{row['stored_sha256'][:16]}{'.pdf' if row['media_type'] == 'application/pdf' else ''}"
    return Response(content, media_type=row["media_type"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'",
        "Cache-Control": "private, no-store"})


UPLOAD_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "JPEG, PNG, WebP or PDF, at most 10 MB"},
        "step": {"type": "string", "description": "the step it belongs to (optional)"}}}}}}


@api.post("/incidents/{incident_id}/attachments", dependencies=[Depends(check_csrf)], status_code=201,
          responses={200: {"description": "the incident holds this file already"}, 409: {}, 413: {}, 422: {}},
          openapi_extra={"requestBody": UPLOAD_BODY})
async def upload(incident_id: str, request: Request, viewer: Viewer = Depends(require_viewer)):
    """multipart/form-data: `file` (JPEG, PNG, WebP or PDF, at most 10 MB), optional `step`."""
    try:
        row, created = await _attach(request, viewer, incident_id)
    except (EvidenceRefused, StoreUnavailable) as exc:
        return _refusal(exc)
    return JSONResponse({**{k: row[k] for k in SHOWN}, "created": created}, status_code=201 if created else 200)


@api.get("/incidents/{incident_id}/attachments")
async def listing(incident_id: str, request: Request, viewer: Viewer = Depends(require_viewer)):
    try:
        rows = await (await console(request).gateway()).evidence(viewer, incident_id)
    except EvidenceRefused as exc:
        return _refusal(exc)
    return [{k: r[k] for k in SHOWN} for r in rows]


@api.get("/incidents/{incident_id}/attachments/{sha}")
async def api_download(incident_id: str, sha: str, request: Request, viewer: Viewer = Depends(require_viewer)):
    return await _fetch(request, viewer, incident_id, sha, "api")


async def _fetch(request: Request, viewer: Viewer, incident_id: str, sha: str, via: str) -> Response:
    try:
        row, content = await (await console(request).gateway()).evidence_file(viewer, incident_id, sha, via)
    except (EvidenceRefused, StoreUnavailable) as exc:
        return _refusal(exc)
    return _download(row, content)


def _back(request: Request, incident_id: str, flash: str) -> RedirectResponse:
    request.session["flash"] = flash
    return RedirectResponse(f"/incidents/{incident_id}#attachments", status_code=303)


@pages.post("/incidents/{incident_id}/attachments", dependencies=[Depends(check_csrf)])
async def page_upload(incident_id: str, request: Request):
    viewer = current_viewer(request)
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    try:
        row, created = await _attach(request, viewer, incident_id)
    except (EvidenceRefused, StoreUnavailable) as exc:
        return _back(request, incident_id, f"未上传 / not attached: {exc}")
    done = "已上传 / attached" if created else "该文件已在本事件中 / this file is attached already"
    return _back(request, incident_id, f"{done}: {row['name'] or row['stored_sha256'][:12]}")


@pages.get("/incidents/{incident_id}/attachments/{sha}")
async def page_download(incident_id: str, sha: str, request: Request):
    viewer = current_viewer(request)
    if viewer is None:
        return RedirectResponse("/login", status_code=303)
    return await _fetch(request, viewer, incident_id, sha, "console")


async def panel(console_, viewer: Viewer, state: IncidentState, playbook: Playbook, lang: str) -> dict:
    """The incident page's evidence section: the files with who added them, and whether this viewer may add one."""
    gateway = await console_.gateway()
    rows = await gateway.evidence(viewer, state.id)
    directory = console_.directory()
    en = lang == "en"
    shown = [{**r, "who": person_name(directory, r["added_by"], lang), "kind": KIND[r["media_type"]][en],
              "megabytes": megabytes(r["size"]) if r["size"] >= 1024 * 1024 else f"{max(1, round(r['size'] / 1024))} KB", "step_title": playbook.step_title(r["step"], lang) if r["step"] else ""}
             for r in rows]
    may_attach = viewer.may_note(state.hall_id) and \
        (await gateway.incident(state.id).describe()).status == WorkflowExecutionStatus.RUNNING
    steps = [(sid, playbook.step_title(sid, lang)) for sid in state.current_steps if sid in playbook.steps]
    return {"attachments": shown, "may_attach": may_attach, "attach_steps": steps}
