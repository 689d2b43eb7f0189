"""Fixtures of the job tests (an isolated database per module; see jobs_support)."""

from tests.service.jobs_support import jobs_pool, jobs_settings, jobs_url  # noqa: F401
