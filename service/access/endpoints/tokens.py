"""A caller's own API tokens: list, rotate, revoke (operators use `vagus token`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from service.access import auth
from service.access.deps import Caller, Db
from service.access.repository import accounts
from service.access.schemas import NewToken, TokenInfo, TokenList
from service.core.db.types import Conn, returned
from service.core.http.openapi import LOCATION
from service.core.http.problems import PROBLEM_RESPONSES, Problem, ProblemError

RESPONSES = {
    **PROBLEM_RESPONSES,
    409: {"model": Problem, "description": "Conflict", "content": {"application/problem+json": {}}},
}
router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=RESPONSES)

TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", response_model=TokenList)
def list_tokens(conn: Db, caller: Caller) -> TokenList:
    """The calling account's tokens (metadata only: secrets are never stored)."""
    return TokenList(items=[TokenInfo(**r) for r in accounts.list_tokens(conn, caller.account_id)])


@router.post("/{token_id}/rotate", response_model=NewToken, status_code=201, responses={201: LOCATION})
def rotate(token_id: TokenId, conn: Db, caller: Caller, response: Response) -> NewToken:
    """Replace one of the caller's live tokens: the old one stops now, the new one is shown once."""
    _own(conn, caller.account_id, token_id)
    rotated = auth.rotate_token(conn, token_id)
    if rotated is None:
        raise ProblemError(409, "conflict", f"token {token_id} is already revoked")
    token, row = rotated
    response.headers["Location"] = "/v1/tokens"
    new = returned(accounts.get_token(conn, row["id"]))  # issued just now
    return NewToken(token=token, info=TokenInfo(**new), replaces=token_id)


@router.delete("/{token_id}", response_model=TokenInfo)
def revoke(token_id: TokenId, conn: Db, caller: Caller) -> TokenInfo:
    """Revoke one of the caller's tokens at once (it may be the one in use)."""
    _own(conn, caller.account_id, token_id)
    if accounts.revoke_token(conn, token_id) is None:
        raise ProblemError(409, "conflict", f"token {token_id} is already revoked")
    return TokenInfo(**returned(accounts.get_token(conn, token_id)))  # checked by _own


def _own(conn: Conn, account_id: str, token_id: int) -> None:
    row = accounts.get_token(conn, token_id)  # row-level security shows only one's own
    if row is None or str(row["account_id"]) != account_id:
        raise ProblemError(404, "not-found", f"no token {token_id} of this account")
