"""The Vagus service: storage, ingest, analysis and the HTTP API (all I/O lives here)."""

__version__ = "0.1.0"
