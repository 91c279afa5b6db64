# groupdesk: one image for the worker, the console and `groupdesk db upgrade`.
# Stage 1 builds a wheel (every package, the playbooks, the migrations); stage 2 installs it with the
# pinned versions of constraints.txt and runs as a non-root user.
FROM python:3.11.10-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md worker.py constraints.txt ./
COPY groupdesk ./groupdesk
COPY workflows ./workflows
COPY activities ./activities
COPY playbooks ./playbooks
RUN pip install --no-cache-dir -c constraints.txt build "setuptools>=68" \
    && python -m build --wheel --no-isolation --outdir /wheels

FROM python:3.11.10-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 GROUPDESK_DATA_DIR=/data
WORKDIR /app
COPY --from=build /wheels /wheels
COPY constraints.txt /wheels/
RUN pip install --no-cache-dir -c /wheels/constraints.txt /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 10001 groupdesk && mkdir -p /data && chown groupdesk /data && chmod 700 /data
USER groupdesk
EXPOSE 8800 9464 9465
# the worker; the console is `groupdesk console`, migrations alone `groupdesk db upgrade`
CMD ["python", "-m", "worker"]
