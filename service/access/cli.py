"""``vagus person ...`` and ``vagus token ...``: people and the tokens that act for them."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from service.access import auth
from service.access.repository import accounts, persons
from service.core.cli import (
    AddCommand,
    CliError,
    add_group,
    emit,
    operator_pool,
    parse_uuid,
)
from service.core.db import rls
from service.core.settings import Settings


def cmd_person_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.access.schemas import PersonCreate  # validates the zone like the API does

    try:
        body = PersonCreate(name=args.name, tz=args.tz)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        person = persons.create(conn, name=body.name, tz=body.tz)
        accounts.patient_account(conn, str(person["id"]))
    emit(args, {"id": str(person["id"]), "name": person["name"], "tz": person["tz"]},
          f"person {person['id']} ({person['name']}, {person['tz']})")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    if args.role == "patient" and not args.person:
        raise CliError("a patient token needs --person ID")
    if args.role != "patient" and args.person:
        raise CliError(f"a {args.role} token acts for no single person: drop --person "
                       "(the patient grants it access)")
    if args.account and args.role == "patient":
        raise CliError("a patient token belongs to the person's account: use --person")
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days)
               if args.expires_days else None)
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        if args.role == "patient":
            try:
                account = accounts.patient_account(conn, parse_uuid(args.person, "person"))
            except LookupError as exc:
                raise CliError(str(exc)) from None
        elif args.account:
            found = accounts.get(conn, parse_uuid(args.account, "account"))
            if found is None or found["role"] != args.role:
                raise CliError(f"no {args.role} account {args.account}")
            account = found
        else:
            account = accounts.create(conn, role=args.role, name=args.name or args.role)
        token, row = auth.issue_token(conn, account_id=str(account["id"]), name=args.name,
                                      expires_at=expires)
    emit(args, {"token": token, "token_id": row["id"], "role": args.role,
                 "account_id": str(account["id"]), "person_id": args.person,
                 "expires_at": row["expires_at"]},
          f"{token}\n(shown once: store it now; role {args.role})")
    return 0


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    account = parse_uuid(args.account, "account") if args.account else None
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        rows = accounts.list_tokens(conn, account)
    tokens = [{**{k: (str(v) if k in ("account_id", "person_id") and v else v)
                  for k, v in row.items()},
               "state": _token_state(row)} for row in rows]
    human = "\n".join(f"{t['id']:>5}  {t['prefix']}...  {t['role']:<9} {t['state']:<8} "
                      f"{t['account_name']}" + (f" ({t['name']})" if t["name"] else "")
                      for t in tokens) or "no tokens"
    emit(args, {"tokens": tokens}, human)
    return 0


def _token_state(row: dict[str, Any]) -> str:
    if row["revoked_at"] is not None:
        return "revoked"
    if row["expires_at"] is not None and row["expires_at"] <= dt.datetime.now(dt.UTC):
        return "expired"
    return "live"


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        row = accounts.revoke_token(conn, args.token_id)
    if row is None:
        raise CliError(f"no live token {args.token_id}")
    emit(args, {"token_id": args.token_id, "revoked": True}, f"token {args.token_id} revoked")
    return 0


def cmd_token_rotate(args: argparse.Namespace, settings: Settings) -> int:
    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days)
               if args.expires_days else None)
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        rotated = auth.rotate_token(conn, args.token_id, expires_at=expires)
    if rotated is None:
        raise CliError(f"no live token {args.token_id}")
    token, row = rotated
    emit(args, {"token": token, "token_id": row["id"], "replaces": args.token_id,
                 "account_id": str(row["account_id"]), "expires_at": row["expires_at"]},
          f"{token}\n(shown once: store it now; token {args.token_id} is revoked)")
    return 0




def register(commands: Any, add: AddCommand) -> None:
    person = add_group(commands, "person", "people")
    p = add(person, "create", cmd_person_create, "create a person")
    p.add_argument("--name", required=True)
    p.add_argument("--tz", default="UTC", help="IANA time zone, e.g. Europe/Berlin")

    token = add_group(commands, "token", "API tokens")
    p = add(token, "create", cmd_token_create, "create an API token (shown once)")
    p.add_argument("--role", required=True, choices=["admin", "patient", "therapist", "app"])
    p.add_argument("--person", help="the person a patient token acts for")
    p.add_argument("--account", help="an existing therapist/app/admin account (default: a new "
                                     "account named --name)")
    p.add_argument("--name", help="a label for the token (and a new account's name)")
    p.add_argument("--expires-days", type=int, help="expire after this many days")
    p = add(token, "list", cmd_token_list, "list tokens (never the secrets)")
    p.add_argument("--account", help="only this account's tokens")
    p = add(token, "revoke", cmd_token_revoke, "revoke a token at once")
    p.add_argument("token_id", type=int)
    p = add(token, "rotate", cmd_token_rotate,
            "replace a token: the old one is revoked, the new one shown once")
    p.add_argument("token_id", type=int)
    p.add_argument("--expires-days", type=int, help="the new token's lifetime (default: as old)")
