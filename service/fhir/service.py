"""FHIR R4 export: a person's samples as a Bundle of Observations.

Codes (``CODES``): LOINC where LOINC has the concept, otherwise the Vagus code
system ``VAGUS_SYSTEM`` (RMSSD has no LOINC code we could confirm, so it is
``hrv_rmssd`` there rather than a guessed number; so are RR intervals, the
skin-temperature change and the vendors' own scores). Units are UCUM.
Every Observation names its subject (the Patient), its device (a Device per
Vagus source: watch, strap, phone app) and its effective instant.

Size: one Observation per sample. Beat-to-beat RR intervals (about 100,000 a
day) are left out unless asked for by ``metric=rr_interval``, and every export
is paged: a Bundle holds at most ``limit`` Observations and, when more
remain, a ``next`` link carrying a cursor. Summaries (hourly means) would lose
the samples a clinician's system may want, so paging was chosen over them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

VAGUS_SYSTEM = "https://vagus.dev/fhir/CodeSystem/metric"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
_NAMESPACE = uuid.UUID("5b1f0c3e-6c1a-4d0e-9a57-0a9a3c7d2f10")


@dataclass(frozen=True)
class Code:
    codings: tuple[tuple[str, str, str], ...]  # (system, code, display)
    unit: str  # human unit
    ucum: str  # UCUM code
    vital_sign: bool = False


CODES: dict[str, Code] = {
    "heart_rate": Code(((LOINC, "8867-4", "Heart rate"),), "beats/minute", "/min", True),
    "rr_interval": Code(((VAGUS_SYSTEM, "rr_interval", "R-R interval (beat to beat)"),), "ms", "ms"),
    "hrv_sdnn": Code(
        ((LOINC, "80404-7", "R-R interval.standard deviation (Heart rate variability)"),), "ms", "ms"
    ),
    "hrv_rmssd": Code(
        ((VAGUS_SYSTEM, "hrv_rmssd", "Root mean square of successive R-R differences (RMSSD)"),), "ms", "ms"
    ),
    "resting_heart_rate": Code(((LOINC, "40443-4", "Heart rate --resting"),), "beats/minute", "/min", True),
    "respiratory_rate": Code(((LOINC, "9279-1", "Respiratory rate"),), "breaths/minute", "/min", True),
    "spo2": Code(
        (
            (LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
            (LOINC, "2708-6", "Oxygen saturation in Arterial blood"),
        ),
        "%",
        "%",
        True,
    ),
    "skin_temperature_delta": Code(
        ((VAGUS_SYSTEM, "skin_temperature_delta", "Skin temperature change from the device's baseline"),),
        "Cel",
        "Cel",
    ),
    "vendor_stress": Code(((VAGUS_SYSTEM, "vendor_stress", "Device vendor's stress score"),), "score", "1"),
    "vendor_recovery": Code(
        ((VAGUS_SYSTEM, "vendor_recovery", "Device vendor's recovery score"),), "score", "1"
    ),
    "vendor_readiness": Code(
        ((VAGUS_SYSTEM, "vendor_readiness", "Device vendor's readiness score"),), "score", "1"
    ),
}
#: Exported unless the caller names metrics: everything but the per-beat series.
DEFAULT_METRICS = tuple(m for m in CODES if m != "rr_interval")


def resource_id(*parts: object) -> str:
    """A stable id (the same sample always gets the same id across exports)."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def patient(person: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": str(person["id"]), "name": [{"text": person["name"]}]}


def device(person_id: str, source: dict[str, Any]) -> dict[str, Any]:
    names = [{"name": source["name"], "type": "user-friendly-name"}]
    if source.get("device"):
        names.append({"name": source["device"], "type": "model-name"})
    return {
        "resourceType": "Device",
        "id": resource_id("device", person_id, source["id"]),
        "deviceName": names,
        "patient": {"reference": f"Patient/{person_id}"},
        "type": {"text": source.get("kind") or "unknown"},
    }


def observation(person_id: str, sample: dict[str, Any]) -> dict[str, Any]:
    """One stored sample (metric, ts, value, source_id) as an Observation."""
    code = CODES[sample["metric"]]
    ts: dt.datetime = sample["ts"]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id("obs", person_id, sample["metric"], sample["source_id"], ts.isoformat()),
        "status": "final",
        "code": {
            "coding": [{"system": s, "code": c, "display": d} for s, c, d in code.codings],
            "text": sample["metric"].replace("_", " "),
        },
        "subject": {"reference": f"Patient/{person_id}"},
        "effectiveDateTime": ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "valueQuantity": {
            "value": float(sample["value"]),
            "unit": code.unit,
            "system": UCUM,
            "code": code.ucum,
        },
        "device": {"reference": "Device/" + resource_id("device", person_id, sample["source_id"])},
    }
    if code.vital_sign:
        resource["category"] = [
            {"coding": [{"system": CATEGORY_SYSTEM, "code": "vital-signs", "display": "Vital Signs"}]}
        ]
    return resource


