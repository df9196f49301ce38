"""The production stack as written: deploy/compose.yaml, its Dockerfiles, .env.example, the proxy
config and the CI workflow. No Docker engine is needed: files are parsed, and the compose file is
validated with `docker-compose config` (installed by scripts/install-system-packages)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tracker.config import Settings

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"
OPERATIONS = REPO / "docs" / "operations.md"

SERVICES = {"proxy", "web", "api", "worker", "migrate", "db"}
ONE_SHOT = {"migrate"}
SECRETS = {"SECRET_KEY", "POSTGRES_PASSWORD", "DATABASE_URL"}
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in deps.items()}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Mount target -> source, for the short `source:target[:mode]` and the long syntax."""
    result = {}
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
        else:
            source, target = volume.get("source", ""), volume["target"]
        result[target] = source
    return result


def final_stage(dockerfile: Path) -> list[str]:
    """The instructions after the last FROM, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")
    ]
    last_from = max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM "))
    return lines[last_from:]


def built_services(services: dict[str, dict[str, Any]]) -> dict[str, Path]:
    result = {}
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        context = (DEPLOY / build["context"]).resolve()
        result[name] = context / build.get("dockerfile", "Dockerfile")
    return result


def test_every_service_of_the_stack_is_defined(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) >= SERVICES, f"missing: {SERVICES - set(services)}"


def test_every_long_running_service_has_a_health_check(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", f"{name} is one-shot: it must not restart"
            continue
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert check.get("test"), f"{name}'s healthcheck has no test"


def test_health_checks_probe_what_each_service_does(services: dict[str, dict[str, Any]]) -> None:
    def probe(name: str) -> str:
        return " ".join(map(str, services[name]["healthcheck"]["test"]))

    assert "/readyz" in probe("api"), "the API is healthy only when ready (database + migrations)"
    assert "pg_isready" in probe("db")
    assert "worker" in probe("worker")
    assert "3000" in probe("web")


def test_database_and_attachments_live_on_named_volumes(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    named = set(compose.get("volumes") or {})
    db_source = mounts(services["db"]).get("/var/lib/postgresql/data")
    assert db_source in named, "db data must be a named volume at /var/lib/postgresql/data"

    sources = set()
    for name in ("api", "worker"):
        storage_dir = services[name]["environment"]["STORAGE_DIR"]
        source = mounts(services[name]).get(storage_dir)
        assert source in named, f"{name}: STORAGE_DIR ({storage_dir}) must be a named volume"
        sources.add(source)
    assert len(sources) == 1, "api and worker must share one attachments volume"
    assert sources.isdisjoint({db_source})


def test_migrations_run_once_before_api_and_worker(services: dict[str, dict[str, Any]]) -> None:
    assert services["migrate"]["command"] == ["tracker", "db", "upgrade"]
    assert depends_on(services["migrate"]).get("db") == "service_healthy"
    for name in ("api", "worker"):
        assert depends_on(services[name]).get("migrate") == "service_completed_successfully", (
            f"{name} must start only after the migrations succeeded"
        )
    assert services["api"]["command"][:2] == ["tracker", "serve"]
    assert services["worker"]["command"] == ["tracker", "worker"]


def test_only_the_proxy_publishes_ports(services: dict[str, dict[str, Any]]) -> None:
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"proxy"}
    for name, service in services.items():
        assert service.get("network_mode") != "host", f"{name} must not use the host network"


def test_the_proxy_routes_api_and_websocket_to_the_api_and_the_rest_to_web(
    services: dict[str, dict[str, Any]],
) -> None:
    caddyfile = next(
        DEPLOY / source
        for target, source in mounts(services["proxy"]).items()
        if target == "/etc/caddy/Caddyfile"
    )
    text = caddyfile.read_text()
    assert re.search(r"@api path /api /api/\*", text), "/api/* (and /api/ws) must match @api"
    assert "dynamic a api 8000" in text, "every API replica must be an upstream"
    assert "reverse_proxy web:3000" in text


def test_no_secret_has_a_default() -> None:
    text = COMPOSE.read_text()
    found: set[str] = set()
    for match in INTERPOLATION.finditer(text):
        name, modifier = match.group(1), match.group(2)
        if name in SECRETS:
            found.add(name)
            assert modifier == ":?", f"${{{name}}} must be required with `:?`, not {modifier!r}"
    assert found >= {"SECRET_KEY", "POSTGRES_PASSWORD"}, "secrets must come from the environment"


def test_backend_services_take_their_secrets_from_the_environment(
    services: dict[str, dict[str, Any]],
) -> None:
    for name in ("api", "worker", "migrate"):
        env = services[name]["environment"]
        assert env["ENVIRONMENT"] == "production"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["WEB_ORIGIN"].startswith("${WEB_ORIGIN:?")
    assert services["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def test_env_example_sets_every_required_variable_with_a_placeholder() -> None:
    required = {
        m.group(1) for m in INTERPOLATION.finditer(COMPOSE.read_text()) if m.group(2) == ":?"
    }
    example = env_file(ENV_EXAMPLE)
    assert required <= set(example), f"missing in .env.example: {required - set(example)}"
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        assert example[name].startswith("change-me"), f"{name} must be an obvious placeholder"


def test_the_app_refuses_the_placeholder_secret_key_in_production() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment="production",
            secret_key=env_file(ENV_EXAMPLE)["SECRET_KEY"],
            database_url="postgresql+asyncpg://tracker:x@db:5432/tracker",
        )


def test_images_are_built_from_dockerfiles_that_exist_and_drop_root(
    services: dict[str, dict[str, Any]],
) -> None:
    built = built_services(services)
    assert set(built) >= {"web", "api", "worker", "migrate"}
    assert built["api"] == built["worker"] == built["migrate"], "one image for api/worker/migrate"
    assert services["api"]["image"] == services["worker"]["image"] == services["migrate"]["image"]
    for name, dockerfile in built.items():
        assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
        stage = final_stage(dockerfile)
        users = [ln.split(None, 1)[1] for ln in stage if ln.upper().startswith("USER ")]
        assert users, f"{dockerfile.name}: the final stage has no USER"
        user = users[-1].split(":")[0]
        assert user not in ("root", "0"), f"{dockerfile.name} runs as root"
    for service in services.values():
        if "build" not in service:
            assert ":" in service["image"], f"pin a tag for {service['image']}"


def test_dockerfiles_copy_only_files_that_exist() -> None:
    for dockerfile in DEPLOY.glob("*.Dockerfile"):
        text = re.sub(r"\\\n", " ", dockerfile.read_text())
        multi_stage = len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) > 1
        assert multi_stage, f"{dockerfile.name} must be multi-stage"
        for line in text.splitlines():
            parts = line.split()
            if not parts or parts[0] != "COPY" or any(p.startswith("--from") for p in parts):
                continue
            for source in [p for p in parts[1:-1] if not p.startswith("--")]:
                assert (REPO / source).exists(), f"{dockerfile.name}: COPY {source} is missing"


def docker_compose() -> str:
    path = shutil.which("docker-compose")
    if path is None:
        # The project's own installer, as `make test` runs it; where it cannot install (no
        # root, no sudo) the validation cannot run here, which is not a fault of the file.
        installer = subprocess.run(
            [str(REPO / "scripts" / "install-system-packages")],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        path = shutil.which("docker-compose")
        if path is None:
            pytest.skip(
                "docker-compose is missing and scripts/install-system-packages could not "
                f"install it: {installer.stderr.strip() or installer.stdout.strip()}"
            )
    return path


def run_compose_config(env: Path) -> subprocess.CompletedProcess[str]:
    """`docker-compose config -q` with ENV as the only source of the stack's variables."""
    own = set(env_file(ENV_EXAMPLE)) | SECRETS
    return subprocess.run(
        [docker_compose(), "--env-file", str(env), "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in own},
    )


def test_compose_file_is_valid_for_docker_compose() -> None:
    result = run_compose_config(ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_secrets(tmp_path: Path) -> None:
    for secret in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        env = tmp_path / f"without-{secret}.env"
        kept = {k: v for k, v in env_file(ENV_EXAMPLE).items() if k != secret}
        env.write_text("".join(f"{k}={v}\n" for k, v in kept.items()))
        result = run_compose_config(env)
        assert result.returncode != 0, f"compose accepted a stack without {secret}"
        assert secret in result.stderr


def test_ci_workflow_runs_the_same_commands_as_ci_run() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)

    test_job = workflow["jobs"]["test"]
    commands = [step["run"].strip() for step in test_job["steps"] if "run" in step]
    ci_run = [
        ln.strip()
        for ln in (REPO / ".ci" / "run").read_text().splitlines()
        if ln.strip() and not ln.startswith(("#", "set ", "cd "))
    ]
    assert ci_run == ["scripts/install-system-packages", "make test"]
    assert commands == ci_run

    uses = {step.get("uses", "").split("@")[0]: step for step in test_job["steps"]}
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert str(uses["actions/setup-node"]["with"]["node-version"]) == "20"
    assert test_job["services"]["postgres"]["image"].startswith("postgres:17")
    assert test_job["env"]["DATABASE_URL"].startswith("postgresql+asyncpg://")


def test_ci_workflow_builds_both_images_without_pushing() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    builds = [
        step["with"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("docker/build-push-action@")
    ]
    assert {b["file"] for b in builds} == {"deploy/api.Dockerfile", "deploy/web.Dockerfile"}
    assert all(b["push"] is False for b in builds)


def test_operations_guide_documents_every_setting() -> None:
    text = OPERATIONS.read_text()
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in text]
    assert not missing, f"docs/operations.md does not document: {missing}"
