# The nurture image: one image for every role (migrate, api, worker, scheduler); the
# command picks the role. Build and run the whole stack with `docker compose up --build`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install the package from a scratch copy of the source, then drop the source, so every
# process (including `dramatiq`, which puts the working directory on sys.path) imports the
# installed package, with its migrations shipped as package data.
COPY pyproject.toml README.md /src/
COPY nurture /src/nurture
COPY workers /src/workers
RUN pip install /src && rm -rf /src

# The funnel: what marketing edits. `nurture validate` checks it.
WORKDIR /app
COPY nurture.yaml ./
COPY sequences ./sequences
COPY templates ./templates

RUN useradd --system --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin nurture \
    && mkdir -p /app/var \
    && chown nurture:nurture /app/var
USER nurture

ENV NURTURE_FUNNEL_DIR=/app \
    NURTURE_VAR_DIR=/app/var \
    NURTURE_HOST=0.0.0.0 \
    NURTURE_PORT=8000

EXPOSE 8000
CMD ["nurture", "--help"]
