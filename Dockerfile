# The Vagus API and worker image. Configured entirely by VAGUS_* environment variables.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VAGUS_MIGRATIONS_DIR=/app/migrations \
    VAGUS_DATA_DIR=/var/lib/vagus \
    VAGUS_HOST=0.0.0.0

WORKDIR /app
COPY pyproject.toml README.md ./
COPY connectors ./connectors
COPY signal_processing ./signal_processing
COPY service ./service
COPY migrations ./migrations
RUN pip install --no-cache-dir . \
    && useradd --system --home /var/lib/vagus --create-home vagus
USER vagus
EXPOSE 8000
CMD ["vagus", "serve"]
