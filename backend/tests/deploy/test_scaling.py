"""The stack runs API replicas and a standby worker, and can keep attachments in a bucket: the
compose file, its optional SeaweedFS service and .env.example say so (docs/operations.md)."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest
import yaml

from tests.deploy.test_compose import COMPOSE, DEPLOY, ENV_EXAMPLE, docker_compose, mounts

STORAGE_SETTINGS = (
    "STORAGE_URL",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
)


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return result


def test_api_runs_replicas_and_the_worker_a_standby_by_default(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["api"]["deploy"]["replicas"] == "${API_REPLICAS:-2}"
    assert services["worker"]["deploy"]["replicas"] == "${WORKER_REPLICAS:-2}"
    for name in ("api", "worker"):
        assert "container_name" not in services[name], f"{name} could not be scaled"


def test_the_backend_takes_the_storage_settings_from_env(
    services: dict[str, dict[str, Any]],
) -> None:
    example = ENV_EXAMPLE.read_text()
    for name in (*STORAGE_SETTINGS, "SESSION_DATABASE_URL", "DB_POOL_SIZE"):
        for service in ("api", "worker", "migrate"):
            assert name in services[service]["environment"], f"{service} does not pass {name}"
        assert f"# {name}=" in example, f".env.example does not mention {name}"
    assert "# API_REPLICAS=" in example and "# WORKER_REPLICAS=" in example


def test_the_optional_object_store_is_a_profile_on_the_internal_network(
    services: dict[str, dict[str, Any]],
) -> None:
    store = services["objectstore"]
    assert store["profiles"] == ["s3"]
    assert ":" in store["image"] and not store["image"].endswith(":latest")
    assert "ports" not in store, "only the proxy publishes ports"
    assert store["networks"] == ["backend"]
    assert "/healthz" in " ".join(store["healthcheck"]["test"])
    script = mounts(store)["/etc/seaweedfs/objectstore.sh"]
    assert (DEPLOY / script).is_file()
    # Nobody depends on it: with a bucket elsewhere it is not started, and without it the API
    # is simply not ready (/readyz checks the store).
    for name, service in services.items():
        assert "objectstore" not in service.get("depends_on", {}), name


@pytest.mark.parametrize("profile", [[], ["--profile", "s3"]], ids=["default", "s3"])
def test_compose_is_valid_with_and_without_the_object_store(profile: list[str]) -> None:
    own = {"SECRET_KEY", "POSTGRES_PASSWORD", "DATABASE_URL", *STORAGE_SETTINGS}
    result = subprocess.run(
        [docker_compose(), "--env-file", str(ENV_EXAMPLE), *profile, "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in own},
    )
    assert result.returncode == 0, result.stderr
    rendered = yaml.safe_load(result.stdout)["services"]
    assert rendered["api"]["deploy"]["replicas"] == 2
    assert rendered["worker"]["deploy"]["replicas"] == 2
