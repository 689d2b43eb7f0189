"""Writers of synthetic wearable exports in their real layouts (deterministic for a seed)."""
