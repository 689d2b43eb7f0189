"""The demo: a synthetic patient whose data goes through the real import path.

Eight weeks of smartwatch heart rate (every 5 minutes, with a daily rhythm),
chest-strap RR recorded with Polar Sensor Logger around eight afternoon
massage sessions (with a modest built-in relaxation after each) and around six
rest-control sessions (the person lies still for an hour at the clinic: a smaller
relaxation), the sessions themselves, pain and stress ratings before and after
each, and two salivary cortisol results. Files are written under ``VAGUS_DATA_DIR/demo`` and imported
like any upload; the first run's dates are remembered there, so re-running
the demo inserts nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from service.access import auth, authz
from service.access.repository import accounts, grants, persons
from service.analysis.session_response import DEFAULT_WINDOWS, WindowConfig
from service.care.repository import lab_results, self_reports, sessions
from service.core.db import rls
from service.core.db.types import Conn, Pool, returned
from service.evidence.person import person_evidence
from service.imports.service import ImportOutcome, register, run_import
from service.trials import repository as trial_plans
from service.trials import service as trials
from service.trials.schemas import TrialPlanCreate
from signal_processing.synthetic import daily_mean_rr, simulate_rr

DEMO_NAME = "Demo patient"
DEMO_TZ = "Europe/Berlin"
DEMO_ADMIN = "demo admin"
#: A therapist who follows the demo patient with their consent (the web app's other side).
DEMO_THERAPIST = "Demo therapist"
DEMO_THERAPIST_SCOPES = [authz.READ_OBSERVATIONS, authz.READ_EVIDENCE, authz.READ_SESSIONS]
#: The label of the demo's tokens: a re-run revokes the live ones so labelled.
DEMO_TOKEN_NAME = "demo"
WEEKS = 8
SESSION_DAYS = 8
REST_DAYS = 6
#: RR after a session: (mean RR in ms, gain on the respiratory oscillation). Massage relaxes
#: more than lying still does; the difference is what "compared with resting" estimates.
MASSAGE_CALM = (890.0, 1.5)
REST_CALM = (865.0, 1.15)


@dataclass
class Demo:
    person_id: str
    patient_token: str
    admin_token: str
    imports: list[ImportOutcome]
    therapist_token: str = ""


def demo_start(folder: Path, today: dt.date | None = None) -> dt.datetime:
    """Midnight, local time, eight weeks before the first run (remembered in ``folder``)."""
    remembered = folder / "start-date.txt"
    if remembered.exists():
        first = dt.date.fromisoformat(remembered.read_text().strip())
    else:
        today = today or dt.datetime.now(ZoneInfo(DEMO_TZ)).date()
        first = today - dt.timedelta(weeks=WEEKS)
        remembered.write_text(first.isoformat() + "\n")
    return dt.datetime.combine(first, dt.time(0), tzinfo=ZoneInfo(DEMO_TZ))


#: Days after the start of each week on which sessions fall (Thursday and Sunday for a
#: Monday start). Massage and rest alternate between them, so both arms meet both weekdays
#: and a weekday effect cancels in "massage compared with resting".
WEEKDAY_OFFSETS = (3, 6)


def _at_15(start: dt.datetime, days: int) -> tuple[dt.datetime, dt.datetime]:
    day = (start + dt.timedelta(days=days)).date()
    begin = dt.datetime.combine(day, dt.time(15), tzinfo=start.tzinfo)
    return begin, begin + dt.timedelta(hours=1)


def session_times(start: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Eight weekly afternoon massage sessions, 15:00-16:00 local, alternating two weekdays."""
    return [_at_15(start, 7 * k + WEEKDAY_OFFSETS[k % 2]) for k in range(SESSION_DAYS)]


