"""Read load on a running Vagus while large imports run: throughput, latency, errors, knee.

Starts ``vagus demo`` (the demo person's data, then ``vagus serve``'s API with its
scheduler and one worker) on a fresh database and a loopback port, plus a
``vagus worker --concurrency 2`` so that two large RR uploads import at once.
Then ``--clients`` threads (default 50), each with its own keep-alive connection,
read for ``--seconds`` (default 60), round-robin: the person's evidence, a month
of daily recovery, a page of observations, and a session's response. A prober
asks ``/healthz`` every 0.2 s throughout. Afterwards short steps of rising
client counts find the knee: the first count at which p99 passes 1 s.

    .venv/bin/python bench/load.py [--clients 50] [--seconds 60] [--beats 1500000]
                                   [--knee 10,25,50,100,150] [--knee-seconds 15]

Loopback only (127.0.0.1), bounded in time; every process it starts is stopped.
Default settings throughout, except the per-account rate limit, which is off:
all clients share the demo patient's account, and 600 requests/min per account
would throttle them by design (that limit protects the service; it is not its
capacity). Uses VAGUS_DATABASE_URL's server when set, otherwise an embedded one.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from bench._database import fresh_database  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _get(conn: http.client.HTTPConnection, path: str, token: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def _wait_healthy(port: int, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            if _get(conn, "/healthz", None)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("vagus did not come up")


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _summary(
    latencies: dict[str, list[float]], errors: dict[str, dict[int | str, int]], seconds: float
) -> dict:
    out = {}
    for name in sorted(set(latencies) | set(errors)):
        values = latencies.get(name, [])
        out[name] = {
            "ok": len(values),
            "per_s": round(len(values) / seconds, 1),
            "p50_ms": _ms(_percentile(values, 0.50)),
            "p95_ms": _ms(_percentile(values, 0.95)),
            "p99_ms": _ms(_percentile(values, 0.99)),
            "errors": {str(k): v for k, v in errors.get(name, {}).items()},
        }
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def run_load(port: int, token: str, paths: dict[str, str], clients: int, seconds: float) -> dict:
    """``clients`` threads reading ``paths`` round-robin for ``seconds``; /healthz probed."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, dict[int | str, int]] = defaultdict(lambda: defaultdict(int))
    lock = threading.Lock()
    stop = threading.Event()
    names = list(paths)

    def client(index: int) -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        turn = index
        while not stop.is_set():
            name = names[turn % len(names)]
            turn += 1
            began = time.perf_counter()
            try:
                status, _ = _get(conn, paths[name], token)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
            took = time.perf_counter() - began
            with lock:
                if status == 200:
                    latencies[name].append(took)
                else:
                    errors[name][status] += 1
        conn.close()

    health: list[float] = []

    def prober() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
                status, _ = _get(conn, "/healthz", None)
                conn.close()
            except OSError:
                status = 0
            health.append(time.perf_counter() - began if status == 200 else float("inf"))
            stop.wait(0.2)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    threads.append(threading.Thread(target=prober, daemon=True))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join(90)
    elapsed = time.monotonic() - started
    every = [v for values in latencies.values() for v in values]
    return {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests_per_s": round(len(every) / elapsed, 1),
        "p99_ms_all": _ms(_percentile(every, 0.99)),
        "errors": sum(sum(e.values()) for e in errors.values()),
        "healthz_max_ms": _ms(max(health)) if health else None,
        "healthz_probes": len(health),
        "endpoints": _summary(latencies, errors, elapsed),
    }


def _upload(port: int, token: str, person: str, beats: int, seed: int) -> int:
    body = "".join(f"{700 + (i * 7919 + seed) % 400}\n" for i in range(beats)).encode()
    conn = http.client.HTTPConnection(HOST, port, timeout=600)
    start = f"2019-0{seed}-01T00:00:00Z"
    conn.request(
        "POST",
        f"/v1/persons/{person}/imports?filename=big{seed}.txt&start={start}",
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"},
    )
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 202:
        raise RuntimeError(f"upload refused: {response.status} {answer}")
    return answer["id"]


