"""Lab units: cortisol to nmol/L, the unit Vagus stores and compares.

Cortisol's molar mass is 362.46 g/mol, so 1 µg/dL = 10 µg/L / 362.46 g/mol
= 0.027589 µmol/L = 27.59 nmol/L.
"""

from __future__ import annotations

CORTISOL_MOLAR_MASS_G_PER_MOL = 362.46
# µg/dL -> nmol/L: x µg/dL * 10 dL/L / 362.46 g/mol * 1000 nmol/µmol
NMOL_L_PER_UG_DL = 10 * 1000 / CORTISOL_MOLAR_MASS_G_PER_MOL  # 27.589...

#: Canonical unit names and the spellings accepted for each (compared lower-cased).
UNITS: dict[str, tuple[str, ...]] = {
    "nmol/L": ("nmol/l", "nmol l-1", "nmol per l", "nmol/litre", "nmol/liter"),
    "ug/dL": ("ug/dl", "µg/dl", "μg/dl", "mcg/dl", "ug per dl", "µg per dl"),
}
_ALIASES = {alias: canonical for canonical, aliases in UNITS.items() for alias in aliases}

ANALYTES = ("cortisol",)


class UnitError(ValueError):
    """A unit Vagus cannot convert; the message lists the accepted ones."""


def canonical_unit(text: str) -> str:
    """``nmol/L`` or ``ug/dL`` for any accepted spelling (µ and μ both read as micro)."""
    key = " ".join(text.strip().lower().split())
    try:
        return _ALIASES[key]
    except KeyError:
        raise UnitError(f"unknown unit {text!r}; use nmol/L or ug/dL (µg/dL, mcg/dL)") from None


def cortisol_nmol_l(value: float, unit: str) -> float:
    """A cortisol concentration in nmol/L."""
    unit = canonical_unit(unit)
    return value if unit == "nmol/L" else value * NMOL_L_PER_UG_DL