def bundle(
    base_url: str,
    person: dict[str, Any],
    sources: dict[int, dict[str, Any]],
    samples: list[dict[str, Any]],
    next_url: str | None,
) -> dict[str, Any]:
    """A searchset Bundle: the Observations, plus the Patient and Devices they reference."""
    person_id = str(person["id"])
    used = sorted({s["source_id"] for s in samples})
    entries = [_entry(base_url, patient(person), "include")]
    entries += [_entry(base_url, device(person_id, sources[i]), "include") for i in used]
    entries += [_entry(base_url, observation(person_id, s), "match") for s in samples]
    links = [{"relation": "self", "url": f"{base_url}/v1/persons/{person_id}/fhir"}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "timestamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
        "link": links,
        "entry": entries,
    }


def _entry(base_url: str, resource: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base_url}/fhir/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


# --- massage sessions and their responses ------------------------------------------------------

SESSION_SYSTEM = "https://vagus.dev/fhir/CodeSystem/massage-modality"
RESPONSE_SYSTEM = "https://vagus.dev/fhir/CodeSystem/session-response"
#: UCUM for the response metrics' units; ln(ms) has no UCUM form and is sent as text only.
_RESPONSE_UCUM = {"bpm": "/min", "ms": "ms", "ms²": "ms2", "": "1"}
_RESPONSE_PARTS = ("pre", "post", "change", "control_change", "control_adjusted_change")


def _instant(moment: dt.datetime | str) -> str:
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def procedure(person_id: str, session: dict[str, Any]) -> dict[str, Any]:
    """A massage session as a completed Procedure (free-text notes are not exported)."""
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": resource_id("session", person_id, session["id"]),
        "status": "completed",
        "code": {
            "coding": [{"system": SESSION_SYSTEM, "code": session["modality"]}],
            "text": f"massage ({session['modality'].replace('_', ' ')})",
        },
        "subject": {"reference": f"Patient/{person_id}"},
        "performedPeriod": {"start": _instant(session["starts_at"]), "end": _instant(session["ends_at"])},
    }
    if session.get("body_areas"):
        resource["bodySite"] = [{"text": area} for area in session["body_areas"]]
    return resource


def response_observations(
    person_id: str, session: dict[str, Any], body: dict[str, Any], units: dict[str, str]
) -> list[dict[str, Any]]:
    """The stored session response as Observations, one per metric, part of the Procedure.

    Components carry pre, post, their change, the control days' median change
    and the control-adjusted change (difference in differences), where known.
    """
    procedure_ref = {"reference": "Procedure/" + resource_id("session", person_id, session["id"])}
    found = []
    for metric, result in (body.get("metrics") or {}).items():
        unit = units.get(metric, "")
        quantity = {"unit": unit or "1"}
        if unit in _RESPONSE_UCUM:
            quantity.update(system=UCUM, code=_RESPONSE_UCUM[unit])
        components = [
            {
                "code": {
                    "coding": [{"system": RESPONSE_SYSTEM, "code": part}],
                    "text": part.replace("_", " "),
                },
                "valueQuantity": {"value": float(result[part]), **quantity},
            }
            for part in _RESPONSE_PARTS
            if result.get(part) is not None
        ]
        if not components:
            continue
        found.append(
            {
                "resourceType": "Observation",
                "id": resource_id("response", person_id, session["id"], metric),
                "status": "final",
                "category": [
                    {"coding": [{"system": CATEGORY_SYSTEM, "code": "procedure", "display": "Procedure"}]}
                ],
                "code": {
                    "coding": [{"system": RESPONSE_SYSTEM, "code": metric}],
                    "text": f"session response: {metric.replace('_', ' ')}",
                },
                "subject": {"reference": f"Patient/{person_id}"},
                "partOf": [procedure_ref],
                "effectivePeriod": {
                    "start": _instant(session["starts_at"]),
                    "end": _instant(session["ends_at"]),
                },
                "component": components,
                "note": [
                    {
                        "text": f"algorithm {body.get('algorithm_version', 'unknown')}; "
                        "HRV is a marker of autonomic state, not a hormone level"
                    }
                ],
            }
        )
    return found


def add_entries(
    bundle_: dict[str, Any], base_url: str, resources: list[dict[str, Any]], mode: str = "match"
) -> None:
    bundle_["entry"] += [_entry(base_url, r, mode) for r in resources]
