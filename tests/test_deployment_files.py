"""No Docker engine runs here, so docker-compose.yml, the Dockerfile and .env.example are checked statically."""

from __future__ import annotations

import re

import yaml

from groupdesk.config import REPO_ROOT, Settings
from workflows import search_attributes as sa

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
ENV_EXAMPLE = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")


def settings_variables() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias}


def test_the_services_of_a_cluster():
    assert {"postgresql", "temporal", "temporal-ui", "register-search-attributes", "worker", "console"} <= set(SERVICES)
    assert SERVICES["worker"]["deploy"]["replicas"] == 2


def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service.get("image")
        assert image, f"{name}: no image"
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: image {image!r} is not pinned"
    for base in re.findall(r"^FROM (\S+)", DOCKERFILE, re.M):
        assert re.search(r":\d+\.\d+\.\d+", base), f"Dockerfile base {base} is not pinned to a release"


def test_start_order_waits_for_health_and_registration():
    assert all("healthcheck" in SERVICES[s] for s in ("postgresql", "temporal", "worker", "console"))
    assert SERVICES["temporal"]["depends_on"]["postgresql"]["condition"] == "service_healthy"
    for name in ("temporal-ui", "register-search-attributes"):
        assert SERVICES[name]["depends_on"]["temporal"]["condition"] == "service_healthy"
    for name in ("worker", "console"):
        assert SERVICES[name]["depends_on"]["register-search-attributes"]["condition"] == \
            "service_completed_successfully"


def test_registration_creates_every_search_attribute_with_its_type():
    command = " ".join(SERVICES["register-search-attributes"]["command"])
    for flag in sa.cli_flags():
        name, kind = flag.split("=")
        assert f"--name {name} --type {kind}" in command


def test_temporal_uses_postgresql_and_the_ui_decrypts_through_the_console():
    env = SERVICES["temporal"]["environment"]
    assert env["DB"].startswith("postgres") and env["POSTGRES_SEEDS"] == "postgresql"
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")


def test_groupdesk_services_set_only_settings_the_code_reads():
    for name in ("worker", "console"):
        env = SERVICES[name]["environment"]
        unknown = set(env) - settings_variables()
        assert not unknown, f"{name} sets variables groupdesk never reads: {unknown}"
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        Settings(**{k: str(v) for k, v in env.items()})


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE, re.M))
    assert settings_variables() <= documented, settings_variables() - documented
    set_values = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", ENV_EXAMPLE, re.M))
    Settings(**{k: v for k, v in set_values.items() if k in settings_variables()})  # the example parses


def test_dockerfile_is_multi_stage_and_runs_as_a_non_root_user():
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.M)) >= 2 and "COPY --from=build" in DOCKERFILE
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and user[-1] not in ("root", "0")
    for path in ("worker.py", "groupdesk", "workflows", "activities", "playbooks"):
        assert path in DOCKERFILE, f"the image misses {path}"
