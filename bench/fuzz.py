"""A long fuzzing campaign against every connector; prints a summary per connector.

The CI fuzz tests (``tests/hostile/test_fuzz.py``) run a few dozen hypothesis
examples per connector. This runs the same inputs for longer: random bytes in
place of one file of each connector's seed export, or the seed's files with
one to six random edits (``tests.hostile.fuzzing``), each read with the
connector (as ``--format`` would) and as detected, with its time and traced
peak allocation recorded. Any exception other than ``ConnectorError`` is a
crash: it is printed with the input's recipe and saved under ``--save``.

    .venv/bin/python bench/fuzz.py --seconds 300            # 5 minutes, all connectors
    .venv/bin/python bench/fuzz.py --examples 2000 --only rr_text,hr_csv
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connectors.registry import CONNECTORS  # noqa: E402
from tests.hostile import fuzzing  # noqa: E402
from tests.hostile.seeds import Seed, seed  # noqa: E402


@dataclass
class Tally:
    examples: int = 0
    read_ok: int = 0
    connector_errors: int = 0
    crashes: int = 0
    slowest_s: float = 0.0
    peak_bytes: int = 0
    total_s: float = 0.0
    crash_kinds: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def recipe(rng: random.Random, base: Seed) -> tuple[str, dict[str, bytes]]:
    """One fuzzed export: a description and its files."""
    name = rng.choice(sorted(base.files))
    if rng.random() < 0.25:
        data = rng.randbytes(rng.randint(0, 4096))
        return f"random {len(data)} bytes as {name}", {**base.files, name: data}
    edits = [
        fuzzing.Edit(
            rng.choice(fuzzing.EDIT_KINDS), rng.random(), rng.randint(1, 512), rng.choice(fuzzing.TOKENS)
        )
        for _ in range(rng.randint(1, 6))
    ]
    mutated = fuzzing.mutate(base.files[name], edits)
    if rng.random() < 0.5:  # past the CRC check, into the FIT message decoder
        mutated = fuzzing.repair_fit(mutated)
    return f"{name} with {edits}", {**base.files, name: mutated}


def run(
    connectors: list[str], *, seconds: float, examples: int, rng_seed: int, save: Path | None
) -> dict[str, Tally]:
    rng = random.Random(rng_seed)
    tallies = {name: Tally() for name in connectors}
    deadline = time.monotonic() + seconds
    count = 0
    with tempfile.TemporaryDirectory() as scratch:
        while time.monotonic() < deadline and (examples <= 0 or count < examples * len(connectors)):
            name = connectors[count % len(connectors)]
            count += 1
            base = seed(name)
            described, files = recipe(rng, base)
            folder = Path(scratch) / f"example{count}"
            path = base.write(folder, files)
            tally = tallies[name]
            tally.examples += 1
            started = time.perf_counter()
            try:
                outcome = fuzzing.read_guarded(name, path)
            except Exception as exc:  # the bug being hunted: report it, keep going
                tally.crashes += 1
                tally.crash_kinds[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
                print(f"CRASH {name}: {described[:300]}\n{traceback.format_exc()}", file=sys.stderr)
                if save is not None:
                    kept = save / f"{name}-{count}"
                    base.write(kept, files)
            else:
                if outcome.error is None:
                    tally.read_ok += 1
                else:
                    tally.connector_errors += 1
                tally.peak_bytes = max(tally.peak_bytes, outcome.peak_bytes)
            elapsed = time.perf_counter() - started
            tally.total_s += elapsed
            tally.slowest_s = max(tally.slowest_s, elapsed)
            _remove(folder)
    return tallies


def _remove(folder: Path) -> None:
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    folder.rmdir()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="time budget")
    parser.add_argument(
        "--examples", type=int, default=0, help="examples per connector (0: until the time budget ends)"
    )
    parser.add_argument("--only", default="", help="comma-separated connector names")
    parser.add_argument("--seed", type=int, default=0, help="random seed (reproducible runs)")
    parser.add_argument("--save", type=Path, default=None, help="folder where crashing inputs are written")
    args = parser.parse_args(argv)
    names = [c.name for c in CONNECTORS]
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    started = time.monotonic()
    tallies = run(names, seconds=args.seconds, examples=args.examples, rng_seed=args.seed, save=args.save)
    took = time.monotonic() - started
    print(
        f"{'connector':<22}{'inputs':>8}{'read':>7}{'refused':>9}{'crashes':>9}"
        f"{'mean ms':>9}{'max ms':>9}{'peak MB':>9}"
    )
    for name, t in tallies.items():
        mean = 1000 * t.total_s / t.examples if t.examples else 0.0
        print(
            f"{name:<22}{t.examples:>8}{t.read_ok:>7}{t.connector_errors:>9}{t.crashes:>9}"
            f"{mean:>9.1f}{1000 * t.slowest_s:>9.1f}{t.peak_bytes / 2**20:>9.1f}"
        )
        for kind, count in t.crash_kinds.items():
            print(f"    {count} x {kind}")
    total = sum(t.examples for t in tallies.values())
    crashes = sum(t.crashes for t in tallies.values())
    print(f"{total} inputs in {took:.0f} s (seed {args.seed}); {crashes} crashes")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
