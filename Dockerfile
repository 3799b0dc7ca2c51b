# syntax=docker/dockerfile:1
# Portail Famille: the bot as one image, for `portail-famille run --webhook` (the default
# command) and `portail-famille db upgrade` (the release step, see compose.yaml).
#
#   docker build -t portail-famille .
#
# The base is pinned to Python's minor version and Debian's release, the ones the project is
# tested on (Python 3.11, Debian 12). To pin it to the byte, replace the tag by its digest:
# `docker buildx imagetools inspect python:3.11-slim-bookworm` prints it.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/app/.venv/bin:$PATH

# DejaVu Sans: the font every PDF embeds (bot/pdf_fonts.py).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# A dedicated user without a login; it owns only data/ (the SQLite file, when used).
RUN groupadd --system --gid 10001 portail \
    && useradd --system --uid 10001 --gid portail --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin portail

WORKDIR /app

# The dependencies first, from the lock (every file checked against its hash), so that a code
# change does not reinstall them.
COPY requirements-runtime.lock ./
RUN python -m venv /app/.venv \
    && pip install --require-hashes --no-deps -r requirements-runtime.lock

# The project itself, editable like `make install` does: the catalogs are found beside it.
COPY pyproject.toml README.md babel.cfg ./
COPY bot ./bot
COPY conversations ./conversations
COPY storage ./storage
COPY locales ./locales
RUN pip install --no-deps -e . \
    && pybabel compile --domain messages --directory locales --statistics \
    && mkdir -p /app/data \
    && chown portail:portail /app/data

USER 10001:10001

EXPOSE 8080

# 200 when healthy, 503 otherwise (database, scheduler tick, outbox backlog: bot/health.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('PORT') or '8080'), timeout=4)"]

ENTRYPOINT ["portail-famille"]
CMD ["run", "--webhook"]
