"""Response bodies for stored samples."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from connectors.base import METRICS

MetricName = Literal[METRICS]  # type: ignore[valid-type]


class Observation(BaseModel):
    metric: MetricName
    ts: dt.datetime
    value: float
    source_id: int
    source: str
    context: int | None = Field(
        default=None,
        description="heart rate's motion context where the device recorded it: "
        "0 not set, 1 sedentary, 2 active",
    )


class ObservationPage(BaseModel):
    items: list[Observation]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")
