"""The database's own line of defence: even unscoped SQL under the service role sees only what
the acting principal may see (row-level security; for samples the filtered view, migration
0052), on whichever tier the server offers (each test records it as its ``tier`` property)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from service.core.db import rls
from tests.support.access import account_token, grant, revoke
from tests.support.people import new_person, patient_token, write_rr_text

START = dt.datetime(2024, 5, 4, 7, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def two_people(pool, tmp_path_factory):
    """Persons A and B with samples, sources, an import and a grant row each."""
    from tests.imports.test_ingest import _import

    folder = tmp_path_factory.mktemp("rls")
    people = []
    for name in ("A", "B"):
        person = new_person(pool, f"RLS {name}")
        outcome = _import(pool, person, write_rr_text(folder / f"{name}.txt", n=300), start=START)
        assert outcome.inserted == 300
        people.append(person)
    return people


def _account_of(pool, person_id: str) -> str:
    patient_token(pool, person_id)  # creates the patient account
    with rls.system_connection(pool) as conn:
        return str(conn.execute("SELECT id FROM account WHERE person_id = %s", (person_id,)).fetchone()["id"])


def test_service_connections_run_as_the_non_owner_role(pool):
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT current_user AS who, "
            "(SELECT rolbypassrls OR rolsuper FROM pg_roles "
            " WHERE rolname = current_user) AS bypass"
        ).fetchone()
    assert row == {"who": "vagus_service", "bypass": False}


def test_an_unscoped_query_returns_only_the_acting_patients_rows(pool, two_people, tier):
    a, b = two_people
    with pool.connection() as conn, conn.transaction():
        rls.act_as(conn, _account_of(pool, a))
        rows = conn.execute("SELECT * FROM observation").fetchall()  # no WHERE on purpose
        assert len(rows) == 300 and {str(r["person_id"]) for r in rows} == {a}, f"on {tier}"
        for table in ("person", "source", "import"):
            column = "id" if table == "person" else "person_id"
            seen = {str(r[column]) for r in conn.execute(f"SELECT {column} FROM {table}")}
            assert seen == {a}, f"{table} on {tier}"


def test_no_principal_sees_nothing_and_system_sees_everyone(pool, two_people, tier):
    a, b = two_people
    with pool.connection() as conn:
        assert conn.execute("SELECT count(*) AS n FROM observation").fetchone()["n"] == 0, tier
        assert conn.execute("SELECT count(*) AS n FROM person").fetchone()["n"] == 0, tier
    with rls.system_connection(pool) as conn:
        people = {str(r["person_id"]) for r in conn.execute("SELECT DISTINCT person_id FROM observation")}
    assert {a, b} <= people, f"on {tier}"


_ONE_SAMPLE = (
    "INSERT INTO {} (person_id, metric, source_id, ts, value) VALUES (%s, 'heart_rate', %s, now(), 60)"
)


def test_writing_a_foreign_persons_row_is_refused(pool, two_people, tier):
    a, b = two_people
    with pool.connection() as conn, conn.transaction(force_rollback=True):
        rls.act_as(conn, _account_of(pool, a))
        source = conn.execute("SELECT id FROM source LIMIT 1").fetchone()["id"]
        with pytest.raises(psycopg.errors.WithCheckOptionViolation), conn.transaction():
            conn.execute(_ONE_SAMPLE.format("observation"), (b, source))
        # The loader's shape: a set of rows, duplicates skipped.
        with pytest.raises(psycopg.errors.WithCheckOptionViolation), conn.transaction():
            conn.execute(
                "INSERT INTO observation (person_id, metric, source_id, ts, value) "
                "SELECT %s, 'heart_rate', %s, now() - i * interval '1 s', 60 "
                "FROM generate_series(1, 10) i ON CONFLICT DO NOTHING",
                (b, source),
            )
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege, match="observation_data"),
            conn.transaction(),
        ):
            conn.execute(_ONE_SAMPLE.format("observation_data"), (b, source))
        # The person's own rows go in: that is the import path.
        assert conn.execute(_ONE_SAMPLE.format("observation"), (a, source)).rowcount == 1, tier


def test_an_unscoped_update_or_delete_cannot_touch_another_person(pool, two_people, tier):
    a, b = two_people
    with pool.connection() as conn, conn.transaction(force_rollback=True):
        rls.act_as(conn, _account_of(pool, a))
        for statement in (
            "DELETE FROM observation",
            "UPDATE observation SET value = 0",
            "DELETE FROM observation_data",
            "UPDATE observation_data SET value = 0",
            "TRUNCATE observation_data",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not acting for"), conn.transaction():
            conn.execute("SELECT vagus_erase_observations(%s)", (b,))
        # A patient erasing itself is the one delete the service can do.
        assert conn.execute("SELECT vagus_erase_observations(%s) AS n", (a,)).fetchone()["n"] == 300, tier
        assert conn.execute("UPDATE person SET name = 'x'").rowcount == 1
        rls.act_as_system(conn)
        left = {
            str(r["person_id"]): r["n"]
            for r in conn.execute(
                "SELECT person_id, count(*) AS n FROM observation WHERE person_id = ANY(%s) "
                "GROUP BY person_id",
                ([a, b],),
            )
        }
    assert left == {b: 300}, f"on {tier}"


def test_a_therapist_sees_granted_persons_until_the_grant_is_revoked(pool, two_people, tier):
    a, b = two_people
    therapist, _ = account_token(pool, "therapist")
    grant_id = grant(pool, a, therapist, ["read:observations"])

    def visible() -> set[str]:
        with pool.connection() as conn, conn.transaction():
            rls.act_as(conn, therapist)
            return {str(r["person_id"]) for r in conn.execute("SELECT DISTINCT person_id FROM observation")}

    assert visible() == {a}, f"on {tier}"
    # A grant lets the therapist read, never erase.
    with pool.connection() as conn, conn.transaction(force_rollback=True):
        rls.act_as(conn, therapist)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not acting for"):
            conn.execute("SELECT vagus_erase_observations(%s)", (a,))
    revoke(pool, grant_id)
    assert visible() == set(), f"on {tier}"


def test_an_expired_grant_shows_nothing(pool, two_people, tier):
    a, _ = two_people
    therapist, _ = account_token(pool, "therapist")
    grant(
        pool,
        a,
        therapist,
        ["read:observations"],
        expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1),
    )
    with pool.connection() as conn, conn.transaction():
        rls.act_as(conn, therapist)
        assert conn.execute("SELECT count(*) AS n FROM observation").fetchone()["n"] == 0, tier


_PAGE = "SELECT * FROM vagus_observation_page(%s, %s::metric[], NULL, NULL, NULL, NULL, NULL, 1000)"


def test_the_page_function_shows_what_the_view_shows(pool, two_people, tier):
    """vagus_observation_page (the API's paging, as the owner) applies the view's rule."""
    a, b = two_people
    therapist, _ = account_token(pool, "therapist")
    grant(pool, b, therapist, ["read:observations"])

    def page(principal: str | None, person: str) -> set[str]:
        with pool.connection() as conn, conn.transaction():
            if principal:
                rls.act_as(conn, principal)
            return {str(r["person_id"]) for r in conn.execute(_PAGE, (person, ["rr_interval"]))}

    account_a = _account_of(pool, a)
    assert page(account_a, a) == {a}, f"on {tier}"
    assert page(account_a, b) == set(), f"on {tier}"
    assert page(None, a) == set(), f"on {tier}"
    assert (page(therapist, a), page(therapist, b)) == (set(), {b}), f"on {tier}"
    with pool.connection() as conn, conn.transaction():
        rls.act_as(conn, account_a)
        rows = conn.execute(
            "SELECT metric, source_id, ts FROM vagus_observation_page(%s, NULL, NULL, NULL, "
            "NULL, NULL, NULL, 120)",
            (a,),
        ).fetchall()
        after = rows[-1]
        rest = conn.execute(
            "SELECT metric, source_id, ts FROM vagus_observation_page(%s, NULL, NULL, NULL, "
            "%s::metric, %s, %s, 1000)",
            (a, after["metric"], after["source_id"], after["ts"]),
        ).fetchall()
    assert len(rows) == 120 and len(rest) == 180, f"on {tier}"  # keyset pages, no overlap
    assert rows == sorted(rows, key=lambda r: (r["source_id"], r["ts"]))
    assert rest[0]["ts"] > after["ts"]


def test_context_does_not_leak_to_the_next_borrower(pool, two_people):
    a, _ = two_people
    with pool.connection() as conn:
        conn.autocommit = True
        rls.act_as_system(conn)  # session-level on an autocommit connection
        assert conn.execute("SELECT count(*) AS n FROM person").fetchone()["n"] >= 2
        conn.autocommit = False
    for _ in range(8):  # whichever pooled connection comes back
        with pool.connection() as conn:
            assert conn.execute("SELECT count(*) AS n FROM person").fetchone()["n"] == 0


def test_the_audit_log_is_append_only_for_the_service(pool):
    with rls.system_connection(pool) as conn:
        conn.execute("INSERT INTO audit_event (action) VALUES ('test')")
    for statement in (
        "UPDATE audit_event SET action = 'x'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
    ):
        with pool.connection() as conn, conn.transaction(force_rollback=True):
            rls.act_as_system(conn)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


_ANY_PRIVILEGE = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER"


def test_every_person_scoped_table_is_protected(pool, two_people, tier):
    """Every relation with a person_id column, in any schema (TimescaleDB's chunks too), is
    either out of the service role's reach or filtered for the acting principal."""
    with rls.system_connection(pool) as conn:
        rows = conn.execute(
            f"""SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind,
                      c.relrowsecurity,
                      EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy,
                      has_table_privilege(c.oid, '{_ANY_PRIVILEGE}') AS reachable,
                      has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE') AS writable,
                      coalesce(c.reloptions, '{{}}') AS options,
                      CASE WHEN c.relkind = 'v' THEN pg_get_viewdef(c.oid) END AS definition
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'person_id'
                                  AND NOT a.attisdropped
               WHERE n.nspname NOT IN ('information_schema', 'pg_catalog')
                 AND n.nspname NOT LIKE 'pg\\_%'
                 AND c.relkind IN ('r', 'p', 'f', 'v', 'm')"""
        ).fetchall()

    def protected(rel) -> bool:
        if not rel["reachable"]:
            return True  # owner-only storage: observation_data, chunks, the rollup
        if rel["relkind"] in ("r", "p", "f"):
            return rel["relrowsecurity"] and rel["has_policy"]
        if rel["relkind"] == "v":
            filtered = (
                "security_barrier=true" in rel["options"]
                and "vagus_rls_bypass()" in rel["definition"]
                and "vagus_person_ids()" in rel["definition"]
            )
            checked = not rel["writable"] or any(o.startswith("check_option=") for o in rel["options"])
            return filtered and checked
        return False  # a materialised view cannot be filtered: it must be owner-only

    unprotected = sorted(r["name"] for r in rows if not protected(r))
    assert not unprotected, (
        f"on {tier}: {unprotected} hold person rows the service role can reach unfiltered: "
        "add `SELECT vagus_protect_person_table('<table>');` to a migration, or revoke the "
        "service role's privileges and filter through a security-barrier view"
    )
    by_name = {r["name"]: r for r in rows}
    assert by_name["public.observation"]["reachable"], tier
    assert not by_name["public.observation_data"]["reachable"], tier
    if tier != "postgres":  # chunks exist: two_people imported samples
        assert any(n.startswith("_timescaledb_internal.") for n in by_name), tier


def test_security_definer_functions_are_pinned_and_erasure_is_not_public(pool, tier):
    with rls.system_connection(pool) as conn:
        functions = conn.execute(
            """SELECT p.proname, pg_get_userbyid(p.proowner) AS owner,
                      coalesce(array_to_string(p.proconfig, ','), '') AS config,
                      has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
               WHERE n.nspname = 'public' AND p.prosecdef"""
        ).fetchall()
    by_name = {f["proname"]: f for f in functions}
    assert {
        "vagus_erase_observations",
        "vagus_observation_page",
        "vagus_person_ids",
        "vagus_rls_bypass",
    } <= set(by_name)
    for function in functions:
        assert "search_path=" in function["config"], function["proname"]
        assert function["owner"] != rls.SERVICE_ROLE, function["proname"]
    for private in ("vagus_erase_observations", "vagus_observation_page"):
        assert not by_name[private]["public_may"], f"{private} on {tier}"
    with pool.connection() as conn:
        assert conn.execute(
            "SELECT has_function_privilege('vagus_erase_observations(uuid)', 'EXECUTE') AS may"
        ).fetchone()["may"], tier


def test_the_rollup_is_only_reachable_through_the_filtered_view(pool):
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT has_table_privilege('observation_hourly', 'SELECT') AS raw, "
            "has_table_privilege('observation_hourly_visible', 'SELECT') AS filtered"
        ).fetchone()
    assert row == {"raw": False, "filtered": True}


def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def _conditions(node: dict) -> str:
    return " ".join(str(node.get(key, "")) for key in ("Index Cond", "Filter", "Recheck Cond"))


def test_samples_stay_filtered_in_the_tiers_own_storage(databases, tier, tmp_path):
    """On a database of its own: the tier's storage for samples (a table with BRIN; a
    hypertable's chunks; on the Timescale licence compressed chunks too) is out of the
    service role's reach, and a person's range read through the view still narrows to that
    person by index (and, on TimescaleDB, to the chunks of the range)."""
    from service.core.db import connect, migrate
    from tests.conftest import REPO_ROOT
    from tests.imports.test_ingest import _import

    url = databases.create()
    migrate.upgrade(url, REPO_ROOT / "migrations")
    pool = connect.create_pool(url, 2)
    later = START + dt.timedelta(days=60)  # another 7-day chunk on TimescaleDB
    try:
        a, b = new_person(pool, "Stored A"), new_person(pool, "Stored B")
        a_file = write_rr_text(tmp_path / "a.txt", n=300)
        assert _import(pool, a, a_file, start=START).inserted == 300
        b_file = write_rr_text(tmp_path / "b.txt", n=300)
        assert _import(pool, b, b_file, start=later).inserted == 300
        with connect.connect(url, autocommit=True) as owner:
            storage = {
                r["rel"]: r["oid"]
                for r in owner.execute(
                    """SELECT c.oid::regclass::text AS rel, c.oid FROM pg_class c
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'person_id'
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.relkind IN ('r', 'p') AND (c.relname = 'observation_data'
                         OR n.nspname LIKE '\\_timescaledb%')"""
                )
            }
            if tier == "postgres":
                assert list(storage) == ["observation_data"], tier
                assert (
                    owner.execute("SELECT to_regclass('observation_ts_brin') AS i").fetchone()["i"]
                    is not None
                ), tier
            else:
                chunks = [r["c"] for r in owner.execute("SELECT show_chunks('observation_data')::text AS c")]
                assert len(chunks) >= 2 and set(chunks) <= set(storage), tier
            if tier == "timescale":
                compressed = owner.execute(
                    "SELECT count(compress_chunk(c, if_not_compressed => true)) AS n "
                    "FROM show_chunks('observation_data') c"
                ).fetchone()["n"]
                stats = owner.execute(
                    "SELECT number_compressed_chunks AS n "
                    "FROM hypertable_compression_stats('observation_data')"
                ).fetchone()
                assert compressed >= 2 and stats["n"] >= 2, tier
                storage = {
                    r["rel"]: r["oid"]
                    for r in owner.execute(  # now with compressed chunks
                        """SELECT c.oid::regclass::text AS rel, c.oid FROM pg_class c
                       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'person_id'
                       JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE c.relkind IN ('r', 'p') AND (c.relname = 'observation_data'
                             OR n.nspname LIKE '\\_timescaledb%')"""
                    )
                }
                assert any("compress" in rel for rel in storage), tier

        with pool.connection() as conn, conn.transaction(force_rollback=True):
            for rel, oid in storage.items():
                assert not conn.execute(
                    "SELECT has_table_privilege(%s::oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE') AS may",
                    (oid,),
                ).fetchone()["may"], f"{rel} on {tier}"
            rls.act_for_person(conn, a)
            assert {
                str(r["person_id"]): r["n"]
                for r in conn.execute("SELECT person_id, count(*) AS n FROM observation GROUP BY 1")
            } == {a: 300}, tier
            conn.execute("SET LOCAL enable_seqscan = off")  # the data is tiny; ask for the index
            plan = conn.execute(
                "EXPLAIN (FORMAT JSON) SELECT ts, value FROM observation WHERE person_id = "
                f"'{a}' AND ts >= '{START.isoformat()}' AND ts < "
                f"'{(START + dt.timedelta(days=1)).isoformat()}'"
            ).fetchone()["QUERY PLAN"]
        nodes = list(_plan_nodes(plan[0]["Plan"]))
        narrowed = [
            n
            for n in nodes
            if "person_id" in str(n.get("Index Cond", ""))
            or ("compress" in n.get("Relation Name", "") and "person_id" in _conditions(n))
        ]
        assert narrowed, f"no index or segment condition on person_id on {tier}: {plan}"
        if tier != "postgres":  # chunk exclusion: only the chunk holding the range is read
            read = {n["Relation Name"] for n in nodes if n.get("Relation Name", "").startswith("_hyper_")}
            assert len(read) == 1, f"chunks read on {tier}: {read}"

        # The import path still works on this storage (compressed chunks included):
        # a repeated file adds nothing, new rows land, and erasure deletes them all.
        assert _import(pool, a, a_file, start=START).inserted == 0, tier
        assert (
            _import(
                pool, a, write_rr_text(tmp_path / "a2.txt", n=50), start=START + dt.timedelta(hours=1)
            ).inserted
            == 50
        ), tier
        with pool.connection() as conn, conn.transaction(force_rollback=True):
            rls.act_for_person(conn, a)
            assert conn.execute("SELECT vagus_erase_observations(%s) AS n", (a,)).fetchone()["n"] == 350, tier
            rls.act_as_system(conn)
            assert conn.execute("SELECT count(*) AS n FROM observation").fetchone()["n"] == 300
    finally:
        pool.close()
