"""``vagus person ...``, ``vagus token ...`` and ``vagus grant ...``: people, the tokens that
act for them, and the consent grants that let a therapist or app see a person."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from service.access import auth, authz
from service.access import service as access
from service.access.repository import accounts, grants, persons
from service.access.schemas import known_zone
from service.core.cli import (
    AddCommand,
    CliError,
    add_group,
    emit,
    operator_pool,
    parse_uuid,
    warn,
)
from service.core.db import rls
from service.core.settings import Settings

DEFAULT_TZ = "UTC"


def _zone(text: str) -> str:
    """A ``--tz`` value, or a plain sentence saying why not (never a validation dump)."""
    try:
        return known_zone(text)
    except ValueError as exc:
        raise CliError(f"--tz: {exc}") from None


def _name(text: str) -> str:
    name = text.strip()
    if not 1 <= len(name) <= 200:
        raise CliError("--name: give 1 to 200 characters")
    return name


def _person_out(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(row["id"]), "name": row["name"], "tz": row["tz"], "created_at": row["created_at"]}


def _person_line(row: dict[str, Any]) -> str:
    return f"person {row['id']} ({row['name']}, {row['tz']})"


def cmd_person_create(args: argparse.Namespace, settings: Settings) -> int:
    name = _name(args.name)
    if args.tz is None:
        tz = DEFAULT_TZ
        warn(
            f"no --tz given: {name}'s times are read and shown in {tz}; change it with "
            f"`vagus person edit ID --tz ZONE` (e.g. Europe/Berlin)"
        )
    else:
        tz = _zone(args.tz)
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        person = persons.create(conn, name=name, tz=tz)
        accounts.patient_account(conn, str(person["id"]))
    emit(args, _person_out(person), _person_line(person))
    return 0


def cmd_person_list(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        rows, after = [], None
        while page := persons.list_all(conn, limit=1000, after=after):
            rows += page
            after = str(page[-1]["id"])
    people = [_person_out(r) for r in rows]
    emit(
        args,
        {"persons": people},
        "\n".join(f"{p['id']}  {p['tz']:<20} {p['name']}" for p in people) or "no persons",
    )
    return 0


def cmd_person_show(args: argparse.Namespace, settings: Settings) -> int:
    person_id = parse_uuid(args.person_id, "person")
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        row = persons.get(conn, person_id)
        if row is None:
            raise CliError(f"no person {person_id}")
        person_grants = grants.list_for_person(conn, person_id)
    out = {**_person_out(row), "grants": [_grant_out(g) for g in person_grants]}
    human = "\n".join(
        [_person_line(row), f"created {row['created_at']:%Y-%m-%d %H:%M} UTC"]
        + [_grant_line(g) for g in person_grants]
    )
    emit(args, out, human)
    return 0


def cmd_person_edit(args: argparse.Namespace, settings: Settings) -> int:
    person_id = parse_uuid(args.person_id, "person")
    if args.name is None and args.tz is None:
        raise CliError("nothing to change: give --name and/or --tz")
    name = _name(args.name) if args.name is not None else None
    tz = _zone(args.tz) if args.tz is not None else None
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        before = persons.get(conn, person_id)
        row = access.edit_person(conn, person_id, name=name, tz=tz)
    if row is None:
        raise CliError(f"no person {person_id}")
    rezoned = before is not None and before["tz"] != row["tz"]
    human = _person_line(row) + (
        f"\nzone changed from {before['tz'] if before else '?'}: session responses will be recomputed"
        if rezoned
        else ""
    )
    emit(args, {**_person_out(row), "zone_changed": rezoned}, human)
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    if args.role == "patient" and not args.person:
        raise CliError("a patient token needs --person ID")
    if args.role != "patient" and args.person:
        raise CliError(
            f"a {args.role} token acts for no single person: drop --person (the patient grants it access)"
        )
    if args.account and args.role == "patient":
        raise CliError("a patient token belongs to the person's account: use --person")
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days) if args.expires_days else None
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
            account = _new_account(conn, args.role, args.name)
        token, row = auth.issue_token(conn, account_id=str(account["id"]), name=args.name, expires_at=expires)
    emit(
        args,
        {
            "token": token,
            "token_id": row["id"],
            "role": args.role,
            "account_id": str(account["id"]),
            "person_id": args.person,
            "expires_at": row["expires_at"],
        },
        f"{token}\n(shown once: store it now; role {args.role})",
    )
    return 0


#: Roles whose account name others see (a patient picks a therapist or app by it): unique.
NAMED_ROLES = ("therapist", "app")


def _new_account(conn, role: str, name: str | None) -> dict[str, Any]:
    """A new account for a first token. A therapist or app keeps one account across token
    rotations, so its name must be new: an existing one is refused, pointing at --account."""
    if role in NAMED_ROLES:
        if not name:
            raise CliError(
                f"a new {role} account needs --name (or --account ID to add a token to an existing one)"
            )
        existing = accounts.find_by_name(conn, role=role, name=name)
        if existing is not None:
            raise CliError(
                f"a {role} account named {name!r} exists ({existing['id']}): pass "
                f"--account {existing['id']} to add a token to it, or choose "
                "another --name"
            )
    return accounts.create(conn, role=role, name=name or role)


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    account = parse_uuid(args.account, "account") if args.account else None
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        rows = accounts.list_tokens(conn, account)
    tokens = [
        {
            **{k: (str(v) if k in ("account_id", "person_id") and v else v) for k, v in row.items()},
            "state": _token_state(row),
        }
        for row in rows
    ]
    human = (
        "\n".join(
            f"{t['id']:>5}  {t['prefix']}...  {t['role']:<9} {t['state']:<8} "
            f"{t['account_name']}" + (f" ({t['name']})" if t["name"] else "")
            for t in tokens
        )
        or "no tokens"
    )
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
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days) if args.expires_days else None
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        rotated = auth.rotate_token(conn, args.token_id, expires_at=expires)
    if rotated is None:
        raise CliError(f"no live token {args.token_id}")
    token, row = rotated
    emit(
        args,
        {
            "token": token,
            "token_id": row["id"],
            "replaces": args.token_id,
            "account_id": str(row["account_id"]),
            "expires_at": row["expires_at"],
        },
        f"{token}\n(shown once: store it now; token {args.token_id} is revoked)",
    )
    return 0


def _grant_out(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "person_id",
        "person_name",
        "grantee_id",
        "grantee_role",
        "grantee_name",
        "scopes",
        "status",
        "live",
        "note",
        "created_at",
        "approved_at",
        "expires_at",
        "revoked_at",
    )
    return {k: (str(row[k]) if k in ("person_id", "grantee_id") else row[k]) for k in keys}


def _grant_line(row: dict[str, Any]) -> str:
    state = "live" if row["live"] else row["status"]
    if row["status"] == "active" and not row["live"]:
        state = "expired"
    until = f" until {row['expires_at']:%Y-%m-%d %H:%M} UTC" if row["expires_at"] else ""
    return (
        f"grant {row['id']:>4}  {state:<8} {row['person_name'] or row['person_id']} -> "
        f"{row['grantee_name']} ({row['grantee_role']} {row['grantee_id']}): "
        f"{', '.join(row['scopes'])}{until}"
    )


def cmd_grant_list(args: argparse.Namespace, settings: Settings) -> int:
    person = parse_uuid(args.person, "person") if args.person else None
    account = parse_uuid(args.account, "account") if args.account else None
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        rows = grants.list_all(conn, person_id=person, grantee_id=account, status=args.status)
    emit(
        args,
        {"grants": [_grant_out(r) for r in rows]},
        "\n".join(_grant_line(r) for r in rows) or "no grants",
    )
    return 0


def cmd_grant_create(args: argparse.Namespace, settings: Settings) -> int:
    person_id = parse_uuid(args.person, "person")
    account_id = parse_uuid(args.account, "account")
    scopes = sorted({s.strip() for s in args.scopes.split(",") if s.strip()})
    unknown = [s for s in scopes if s not in authz.GRANTABLE_SCOPES]
    if not scopes or unknown:
        raise CliError(
            f"--scopes: {', '.join(unknown) or 'none given'} not grantable; choose "
            f"from {', '.join(authz.GRANTABLE_SCOPES)}"
        )
    if args.expires_days is not None and args.expires_days < 1:
        raise CliError("--expires-days: give a whole number of days, 1 or more")
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=args.expires_days) if args.expires_days else None
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        if persons.get(conn, person_id) is None:
            raise CliError(f"no person {person_id}")
        grantee = accounts.get(conn, account_id)
        if grantee is None or grantee["role"] not in ("therapist", "app"):
            raise CliError(f"no therapist or app account {account_id}")
        if grants.open_for(conn, person_id=person_id, grantee_id=account_id):
            raise CliError(
                "this account already has an open grant or request on this person: "
                "revoke it first (`vagus grant list --person ID`)"
            )
        row = grants.create(
            conn,
            person_id=person_id,
            grantee_id=account_id,
            scopes=scopes,
            status="active",
            requested_by=None,
            expires_at=expires,
            note=args.note,
        )
    emit(args, _grant_out(row), _grant_line(row))
    return 0


def cmd_grant_revoke(args: argparse.Namespace, settings: Settings) -> int:
    with operator_pool(settings) as pool, rls.system_connection(pool) as conn:
        row = grants.revoke(conn, args.grant_id)
    if row is None:
        raise CliError(f"no open grant {args.grant_id} (unknown, or already revoked or declined)")
    emit(args, _grant_out(row), _grant_line(row))
    return 0


def register(commands: Any, add: AddCommand) -> None:
    person = add_group(commands, "person", "people")
    p = add(person, "create", cmd_person_create, "create a person")
    p.add_argument("--name", required=True)
    p.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin (default UTC, with a warning)")
    p = add(person, "list", cmd_person_list, "list every person")
    p = add(person, "show", cmd_person_show, "one person and the grants on them")
    p.add_argument("person_id")
    p = add(
        person,
        "edit",
        cmd_person_edit,
        "rename a person or change their zone (a new zone recomputes their responses)",
    )
    p.add_argument("person_id")
    p.add_argument("--name")
    p.add_argument("--tz", help="IANA time zone, e.g. Europe/Berlin")

    token = add_group(commands, "token", "API tokens")
    p = add(token, "create", cmd_token_create, "create an API token (shown once)")
    p.add_argument("--role", required=True, choices=["admin", "patient", "therapist", "app"])
    p.add_argument("--person", help="the person a patient token acts for")
    p.add_argument(
        "--account",
        help="add the token to this existing therapist/app/admin account (see `vagus token list`)",
    )
    p.add_argument(
        "--name", help="a new account's name (unique for therapist and app accounts) and the token's label"
    )
    p.add_argument("--expires-days", type=int, help="expire after this many days")
    p = add(token, "list", cmd_token_list, "list tokens (never the secrets)")
    p.add_argument("--account", help="only this account's tokens")
    p = add(token, "revoke", cmd_token_revoke, "revoke a token at once")
    p.add_argument("token_id", type=int)
    p = add(
        token, "rotate", cmd_token_rotate, "replace a token: the old one is revoked, the new one shown once"
    )
    p.add_argument("token_id", type=int)
    p.add_argument("--expires-days", type=int, help="the new token's lifetime (default: as old)")

    grant = add_group(commands, "grant", "consent grants: which therapist or app sees whom")
    p = add(grant, "list", cmd_grant_list, "list grants (newest first)")
    p.add_argument("--person", help="only grants on this person")
    p.add_argument("--account", help="only grants to this therapist or app account")
    p.add_argument("--status", choices=["pending", "active", "revoked", "declined"])
    p = add(
        grant,
        "create",
        cmd_grant_create,
        "grant a therapist or app account scopes on a person (active at once)",
    )
    p.add_argument("--person", required=True, help="the person granting access")
    p.add_argument("--account", required=True, help="the therapist or app account")
    p.add_argument("--scopes", required=True, help="comma-separated: " + ",".join(authz.GRANTABLE_SCOPES))
    p.add_argument("--expires-days", type=int, help="access ends after this many days")
    p.add_argument("--note")
    p = add(grant, "revoke", cmd_grant_revoke, "revoke a grant (or decline a request) at once")
    p.add_argument("grant_id", type=int)
