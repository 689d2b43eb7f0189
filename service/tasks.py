"""Every background job kind of the product, in one place.

| kind | enqueued by | does |
|---|---|---|
| ``import`` | upload endpoint, inbox sync | ``imports.service.run_import`` for one ledger row |
| ``inbox_sync`` | scheduler, every ``inbox_every_s`` | scans ``VAGUS_INBOX`` (``imports.inbox``) |
| ``recompute_sweep`` | scheduler, every ``recompute_every_s`` | one ``recompute_person`` per person with new data |
| ``recompute_person`` | ``recompute_sweep`` | stale session responses, then evidence; webhook events |
| ``baseline_sweep`` | scheduler, every ``baselines_every_s`` | one ``nightly_baselines`` per person and local night |
| ``nightly_baselines`` | ``baseline_sweep`` | the person's recovery status for the day whose night ended |
| ``maintenance`` | scheduler, every ``maintenance_every_s`` | refresh rollups (plain PostgreSQL), prune old jobs |
| ``webhook_deliver`` | ``webhooks.service.emit`` | one signed POST to one subscription |
"""

from __future__ import annotations

from service.analysis import tasks as analysis_tasks
from service.imports import tasks as import_tasks
from service.jobs import maintenance, registry
from service.jobs.registry import Kind
from service.webhooks import tasks as webhook_tasks

KINDS: tuple[Kind, ...] = (
    Kind("import", import_tasks.import_file, max_attempts=5),
    Kind("inbox_sync", import_tasks.inbox_sync, max_attempts=1),
    Kind("recompute_sweep", analysis_tasks.recompute_sweep, max_attempts=3),
    Kind("recompute_person", analysis_tasks.recompute_person, max_attempts=5),
    Kind("baseline_sweep", analysis_tasks.baseline_sweep, max_attempts=3),
    Kind("nightly_baselines", analysis_tasks.nightly_baselines, max_attempts=3),
    Kind("maintenance", maintenance.maintenance, max_attempts=3),
    Kind("webhook_deliver", webhook_tasks.webhook_deliver, max_attempts=8),
)


def install() -> None:
    """Make the product's job kinds runnable in this process (idempotent)."""
    registry.install(KINDS)
