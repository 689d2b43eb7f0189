"""Database access: connection setup, the embedded server, migrations, capability probe."""
