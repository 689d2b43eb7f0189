"""The providers Vagus can sync from, by name."""

from __future__ import annotations

from .base import DataType, Provider
from .fitbit import Fitbit
from .oura import Oura
from .whoop import Whoop

PROVIDERS: dict[str, Provider] = {p.name: p for p in (Oura(), Whoop(), Fitbit())}


def get(name: str) -> Provider | None:
    return PROVIDERS.get(name)


__all__ = ["PROVIDERS", "DataType", "Provider", "get"]
