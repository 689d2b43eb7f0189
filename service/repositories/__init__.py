"""Plain-SQL repositories: each takes a psycopg connection and owns its tables' SQL.

They never commit: the caller (a request, a CLI command, a job) owns the transaction.
"""
