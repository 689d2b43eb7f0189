"""Which tier the test server offers, so that tier-dependent tests assert that tier's behaviour.

The suite runs unchanged against plain PostgreSQL (``postgres``) and TimescaleDB
(``apache`` or ``timescale`` licence): ``VAGUS_TEST_DATABASE_URL`` picks the server.
A test that depends on the tier takes the ``tier`` fixture (tests/conftest.py), which
also records it as the test's ``tier`` property (``--junitxml`` reports show it), and
names it in its assertion messages.
"""

from __future__ import annotations

from service.core.db import capability, connect


def server_tier(database_url: str) -> capability.Tier:
    """The tier of a migrated database, as the service itself sees it."""
    with connect.connect(database_url) as conn:
        return capability.current_tier(conn)


def rollups_refreshed_by_maintenance(tier: capability.Tier) -> bool:
    """Whether the maintenance job refreshes the hourly rollup on this tier.

    On the Timescale licence a continuous-aggregate policy does it instead
    (migrations/0004); elsewhere it is a materialised view (migrations/0005).
    """
    return tier != "timescale"
