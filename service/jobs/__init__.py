"""Background work: a PostgreSQL job queue, workers, the elected clock.

Other code needs two calls:

* ``queue.enqueue(conn, kind, payload, unique_key=None)`` in its own transaction;
* the kinds themselves are each domain's ``tasks`` module, listed in ``service.tasks``.

Events for apps: ``webhooks.emit(conn, event_type, person_id=..., subject=..., data=...)``.
"""
