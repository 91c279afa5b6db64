"""No Docker engine runs here, so docker-compose.yml and the Dockerfile are checked statically."""

from __future__ import annotations

import re

import yaml

from groupdesk.config import REPO_ROOT, Settings

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]


def settings_variables() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def test_the_services_of_a_cluster():
    assert {"postgresql", "temporal", "temporal-ui", "worker"} <= set(SERVICES)


def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service.get("image")
        assert image, f"{name}: no image"
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"


def test_start_order_waits_for_health():
    assert "healthcheck" in SERVICES["postgresql"] and "healthcheck" in SERVICES["temporal"]
    assert SERVICES["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    for name in ("temporal-ui", "worker"):
        assert SERVICES[name]["depends_on"]["temporal"]["condition"] == "service_healthy"


def test_temporal_uses_postgresql():
    env = SERVICES["temporal"]["environment"]
    assert env["DB"].startswith("postgres") and env["POSTGRES_SEEDS"] == "postgresql"


def test_worker_settings_are_ones_the_code_reads():
    env = SERVICES["worker"]["environment"]
    unknown = set(env) - settings_variables()
    assert not unknown, f"worker sets variables groupdesk never reads: {unknown}"
    assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
    Settings(**{k: str(v) for k, v in env.items()})  # every value parses


def test_dockerfile_runs_the_worker_as_a_non_root_user():
    text = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.1[1-9][\w.-]*", text, re.M)
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert 'CMD ["python", "worker.py"]' in text
    for path in ("worker.py", "groupdesk", "workflows", "activities", "playbooks"):
        assert path in text, f"the image misses {path}"
