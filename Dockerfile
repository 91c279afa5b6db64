# groupdesk: one image for the worker and the console.
# Stage 1 builds a wheel with the build tools; stage 2 only installs it and runs as a non-root user.
FROM python:3.11.10-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md worker.py ./
COPY groupdesk ./groupdesk
COPY workflows ./workflows
COPY activities ./activities
RUN pip install --no-cache-dir build && python -m build --wheel --outdir /wheels

FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GROUPDESK_DATA_DIR=/data GROUPDESK_PLAYBOOKS_DIR=/app/playbooks
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 groupdesk && mkdir -p /data && chown groupdesk /data
COPY worker.py ./
COPY playbooks ./playbooks
USER groupdesk
EXPOSE 8800 9464 9465
CMD ["python", "worker.py"]
