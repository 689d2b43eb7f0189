"""The operator's commands: ``vagus db``, ``serve``, ``worker`` and ``demo``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

import uvicorn

from service.analysis.session_response import WindowConfig
from service.app import create_app
from service.core.cli import AddCommand, CliError, add_group, emit, operator_pool, ready_url
from service.core.db import connect, migrate
from service.core.db.types import Pool
from service.core.settings import Settings
from service.demo import service as demo
from service.jobs import runtime
from service.web.pages import sign_in_link


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    tier, applied = migrate.upgrade(connect.database_url(settings), settings.migrations_dir)
    emit(
        args,
        {"tier": tier, "applied": applied},
        f"tier {tier}: applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""),
    )
    return 0


def cmd_db_status(args: argparse.Namespace, settings: Settings) -> int:
    status = migrate.status(connect.database_url(settings), settings.migrations_dir)
    emit(
        args,
        {
            "tier": status.tier,
            "applied": status.applied,
            "pending": len(status.pending),
            "pending_files": status.pending,
        },
        f"tier {status.tier}; {len(status.applied)} applied, {len(status.pending)} pending"
        + (": " + ", ".join(status.pending) if status.pending else ""),
    )
    return 0


def _serve(settings: Settings, pool: Pool | None = None, *, background: bool = True) -> None:
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default
    # action that would end the process before exit handlers run, leaving the
    # embedded PostgreSQL running. Turn it into a normal exit instead.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        create_app(settings, pool=pool, background=background),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
    )


def _apply_host_port(args: argparse.Namespace, settings: Settings) -> Settings:
    updates = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    return settings.model_copy(update=updates) if updates else settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    settings = _apply_host_port(args, settings)
    ready_url(settings)
    print(f"Vagus API on {settings.base_url} (OpenAPI: {settings.base_url}/docs)", file=sys.stderr)
    _serve(settings, background=not args.api_only)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Run job threads (and a scheduler candidate) until SIGTERM or Ctrl-C."""
    if args.concurrency < 1:
        raise CliError("--concurrency must be at least 1")
    url = ready_url(settings)
    # Each import holds two connections (data and progress); one more per thread
    # for claiming, plus the heartbeat's and the scheduler's.
    pool = connect.create_pool(url, args.concurrency * 3 + 2)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    jobs = runtime.start(pool, settings, url, scheduler=not args.no_scheduler, concurrency=args.concurrency)
    assert jobs.worker is not None  # concurrency >= 1, checked above
    print(
        f"vagus worker {jobs.worker.name}: {args.concurrency} thread(s)"
        + ("" if args.no_scheduler else ", scheduler candidate"),
        file=sys.stderr,
    )
    stop.wait()
    jobs.stop()
    pool.close()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    settings = _apply_host_port(args, settings)
    # This pool also serves the API: an ordinary one (the demo loader acts as system).
    pool = operator_pool(settings, size=settings.pool_size, system=False)
    print(
        "Loading demo data and computing its session responses (the first run takes a minute)...",
        file=sys.stderr,
    )
    loaded = demo.load(pool, settings.data_dir, WindowConfig.from_settings(settings))
    inserted = sum(o.inserted for o in loaded.imports)
    base = settings.base_url
    patient_link = sign_in_link(base, loaded.patient_token)
    therapist_link = sign_in_link(base, loaded.therapist_token)
    payload = {
        "url": base,
        "web_url": f"{base}/",
        "person_id": loaded.person_id,
        "patient_token": loaded.patient_token,
        "admin_token": loaded.admin_token,
        "therapist_token": loaded.therapist_token,
        "patient_sign_in": patient_link,
        "therapist_sign_in": therapist_link,
        "imports": [o.import_id for o in loaded.imports],
        "inserted": inserted,
    }
    human = f"""
Vagus demo is ready.
  Web app:         {base}/
    as the patient:    {patient_link}
    as their therapist: {therapist_link}   (the patient has granted consent)
  API:             {base}   (interactive API docs: {base}/docs)
  person:          {loaded.person_id}
  patient token:   {loaded.patient_token}
  therapist token: {loaded.therapist_token}
  admin token:     {loaded.admin_token}
  imported:        {len(loaded.imports)} files, {inserted} new rows

What the sessions did, claim by claim (with the literature beside it):
  curl -H "Authorization: Bearer {loaded.patient_token}" {base}/v1/persons/{loaded.person_id}/evidence
  {sys.argv[0]} evidence --person {loaded.person_id}

Paste these into another terminal to follow the README's tour:
export VAGUS_URL={base}
export VAGUS_PERSON={loaded.person_id}
export VAGUS_TOKEN={loaded.patient_token}
export VAGUS_ADMIN_TOKEN={loaded.admin_token}
"""
    emit(args, payload, human)
    sys.stdout.flush()
    if args.no_serve:
        pool.close()
        return 0
    _serve(settings, pool=pool)
    return 0


def register(commands: Any, add: AddCommand) -> None:
    db = add_group(commands, "db", "database migrations")
    add(db, "upgrade", cmd_db_upgrade, "apply pending migrations")
    add(db, "status", cmd_db_status, "show the tier and pending migrations")
    for name, handler, help_ in (
        ("serve", cmd_serve, "run the API"),
        ("demo", cmd_demo, "load demo data, then run the API"),
    ):
        p = add(commands, name, handler, help_, json_flag=(name == "demo"))
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        if name == "demo":
            p.add_argument("--no-serve", action="store_true", help="load the data and exit")
        else:
            p.add_argument(
                "--api-only",
                action="store_true",
                help="no scheduler or worker in this process (scaled-out layout)",
            )
    p = add(commands, "worker", cmd_worker, "run background jobs (imports, inbox, webhooks)", json_flag=False)
    p.add_argument("--concurrency", type=int, default=1, help="job threads (default 1)")
    p.add_argument(
        "--no-scheduler",
        action="store_true",
        help="never run the clock here (another process campaigns for it)",
    )
