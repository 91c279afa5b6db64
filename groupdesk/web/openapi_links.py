"""OpenAPI links: how a client (or a fuzzer) gets from what one operation returns to the operations it enables.

Starting an incident (`POST /api/incidents`, 201 `{"id": ...}`) links to every operation on `{incident_id}`;
making a promise (201 `{"id": "p1"}`) links to the operations on that promise, attaching evidence to its download.
Added to the generated schema, so a new operation on an incident is linked without being listed here; an operation
that needs more than the link gives (an attachment's `{sha}`) is linked from where that value comes from.
"""

from __future__ import annotations

from fastapi import FastAPI

METHODS = ("get", "post", "put", "patch", "delete")


def add_links(schema: dict) -> dict:
    paths = schema.get("paths", {})
    start = paths.get("/api/incidents", {}).get("post")
    if start:
        _link(start, "201", paths, lambda path: "{incident_id}" in path,
              {"incident_id": "$response.body#/id"})
    promise = paths.get("/api/incidents/{incident_id}/promises", {}).get("post")
    if promise:
        _link(promise, "201", paths, lambda path: "{promise_id}" in path,
              {"incident_id": "$request.path.incident_id", "promise_id": "$response.body#/id"})
    attach = paths.get("/api/incidents/{incident_id}/attachments", {}).get("post")
    if attach:
        _link(attach, "201", paths, lambda path: "{sha}" in path,
              {"incident_id": "$request.path.incident_id", "sha": "$response.body#/stored_sha256"})
    return schema


def _link(operation: dict, status: str, paths: dict, wanted, parameters: dict) -> None:
    links = operation.setdefault("responses", {}).setdefault(status, {"description": "created"}) \
        .setdefault("links", {})
    for path, item in sorted(paths.items()):
        if not wanted(path):
            continue
        for method in METHODS:
            target = item.get(method)
            if target and "operationId" in target:
                names = {p["name"] for p in target.get("parameters", []) if p.get("in") == "path"}
                links[target["operationId"]] = {"operationId": target["operationId"],
                                                "parameters": {k: v for k, v in parameters.items() if k in names}}


def install(app: FastAPI) -> None:
    """The app's /openapi.json (and app.openapi()) with the links."""
    generate = app.openapi

    def with_links() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = add_links(generate())
        return app.openapi_schema

    app.openapi = with_links
