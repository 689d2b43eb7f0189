"""Pure parsers for wearable exports: bytes in, normalised records out (DESIGN.md section 4)."""

from .base import (
    ConnectorError,
    Episode,
    PartReport,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
)
from .registry import CONNECTORS, detect, get_connector

__all__ = [
    "CONNECTORS",
    "ConnectorError",
    "Episode",
    "PartReport",
    "ReadContext",
    "ReadReport",
    "SampleBatch",
    "SourceInfo",
    "detect",
    "get_connector",
]
