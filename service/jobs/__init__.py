"""Background work (DESIGN.md section 8): a PostgreSQL job queue, workers, the elected clock.

Other code needs two calls:

* ``queue.enqueue(conn, kind, payload, unique_key=None)`` in its own transaction;
* ``registry.register(kind)`` to add or replace a handler (see ``handlers``).

Events for apps: ``webhooks.emit(conn, event_type, person_id=..., subject=..., data=...)``.
"""