def rest_times(start: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Six rest-control sessions in the first six weeks, on the week's other session weekday."""
    return [_at_15(start, 7 * k + WEEKDAY_OFFSETS[(k + 1) % 2]) for k in range(REST_DAYS)]


def write_heart_rate(path: Path, start: dt.datetime, days: int, seed: int = 1) -> int:
    """A ``timestamp,bpm`` CSV every 5 minutes for ``days`` days."""
    rng = np.random.default_rng(seed)
    minutes = np.arange(0, days * 24 * 60, 5)
    hours = (start.hour + minutes / 60.0) % 24
    bpm = 60000.0 / daily_mean_rr(hours) + rng.normal(0, 3, minutes.size)
    with path.open("w") as out:
        out.write("timestamp,bpm\n")
        for minute, value in zip(minutes, bpm, strict=True):
            moment = (start + dt.timedelta(minutes=int(minute))).astimezone(dt.UTC)
            out.write(f"{moment.isoformat()},{value:.0f}\n")
    return minutes.size


def write_polar_session(
    path: Path,
    start: dt.datetime,
    hours: float,
    seed: int,
    relaxed_from: dt.datetime | None = None,
    calm: tuple[float, float] = MASSAGE_CALM,
) -> int:
    """A Polar Sensor Logger RR file: beats grouped into notifications that arrive late.

    From ``relaxed_from`` on, the mean RR becomes ``calm[0]`` ms and the respiratory
    oscillation is multiplied by ``calm[1]`` (after a massage: 40 ms slower, 50 % larger,
    the kind of shift the claims describe; after resting: less).
    """
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / 0.85)
    rr = simulate_rr(
        n_beats=n, mean_ms=850.0, lf_amplitude_ms=30.0, hf_amplitude_ms=25.0, seed=seed, exact_timing=False
    )
    if relaxed_from is not None:
        after = np.cumsum(rr) > (relaxed_from - start).total_seconds() * 1000
        rr[after] = calm[0] + calm[1] * (rr[after] - 850.0)
    beat_ms = np.cumsum(rr)
    with path.open("w") as out:
        out.write("Phone timestamp;RR-interval [ms]\n")
        i = 0
        while i < n:
            size = int(rng.integers(1, 4))
            arrival = start + dt.timedelta(
                milliseconds=float(beat_ms[min(i + size, n) - 1]) + float(rng.uniform(20, 400))
            )
            stamp = arrival.replace(tzinfo=None).isoformat(timespec="milliseconds")
            for value in rr[i : i + size]:
                out.write(f"{stamp};{value:.0f}\n")
            i += size
    return n


def load(pool: Pool, data_dir: Path, windows: WindowConfig = DEFAULT_WINDOWS) -> Demo:
    """Create (or reuse) the demo person, import its files, and issue fresh tokens (revoking
    the previous run's)."""
    folder = data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    start = demo_start(folder)
    sessions_at = session_times(start)
    rests_at = rest_times(start)
    with rls.system_connection(pool) as conn:
        person = persons.find_by_name(conn, DEMO_NAME) or persons.create(conn, name=DEMO_NAME, tz=DEMO_TZ)
        person_id = str(person["id"])
        patient = accounts.patient_account(conn, person_id)
        admin = accounts.find_by_name(conn, role="admin", name=DEMO_ADMIN) or accounts.create(
            conn, role="admin", name=DEMO_ADMIN
        )
        patient_token = _fresh_demo_token(conn, str(patient["id"]))
        admin_token = _fresh_demo_token(conn, str(admin["id"]))
        therapist_token = _consenting_therapist(conn, person_id)
    files = [folder / "smartwatch-heart-rate.csv"]
    if not files[0].exists():
        write_heart_rate(files[0], start, WEEKS * 7)
    for k, (begin, end) in enumerate(sessions_at):
        path = folder / f"polar-h10-{begin:%Y-%m-%d}.txt"
        if not path.exists():
            write_polar_session(path, begin - dt.timedelta(minutes=45), 2.5, seed=100 + k, relaxed_from=end)
        files.append(path)
    for k, (begin, end) in enumerate(rests_at):
        path = folder / f"polar-h10-rest-{begin:%Y-%m-%d}.txt"
        if not path.exists():
            write_polar_session(
                path, begin - dt.timedelta(minutes=45), 2.5, seed=200 + k, relaxed_from=end, calm=REST_CALM
            )
        files.append(path)
    outcomes = []
    for path in files:
        with rls.system_connection(pool) as conn:
            row = register(conn, person_id=person_id, file_name=path.name, stored_path=path)
        outcomes.append(run_import(pool, row["id"], path))
    with rls.system_connection(pool) as conn:
        if not sessions.in_range(conn, person_id=person_id):
            _log_sessions(conn, person_id, sessions_at)
            _log_rest_sessions(conn, person_id, rests_at)
        # Compute (and store) every session's response now, so the first read is quick.
        person_evidence(conn, returned(persons.get(conn, person_id)), windows)
    _plan_trial(pool, person_id)  # trials: the demo's n-of-1 plan (see _plan_trial)
    return Demo(person_id, patient_token, admin_token, outcomes, therapist_token)


def _consenting_therapist(conn: Conn, person_id: str) -> str:
    """The demo therapist, with an active grant from the demo patient, and a fresh token."""
    therapist = accounts.find_by_name(conn, role="therapist", name=DEMO_THERAPIST) or accounts.create(
        conn, role="therapist", name=DEMO_THERAPIST
    )
    therapist_id = str(therapist["id"])
    if grants.open_for(conn, person_id=person_id, grantee_id=therapist_id) is None:
        grants.create(
            conn,
            person_id=person_id,
            grantee_id=therapist_id,
            scopes=DEMO_THERAPIST_SCOPES,
            status="active",
            requested_by=None,
            expires_at=None,
            note="demo: the patient's consent to their therapist",
        )
    return _fresh_demo_token(conn, therapist_id)


