"""Lab units: cortisol to nmol/L, the unit Vagus stores and compares.

Hair cortisol is a mass fraction (pg of cortisol per mg of hair), not a concentration in a
fluid: it has no nmol/L value and is compared only with other hair results.

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
    "pg/mg": ("pg/mg", "pg per mg"),
}
#: The unit of hair cortisol (the only one for that specimen).
HAIR_UNIT = "pg/mg"
_ALIASES = {alias: canonical for canonical, aliases in UNITS.items() for alias in aliases}

ANALYTES = ("cortisol",)


class UnitError(ValueError):
    """A unit Vagus cannot convert; the message lists the accepted ones."""


def canonical_unit(text: str) -> str:
    """``nmol/L``, ``ug/dL`` or ``pg/mg`` for any accepted spelling (µ and μ read as micro)."""
    key = " ".join(text.strip().lower().split())
    try:
        return _ALIASES[key]
    except KeyError:
        raise UnitError(
            f"unknown unit {text!r}; use nmol/L or ug/dL (µg/dL, mcg/dL), or pg/mg for hair"
        ) from None


def cortisol_nmol_l(value: float, unit: str) -> float | None:
    """A cortisol concentration in nmol/L; None for hair (pg/mg is not a concentration)."""
    unit = canonical_unit(unit)
    if unit == HAIR_UNIT:
        return None
    return value if unit == "nmol/L" else value * NMOL_L_PER_UG_DL
