# The groupdesk worker image (hardened into a multi-stage build in a later issue).
FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md worker.py ./
COPY groupdesk ./groupdesk
COPY workflows ./workflows
COPY activities ./activities
COPY playbooks ./playbooks
RUN pip install --no-cache-dir . && useradd --create-home --uid 10001 groupdesk \
    && mkdir -p /data && chown groupdesk /data
USER groupdesk
ENV GROUPDESK_DATA_DIR=/data GROUPDESK_PLAYBOOKS_DIR=/app/playbooks
CMD ["python", "worker.py"]
