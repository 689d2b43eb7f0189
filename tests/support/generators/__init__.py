"""Writers of synthetic wearable exports in their real layouts (seeded, any size)."""
