"""OAuth 2.0 authorization code with PKCE (RFC 7636, S256) and ``state`` (RFC 6749 10.12)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from dataclasses import dataclass

from service.sync.providers.base import Provider
from service.sync.settings import ProviderConfig


@dataclass(frozen=True)
class Attempt:
    """A started authorization: what the browser is sent with, and what stays here."""

    state: str  # goes to the vendor and comes back; only its hash is stored
    verifier: str  # stays here (encrypted) until the code is exchanged

    @property
    def challenge(self) -> str:
        return s256(self.verifier)

    @property
    def state_hash(self) -> str:
        return hash_state(self.state)


def new_attempt() -> Attempt:
    # 32 random bytes each: 43 url-safe characters, inside RFC 7636's 43-128 for the verifier.
    return Attempt(state=secrets.token_urlsafe(32), verifier=secrets.token_urlsafe(32))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def authorization_url(provider: Provider, config: ProviderConfig, attempt: Attempt, redirect_uri: str) -> str:
    query = {
        "response_type": "code",
        "client_id": config.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(provider.scopes),
        "state": attempt.state,
        "code_challenge": attempt.challenge,
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in config.authorize_url else "?"
    return config.authorize_url + separator + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