def _fresh_demo_token(conn, account_id: str) -> str:
    """A new demo token for the account, the previous run's demo tokens revoked: only hashes
    are stored, so a token cannot be shown twice, but a re-run leaves one live pair, not one
    more per run."""
    for old in accounts.live_tokens_named(conn, account_id, DEMO_TOKEN_NAME):
        accounts.revoke_token(conn, old["id"])
    token, _ = auth.issue_token(conn, account_id=account_id, name=DEMO_TOKEN_NAME)
    return token


def _log_sessions(conn, person_id: str, sessions_at: list[tuple[dt.datetime, dt.datetime]]) -> None:
    """The sessions, before/after ratings, and cortisol around two of them."""
    rng = np.random.default_rng(7)
    for k, (begin, end) in enumerate(sessions_at):
        row = sessions.create(
            conn,
            person_id=person_id,
            starts_at=begin,
            ends_at=end,
            modality=("swedish", "deep_tissue")[k % 2],
            pressure=("moderate", "deep")[k % 2],
            body_areas=["neck", "shoulders", "upper_back"],
            notes="demo session",
        )
        for kind, before, drop in (("pain", 5.0, 1.5), ("anxiety", 6.0, 2.0)):
            value_before = float(np.clip(round(before + rng.normal(0, 1)), 0, 10))
            value_after = float(np.clip(round(value_before - drop + rng.normal(0, 1)), 0, 10))
            self_reports.create(
                conn,
                person_id=person_id,
                ts=begin - dt.timedelta(minutes=10),
                kind=kind,
                value=value_before,
                session_id=row["id"],
                phase="before",
            )
            self_reports.create(
                conn,
                person_id=person_id,
                ts=end + dt.timedelta(minutes=10),
                kind=kind,
                value=value_after,
                session_id=row["id"],
                phase="after",
            )
        if k == SESSION_DAYS - 1:  # saliva cortisol before and after the last session
            for ts, value, phase in (
                (begin - dt.timedelta(minutes=15), 9.8, "before"),
                (end + dt.timedelta(minutes=20), 8.1, "after"),
            ):
                lab_results.create(
                    conn,
                    person_id=person_id,
                    ts=ts,
                    analyte="cortisol",
                    value=value,
                    unit="nmol/L",
                    value_nmol_l=value,
                    specimen="saliva",
                    session_id=row["id"],
                    phase=phase,
                )


def _log_rest_sessions(conn, person_id: str, rests_at: list[tuple[dt.datetime, dt.datetime]]) -> None:
    """Rest-control sessions (modality ``rest``, no pressure) with the same ratings around them."""
    rng = np.random.default_rng(8)
    for begin, end in rests_at:
        row = sessions.create(
            conn,
            person_id=person_id,
            starts_at=begin,
            ends_at=end,
            modality="rest",
            pressure=None,
            body_areas=[],
            notes="demo rest-control session: lying still, no massage",
        )
        for kind, before, drop in (("pain", 5.0, 0.5), ("anxiety", 6.0, 1.0)):
            value_before = float(np.clip(round(before + rng.normal(0, 1)), 0, 10))
            value_after = float(np.clip(round(value_before - drop + rng.normal(0, 1)), 0, 10))
            self_reports.create(
                conn,
                person_id=person_id,
                ts=begin - dt.timedelta(minutes=10),
                kind=kind,
                value=value_before,
                session_id=row["id"],
                phase="before",
            )
            self_reports.create(
                conn,
                person_id=person_id,
                ts=end + dt.timedelta(minutes=10),
                kind=kind,
                value=value_after,
                session_id=row["id"],
                phase="after",
            )


# --- trials: the demo person's n-of-1 trial plan ---------------------------------------------

#: Six weeks, two sessions a week, half of them rest controls, a fixed seed.
DEMO_TRIAL = TrialPlanCreate(
    weeks=6, per_week=2, rest_share=0.5, seed=2024, time_of_day=dt.time(15), duration_minutes=60
)


def _plan_trial(pool: Pool, person_id: str) -> None:
    """A forward schedule of massage and rest sessions for the demo person (made once)."""
    with rls.system_connection(pool) as conn:
        if trial_plans.latest(conn, person_id) is None:
            trials.create_plan(conn, returned(persons.get(conn, person_id)), DEMO_TRIAL)