def _import_states(port: int, token: str, ids: list[int]) -> dict[int, str]:
    states = {}
    for import_id in ids:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=120)
            states[import_id] = json.loads(_get(conn, f"/v1/imports/{import_id}", token)[1])["status"]
        except (OSError, http.client.HTTPException, ValueError) as exc:
            states[import_id] = f"unknown ({type(exc).__name__})"
    return states


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--beats", type=int, default=1_500_000, help="beats per large import")
    parser.add_argument(
        "--knee", default="10,25,50,100,150", help="client counts to step through (empty: skip)"
    )
    parser.add_argument("--knee-seconds", type=float, default=15)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vagus-load-") as tmp:
        work = Path(tmp)
        with fresh_database(work) as url:
            port = _free_port()
            env = {
                **os.environ,
                "VAGUS_DATABASE_URL": url,
                "VAGUS_DATA_DIR": str(work / "data"),
                "VAGUS_HOST": HOST,
                "VAGUS_PORT": str(port),
                "VAGUS_RATE_LIMIT_PER_MINUTE": "0",
                "VAGUS_LOG_LEVEL": "WARNING",
            }
            processes: list[subprocess.Popen] = []
            try:
                demo = subprocess.Popen(
                    [sys.executable, "-m", "service.cli", "demo", "--json"],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=(work / "serve.log").open("w"),
                    text=True,
                )
                processes.append(demo)
                loaded = json.loads(demo.stdout.readline())
                _wait_healthy(port)
                worker = subprocess.Popen(
                    [sys.executable, "-m", "service.cli", "worker", "--concurrency", "2", "--no-scheduler"],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(work / "worker.log").open("w"),
                )
                processes.append(worker)
                person, token = loaded["person_id"], loaded["patient_token"]
                conn = http.client.HTTPConnection(HOST, port, timeout=60)
                # A massage session with a stored response, read from the database (the
                # sessions listing is not part of the load).
                with psycopg.connect(url) as db:
                    session_id = db.execute(
                        "SELECT s.id FROM session s JOIN session_response r ON r.session_id = s.id "
                        "WHERE s.person_id = %s AND s.modality <> 'rest' ORDER BY s.id LIMIT 1",
                        (person,),
                    ).fetchone()[0]
                today = dt.date.today()
                month_ago = today - dt.timedelta(days=31)
                paths = {
                    "evidence": f"/v1/persons/{person}/evidence",
                    "recovery": f"/v1/persons/{person}/recovery?from={month_ago}&to={today}",
                    "observations": f"/v1/persons/{person}/observations?limit=100",
                    "session_response": f"/v1/sessions/{session_id}/response",
                }
                for name, path in paths.items():  # warm up, and fail early on a bad path
                    status, body = _get(conn, path, token)
                    if status != 200:
                        raise RuntimeError(f"{name}: {status} {body[:200]!r}")
                imports = [_upload(port, token, person, args.beats, seed) for seed in (1, 2)]
                main_run = run_load(port, token, paths, args.clients, args.seconds)
                print(json.dumps({"run": main_run}), file=sys.stderr, flush=True)
                main_run["imports_during"] = _import_states(port, token, imports)
                knee_steps, knee = [], None
                for clients in [int(c) for c in args.knee.split(",") if c.strip()]:
                    step = run_load(port, token, paths, clients, args.knee_seconds)
                    knee_steps.append(
                        {
                            k: step[k]
                            for k in ("clients", "requests_per_s", "p99_ms_all", "errors", "healthz_max_ms")
                        }
                    )
                    print(json.dumps({"knee_step": knee_steps[-1]}), file=sys.stderr, flush=True)
                    if step["p99_ms_all"] is not None and step["p99_ms_all"] > 1000:
                        knee = clients
                        break
                deadline = time.monotonic() + 900
                while (states := _import_states(port, token, imports)) and any(
                    s in ("queued", "running") or s.startswith("unknown") for s in states.values()
                ):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(2)
            finally:
                for proc in processes:
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGTERM)
                for proc in processes:
                    try:
                        proc.wait(60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    print(
        json.dumps(
            {
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
                },
                "settings": "defaults (pool_size 10, request_pool_timeout_s 3), rate limit off",
                "large_imports": {"beats_each": args.beats, "final": states},
                "run": main_run,
                "knee_steps": knee_steps,
                "knee_clients_p99_over_1s": knee,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
