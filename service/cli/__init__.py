"""The `vagus` command: one module per domain's commands, assembled in ``main``."""

from service.cli.main import main

__all__ = ["main"]
