"""The HTTP API (FastAPI): thin endpoints over repositories and services."""
