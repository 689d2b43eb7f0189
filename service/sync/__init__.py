"""Cloud sync: a person's wearable account connected once (OAuth 2.0), then synced by itself.

``providers/`` declares each vendor (OAuth endpoints, scopes, paging, rate limit,
push notifications); ``client`` talks to a vendor (tokens, throttling, retries);
``service`` connects, disconnects and syncs; every sync becomes an import through
``service.imports.service`` (docs/formats.md, "Cloud providers").
"""
