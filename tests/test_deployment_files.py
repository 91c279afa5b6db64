"""No Docker engine runs here, so docker-compose.yml, the Dockerfile and .env.example are checked statically:
every service's command exists in the image, start order is acyclic and waits for health, only the console
is published, workers share no disk, Temporal's schemas come from a one-shot job, everything is pinned."""

from __future__ import annotations

import re
from graphlib import CycleError, TopologicalSorter

import typer.main
import yaml

from groupdesk.cli import app as cli_app
from groupdesk.runtime.config import REPO_ROOT, Settings
from groupdesk.core import search_attributes as sa

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
ENV_EXAMPLE = (REPO_ROOT / ".env.example").read_text(encoding="utf-8")
INIT_SCRIPT = (REPO_ROOT / "deploy" / "postgres" / "10-groupdesk.sh").read_text(encoding="utf-8")
GROUPDESK = [name for name, s in SERVICES.items() if s.get("image", "").startswith("groupdesk:")]
ONE_SHOT = [name for name, s in SERVICES.items() if s.get("restart") == "no"]


# boto3 reads these itself for the evidence store (GROUPDESK_ATTACHMENTS_URL=s3://...)
AWS_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


def settings_variables() -> set[str]:
    return {field.alias for field in Settings.model_fields.values() if field.alias} | AWS_VARIABLES


def test_the_services_of_a_cluster():
    assert {"postgresql", "temporal-schema", "temporal", "temporal-setup", "migrate", "worker", "console"} \
        <= set(SERVICES)
    assert set(GROUPDESK) == {"migrate", "worker", "console"}
    assert SERVICES["worker"]["deploy"]["replicas"] == 2


def test_every_groupdesk_command_exists_in_the_image():
    cli = typer.main.get_command(cli_app)
    for name in GROUPDESK:
        command = SERVICES[name]["command"]
        if command[0] == "groupdesk":  # the console script the wheel installs: walk its subcommands
            group, args = cli, command[1:]
            while hasattr(group, "list_commands"):  # a group (typer vendors its own click)
                group = group.get_command(group.context_class(group), args[0])
                assert group is not None, f"{name}: groupdesk has no command {command[1:]}"
                args = args[1:]
            for option in [a for a in args if a.startswith("--")]:
                assert any(option in p.opts for p in group.params), f"{name}: {option} is not an option"
        else:  # python -m <module shipped in the wheel>
            assert command[:2] == ["python", "-m"] and (REPO_ROOT / f"{command[2]}.py").exists(), command
            assert command[2] in re.search(r"py-modules = \[(.*)\]", (REPO_ROOT / "pyproject.toml").read_text())[1]
    assert re.findall(r'^CMD \["python", "-m", "worker"\]', DOCKERFILE, re.M)


def test_admin_jobs_use_the_temporal_tools_for_both_stores():
    schema = " ".join(SERVICES["temporal-schema"]["command"])
    assert "temporal-sql-tool" in schema and "postgres12" in schema
    for store in ("temporal/versioned", "visibility/versioned"):
        assert f"/etc/temporal/schema/postgresql/v12/{store}" in schema
    assert "--db temporal_visibility" in schema and "--db $$db" in schema
    assert SERVICES["temporal"]["image"].startswith("temporalio/server:")
    assert not any("auto-setup" in s.get("image", "") for s in SERVICES.values())
    setup = " ".join(SERVICES["temporal-setup"]["command"])
    assert "namespace create" in setup
    for flag in sa.cli_flags():
        name, kind = flag.split("=")
        assert f"--name {name} --type {kind}" in setup


def test_start_order_is_acyclic_and_waits_for_health_or_completion():
    graph = {name: set(s.get("depends_on", {})) for name, s in SERVICES.items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"docker-compose.yml depends_on has a cycle: {exc.args[1]}") from None
    assert order.index("temporal-schema") < order.index("temporal") < order.index("temporal-setup") \
        < order.index("worker")
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            assert rule["condition"] == wanted, f"{name} -> {dependency}: {rule}"
            assert dependency in ONE_SHOT or "healthcheck" in SERVICES[dependency]
    for name in set(SERVICES) - set(ONE_SHOT) - {"temporal-ui"}:
        assert "healthcheck" in SERVICES[name], f"{name} has no healthcheck"
    assert {"worker", "console"} <= {n for n, s in SERVICES.items()
                                     if "migrate" in s.get("depends_on", {})}


