# syntax=docker/dockerfile:1
# One image for the API (`tracker serve`), the worker (`tracker worker`) and the one-shot migration
# step (`tracker db upgrade`). Build context: the repository root
#   docker build -f deploy/api.Dockerfile -t tracker-api .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- builder: a virtualenv with the pinned runtime dependencies and the tracker package ----------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# Dependencies first, in their own layer: it is rebuilt only when the lock file changes.
COPY backend/requirements.lock /tmp/requirements.lock
RUN pip install -r /tmp/requirements.lock

# The package is installed in editable mode from /app/backend on purpose: tracker.migrations finds
# alembic.ini and migrations/ next to the package (backend/), and a wheel does not carry them.
COPY backend/pyproject.toml backend/alembic.ini /app/backend/
COPY backend/migrations /app/backend/migrations
COPY backend/tracker /app/backend/tracker
RUN pip install --no-deps -e /app/backend \
 && python -m compileall -q /app/backend/tracker /app/backend/migrations

# ---- final: the virtualenv and the code, run as an unprivileged user -----------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production \
    STORAGE_DIR=/data/storage \
    API_HOST=0.0.0.0 \
    API_PORT=8000

RUN groupadd --system --gid 10001 tracker \
 && useradd --system --uid 10001 --gid tracker --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin tracker \
 && mkdir -p /data/storage \
 && chown -R tracker:tracker /data

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app/backend /app/backend
COPY deploy/healthcheck.py /app/deploy/healthcheck.py

WORKDIR /app
# An empty named volume mounted here takes this directory's owner, so the app can write to it.
VOLUME ["/data/storage"]
USER tracker:tracker
EXPOSE 8000

# No image-level HEALTHCHECK: the same image runs three different roles, so compose.yaml gives
# each its own (readiness for the API, database and leader lock for the worker, none for migrate).
CMD ["tracker", "serve", "--host", "0.0.0.0", "--port", "8000"]
