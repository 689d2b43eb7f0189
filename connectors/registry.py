"""Format detection: which connector reads this path, from its content.

Each connector's ``sniff`` looks at the path (a file, zip or folder) and the
file's first bytes. Order matters: specific formats come before the generic
CSV/text readers, which would otherwise claim almost anything, and the Garmin
Connect account export before Garmin FIT, which would claim its zip for the
FIT files nested in it. A folder or zip is planned by :mod:`connectors.bundle`,
so one holding several exports reads each with its own connector.
"""

from __future__ import annotations

from pathlib import Path

from . import archive
from .apple_health import AppleHealth
from .base import Connector, ConnectorError
from .bundle import Bundle, plan, single
from .empatica import EmpaticaE4
from .fitbit import Fitbit
from .garmin_connect import GarminConnect
from .garmin_fit import GarminFit
from .health_connect import HealthConnect
from .oura import Oura
from .plain import HeartRateCsv, PolarSensorLogger, RrCsv, RrText
from .polar_flow import PolarFlow
from .samsung_health import SamsungHealth
from .whoop import Whoop

HEAD_BYTES = 64 * 1024

CONNECTORS: tuple[Connector, ...] = (
    AppleHealth(),
    PolarFlow(),
    GarminConnect(),
    GarminFit(),
    HealthConnect(),
    EmpaticaE4(),
    # Account exports, recognised by their file names: before the generic CSV readers.
    Fitbit(),
    SamsungHealth(),
    Oura(),
    Whoop(),
    PolarSensorLogger(),
    RrCsv(),
    HeartRateCsv(),
    RrText(),
)


def get_connector(name: str) -> Connector:
    for connector in CONNECTORS:
        if connector.name == name:
            return connector
    raise ConnectorError(name, f"unknown format {name!r}; supported formats: {supported()}")


def supported() -> str:
    return ", ".join(c.name for c in CONNECTORS)


def read_head(path: Path) -> bytes:
    if path.is_dir():
        return b""
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def detect(path: Path) -> Connector:
    """The connector for ``path``, decided by content; raises with the supported list.

    A folder or zip is planned (:mod:`connectors.bundle`): when it is exactly
    one export its connector is returned, as for a single file; when it holds
    several, a :class:`Bundle` that reads each part with its own connector.
    """
    if not path.exists():
        raise ConnectorError(path, "no such file or folder")
    if path.is_dir() or archive.is_zip(path):
        found = plan(path, CONNECTORS)
        if found.parts:
            return single(path, found) or Bundle(path, found)
        raise ConnectorError(path, f"format not recognised; supported formats: {supported()}")
    head = read_head(path)
    for connector in CONNECTORS:
        if connector.sniff(path, head):
            return connector
    raise ConnectorError(
        path,
        f"format not recognised; supported formats: {supported()} (pass --format to choose one explicitly)",
    )