def test_only_the_console_is_published_and_temporal_is_internal():
    published = {name for name, s in SERVICES.items() if s.get("ports")}
    assert published == {"console"}, published
    # plain http stays on the host's loopback, for a TLS proxy in front (the session cookie is Secure)
    assert all(str(port).startswith("127.0.0.1:") for port in SERVICES["console"]["ports"]), SERVICES["console"]
    assert COMPOSE["networks"]["internal"]["internal"] is True
    for name in ("postgresql", "temporal", "temporal-schema", "temporal-setup", "migrate"):
        assert SERVICES[name]["networks"] == ["internal"], name
    assert "ui" in SERVICES["temporal-ui"].get("profiles", [])  # started only on request, through a tunnel


def test_workers_share_no_disk_and_use_postgresql():
    for name in GROUPDESK:
        assert not SERVICES[name].get("volumes"), f"{name} mounts {SERVICES[name]['volumes']}"
        env = SERVICES[name]["environment"]
        url = env["GROUPDESK_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://groupdesk:${GROUPDESK_DB_PASSWORD:?") and \
            url.endswith("@postgresql:5432/groupdesk"), url
        assert env["GROUPDESK_CODEC_KEYS"].startswith("${GROUPDESK_CODEC_KEYS:?")  # encryption is required
    assert "CREATE ROLE groupdesk LOGIN PASSWORD" in INIT_SCRIPT and "CREATE DATABASE groupdesk OWNER groupdesk" \
        in INIT_SCRIPT
    mounts = SERVICES["postgresql"]["volumes"]
    assert "./deploy/postgres/10-groupdesk.sh:/docker-entrypoint-initdb.d/10-groupdesk.sh:ro" in mounts
    assert SERVICES["postgresql"]["environment"]["GROUPDESK_DB_PASSWORD"].startswith("${GROUPDESK_DB_PASSWORD:?")


def test_images_are_pinned_and_resources_limited():
    for name, service in SERVICES.items():
        image = service.get("image")
        assert image, f"{name}: no image"
        tag = image.rpartition(":")[2] if ":" in image else ""
        pinned = re.search(r"\d+\.\d+", tag) or re.fullmatch(r"RELEASE\.\d{4}-\d\d-\d\dT[\d-]+Z", tag)  # MinIO's
        assert tag and tag != "latest" and pinned, f"{name}: image {image!r} is not pinned"
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("cpus") and limits.get("memory"), f"{name}: no resource limits"
    for base in re.findall(r"^FROM (\S+)", DOCKERFILE, re.M):
        assert re.search(r":\d+\.\d+\.\d+", base), f"Dockerfile base {base} is not pinned to a release"


def test_the_console_signs_in_only_accounts_given_to_it():
    console = SERVICES["console"]
    (given,) = console["configs"]
    assert console["environment"]["GROUPDESK_ACCOUNTS"] == given["target"]
    assert COMPOSE["configs"][given["source"]]["file"].startswith("${GROUPDESK_ACCOUNTS_FILE:?")
    assert "GROUPDESK_DEV_MODE" not in ENV_EXAMPLE  # dev mode is `groupdesk dev`, never a setting


def test_groupdesk_services_set_only_settings_the_code_reads():
    for name in GROUPDESK:
        env = SERVICES[name]["environment"]
        unknown = set(env) - settings_variables()
        assert not unknown, f"{name} sets variables groupdesk never reads: {unknown}"
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        Settings(**{k: str(v) for k, v in env.items() if "${" not in str(v)})
    assert SERVICES["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")


def test_every_setting_is_documented_in_env_example():
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE, re.M))
    assert settings_variables() <= documented, settings_variables() - documented
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (REPO_ROOT / "docker-compose.yml").read_text()))
    assert required <= documented, required - documented
    set_values = dict(re.findall(r"^([A-Z][A-Z0-9_]+)=(.*)$", ENV_EXAMPLE, re.M))
    Settings(**{k: v for k, v in set_values.items() if k in settings_variables()})  # the example parses


def test_dockerfile_is_multi_stage_pinned_and_runs_as_a_non_root_user():
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.M)) >= 2 and "COPY --from=build" in DOCKERFILE
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user and user[-1] not in ("root", "0")
    for path in ("worker.py", "groupdesk", "workflows", "activities", "playbooks"):
        assert path in DOCKERFILE, f"the image misses {path}"
    installs = [line.split() for line in re.findall(r"pip install ([^&\\\n]+)", DOCKERFILE)]
    assert installs and all("-c" in args for args in installs), "every pip install in the image uses constraints"
