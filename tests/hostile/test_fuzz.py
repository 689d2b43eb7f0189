"""Property-based fuzzing of every connector: random and mutated bytes never crash a reader.

For each connector in ``connectors.registry.CONNECTORS`` hypothesis feeds

* random bytes in place of one file of the connector's seed export, and
* the seed's own files (``tests/hostile/seeds.py``, from the project's
  generators) with a few random edits (:mod:`tests.hostile.fuzzing`; a
  mutated FIT file gets its CRCs repaired half the time, so that the
  message decoder behind the CRC check is fuzzed too),

read both with that connector (as ``--format`` would) and as detected. The
property: the only exception that may escape is ``ConnectorError`` (whose
message starts with the file), each input finishes within the hypothesis
deadline, and its traced peak allocation stays under
``fuzzing.MEMORY_LIMIT_BYTES``. The budget is small for CI
(``VAGUS_FUZZ_EXAMPLES``, default 25 per strategy and connector); the long
campaign is ``bench/fuzz.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.registry import CONNECTORS
from tests.hostile import fuzzing
from tests.hostile.seeds import seed, seeds

EXAMPLES = int(os.environ.get("VAGUS_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=dt.timedelta(seconds=20),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)

edits = st.lists(
    st.builds(
        fuzzing.Edit,
        kind=st.sampled_from(fuzzing.EDIT_KINDS),
        where=st.floats(0, 1),
        length=st.integers(1, 512),
        token=st.sampled_from(fuzzing.TOKENS),
    ),
    min_size=1,
    max_size=6,
)


def test_every_connector_has_a_seed() -> None:
    assert {c.name for c in CONNECTORS} == {s.connector for s in seeds()}


def _check(connector: str, files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        path = seed(connector).write(Path(scratch), files)
        outcome = fuzzing.read_guarded(connector, path)
    assert outcome.peak_bytes < fuzzing.MEMORY_LIMIT_BYTES, outcome


@pytest.mark.parametrize("connector", [c.name for c in CONNECTORS])
def test_random_bytes_raise_only_connector_errors(connector: str) -> None:
    base = seed(connector)
    names = sorted(base.files)

    @FUZZ
    @given(data=st.binary(max_size=4096), which=st.integers(0, len(names) - 1))
    def property_(data: bytes, which: int) -> None:
        _check(connector, {**base.files, names[which]: data})

    property_()


@pytest.mark.parametrize("connector", [c.name for c in CONNECTORS])
def test_mutated_fixtures_raise_only_connector_errors(connector: str) -> None:
    base = seed(connector)
    names = sorted(base.files)

    @FUZZ
    @given(changes=edits, which=st.integers(0, len(names) - 1), repair=st.booleans())
    def property_(changes: list[fuzzing.Edit], which: int, repair: bool) -> None:
        name = names[which]
        mutated = fuzzing.mutate(base.files[name], changes)
        if connector == "garmin_fit" and repair:
            mutated = fuzzing.repair_fit(mutated)
        _check(connector, {**base.files, name: mutated})

    property_()


def test_mutate_applies_each_kind_of_edit() -> None:
    data = b"0123456789"
    assert fuzzing.mutate(data, [fuzzing.Edit("truncate", 0.5)]) == b"01234"
    assert fuzzing.mutate(data, [fuzzing.Edit("delete", 0.0, 3)]) == b"3456789"
    assert fuzzing.mutate(data, [fuzzing.Edit("insert", 0.1, token=b"nan")]) == b"0nan123456789"
    assert fuzzing.mutate(data, [fuzzing.Edit("duplicate", 0.0, 2)]) == b"010123456789"
    assert fuzzing.mutate(data, [fuzzing.Edit("replace", 0.0, token=b"ab")]) == b"ab23456789"
    assert fuzzing.mutate(data, [fuzzing.Edit("flip", 0.0, 0)]) == b"1123456789"
