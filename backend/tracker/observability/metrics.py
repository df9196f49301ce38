"""Prometheus metrics for the API: requests by route and status, latency by route."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "tracker_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "tracker_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
WS_CONNECTIONS = Gauge(
    "tracker_websocket_connections",
    "Open WebSocket connections in this process.",
    registry=REGISTRY,
)
WS_EVENTS_SENT = Counter(
    "tracker_websocket_events_sent_total",
    "Events written to WebSockets by this process (replays included).",
    registry=REGISTRY,
)
WS_DROPPED = Counter(
    "tracker_websocket_dropped_total",
    "WebSockets closed by the server, by reason: slow, idle, inactive, unauthenticated.",
    ["reason"],
    registry=REGISTRY,
)
REALTIME_LISTENER_RECONNECTS = Counter(
    "tracker_realtime_listener_reconnects_total",
    "Times this process re-established its LISTEN connection to PostgreSQL.",
    registry=REGISTRY,
)
