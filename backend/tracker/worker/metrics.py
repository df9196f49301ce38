"""The worker's Prometheus metrics: one series per job, served by the worker itself."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from tracker.config import Settings
from tracker.observability.logging import get_logger

log = get_logger("tracker.worker")
REGISTRY = CollectorRegistry(auto_describe=True)

JOB_RUNS = Counter(
    "tracker_worker_job_runs_total",
    "Job runs by job and outcome (success or failure).",
    ["job", "outcome"],
    registry=REGISTRY,
)
JOB_FAILURES = Counter(
    "tracker_worker_job_failures_total",
    "Job runs that raised an error, by job.",
    ["job"],
    registry=REGISTRY,
)
JOB_DURATION = Histogram(
    "tracker_worker_job_duration_seconds",
    "How long a job run took, successful or not, by job.",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
    registry=REGISTRY,
)
JOB_LAST_SUCCESS = Gauge(
    "tracker_worker_job_last_success_timestamp_seconds",
    "Unix time of the job's last successful run in this process.",
    ["job"],
    registry=REGISTRY,
)
LEADER = Gauge(
    "tracker_worker_leader",
    "1 while this worker holds the scheduling lock, 0 while it stands by.",
    registry=REGISTRY,
)


def serve_metrics(settings: Settings) -> bool:
    """Serve /metrics on WORKER_METRICS_HOST:WORKER_METRICS_PORT; False when off or unavailable.

    A taken port is not fatal: the worker's jobs matter more than its metrics endpoint.
    """
    if not settings.worker_metrics_port:
        return False
    try:
        start_http_server(
            settings.worker_metrics_port, addr=settings.worker_metrics_host, registry=REGISTRY
        )
    except OSError as exc:
        log.warning(
            "worker_metrics_unavailable",
            host=settings.worker_metrics_host,
            port=settings.worker_metrics_port,
            error=str(exc),
        )
        return False
    log.info(
        "worker_metrics_serving",
        host=settings.worker_metrics_host,
        port=settings.worker_metrics_port,
    )
    return True
