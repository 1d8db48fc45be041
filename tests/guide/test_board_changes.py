"""The board's version moves with every kind of change the board shows, and with nothing else;
a poll that finds it unchanged is answered from one read, before any board is built."""

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from bench.data import rush
from market.extensions import db
from market.models import (
    CheckIn,
    Incident,
    Market,
    MarketSession,
    Payment,
    SessionState,
    Stall,
    User,
    Vendor,
    Zone,
)
from market.services.checkin import checkins, payments
from market.services.common.clock import FixedClock, now
from market.services.fees import rules
from market.services.guide import board, incidents
from market.services.sessions import actions, tide
from market.services.zoning import places
from tests.api.test_api import bearer, token_for

GUIDE, CADRE, VENDOR, OTHER_VENDOR = "13800000002", "13800000001", "13800000003", "13800000004"
SIGNING_IN = tuple(f"select {t}." for t in ("users", "role_grants", "area_grants"))
BOARD_TABLES = ("stalls", "checkins", "charges", "payments", "incidents", "zones", "vendors")


@pytest.fixture
def evening(demo_app):
    """An evening open now whose monthly-pass holders keep their stalls for another hour."""
    at = now()
    demo_app.config["CLOCK"] = FixedClock(at)
    with demo_app.app_context():
        made = rush.prepare(stalls=40, vendors=0)
        session = db.session.get(MarketSession, made["session_id"])
        session.cutoff_at = at + timedelta(hours=1)
        db.session.commit()
        made["stalls"] = dict(db.session.execute(select(Stall.code, Stall.id)).all())
    made["at"] = at
    return made


class Poller:
    """The guide's page polls (204 when unchanged) and the API's (304)."""

    def __init__(self, client, auth, market_id: int):
        self.client, self.market_id = client, market_id
        self.headers = bearer(token_for(client, GUIDE))
        auth.login(GUIDE)  # the page: the browser's login
        self.version = None

    def page(self, version):
        return self.client.get(
            f"/guide/markets/{self.market_id}/board/live",
            query_string={"v": version},
            headers={"HX-Request": "true"},
        )

    def api(self, version):
        return self.client.get(
            f"/api/v1/markets/{self.market_id}/occupancy",
            headers={**self.headers, "If-None-Match": f'"{version}"'},
        )

    def full(self):
        """A poll that must find a change: the new board and its version."""
        r = self.api(self.version)
        assert r.status_code == 200, r.status_code
        self.version = r.json["version"]
        return r.json

    def same(self):
        assert self.page(self.version).status_code == 204
        assert self.api(self.version).status_code == 304


def _stall(code) -> Stall:
    return db.session.scalar(select(Stall).where(Stall.code == code))


def _user(phone) -> User:
    return db.session.scalar(select(User).where(User.phone == phone))


def _vendor(phone) -> Vendor:
    return db.session.scalar(
        select(Vendor).join(User, User.id == Vendor.user_id).where(User.phone == phone)
    )


def _checkin() -> CheckIn:
    return db.session.scalar(select(CheckIn).where(CheckIn.state == "active"))


def _payment(method, status="confirmed") -> Payment:
    return db.session.scalar(
        select(Payment)
        .where(Payment.method == method, Payment.status == status, Payment.reverses_id.is_(None))
        .order_by(Payment.id.desc())
    )


def _row(occupancy, code) -> dict:
    return next(s for s in occupancy["stalls"] if s["code"] == code)


def test_every_kind_of_change_moves_the_version_and_only_changes_do(
    demo_app, client, auth, evening
):
    poll = Poller(client, auth, evening["market_id"])
    poll.full()
    poll.same()
    at = evening["at"]
    vendor = bearer(token_for(client, VENDOR))

    def change(do):
        with demo_app.app_context():
            do()
            db.session.commit()
        board_now = poll.full()
        poll.same()
        return board_now

    # A vendor checks in (through the API, as phones do).
    r = client.post(
        "/api/v1/checkins", headers=vendor, json={"stall_id": evening["stalls"]["A-01"]}
    )
    assert r.status_code == 201, r.json
    occ = poll.full()
    assert _row(occ, "A-01")["state"] == "unpaid"
    poll.same()

    steps = [
        (  # the vendor reports paying part by collection code
            lambda: payments.report_collection_code(
                _checkin().charge, 500, "4200000001", _user(VENDOR)
            ),
            lambda o: _row(o, "A-01")["pending_fen"] == 500,
        ),
        (  # staff confirm it against the statement
            lambda: payments.confirm(_payment("collection_code", "pending"), _user(GUIDE)),
            lambda o: _row(o, "A-01")["paid_fen"] == 500,
        ),
        (  # a guide takes cash
            lambda: payments.record_cash(_checkin().charge, 500, _user(GUIDE)),
            lambda o: _row(o, "A-01")["paid_fen"] == 1000,
        ),
        (  # a cadre voids the cash
            lambda: payments.void(_payment("cash"), _user(CADRE), "点错了"),
            lambda o: _row(o, "A-01")["paid_fen"] == 500,
        ),
        (  # and waives the rest
            lambda: payments.waive(_checkin().charge, 1000, "困难户", _user(CADRE)),
            lambda o: _row(o, "A-01")["state"] == "paid",
        ),
        (  # the vendor is moved to A-02
            lambda: checkins.move(_checkin(), _stall("A-02"), at, actor=_user(GUIDE)),
            lambda o: _row(o, "A-02")["state"] == "paid" and _row(o, "A-01")["state"] == "free",
        ),
        (  # an incident at B-01, then resolved
            lambda: incidents.open_incident(
                db.session.get(Market, evening["market_id"]),
                "noise",
                "音响",
                at,
                stall=_stall("B-01"),
                actor=_user(GUIDE),
            ),
            lambda o: _row(o, "B-01")["flagged"],
        ),
        (
            lambda: incidents.resolve(
                db.session.scalar(select(Incident)), "已处理", at, actor=_user(GUIDE)
            ),
            lambda o: not _row(o, "B-01")["flagged"],
        ),
        (  # a stall disabled, then enabled
            lambda: places.disable_stall(_stall("C-01"), "维修", actor=_user(CADRE)),
            lambda o: _row(o, "C-01")["state"] == "disabled",
        ),
        (
            lambda: places.enable_stall(_stall("C-01"), actor=_user(CADRE)),
            lambda o: _row(o, "C-01")["state"] == "free",
        ),
        (  # a zone renamed (the map's titles)
            lambda: places.save_zone(
                db.session.get(Market, evening["market_id"]),
                {"name": "熟食夜档"},
                db.session.scalar(select(Zone).where(Zone.code == "A")),
                actor=_user(CADRE),
            ),
            lambda o: True,
        ),
        (  # a monthly pass holds B-02 until the cutoff
            lambda: rules.add_pass(
                db.session.get(Market, evening["market_id"]),
                evening["stalls"]["B-02"],
                _vendor(OTHER_VENDOR).id,
                at.date(),
                30000,
                actor=_user(CADRE),
            ),
            lambda o: _row(o, "B-02")["state"] == "reserved",
        ),
        (  # the session runs an hour longer
            lambda: actions.extend(
                db.session.get(MarketSession, evening["session_id"]),
                db.session.get(MarketSession, evening["session_id"]).ends_at + timedelta(hours=1),
                now=at,
                actor=_user(CADRE),
            ),
            lambda o: True,
        ),
        (  # the vendor leaves
            lambda: checkins.check_out(_checkin(), at, actor=_user(GUIDE)),
            lambda o: o["counts"]["occupied"] == 0,
        ),
    ]
    for n, (do, shows) in enumerate(steps):
        assert shows(change(do)), n


def test_the_tick_planning_ahead_and_the_clock_move_it(demo_app, client, auth, evening):
    poll = Poller(client, auth, evening["market_id"])
    poll.full()
    at = evening["at"]
    with demo_app.app_context():
        tide.reconcile(at)  # whatever was left to plan
        db.session.commit()
        poll.full()
        # A session far ahead, which the board does not show, goes missing: nothing to see...
        farthest = db.session.scalar(
            select(MarketSession)
            .where(MarketSession.state == SessionState.SCHEDULED)
            .order_by(MarketSession.starts_at.desc())
        )
        db.session.delete(farthest)
        db.session.commit()
    poll.same()
    with demo_app.app_context():  # ...until the tick plans it again, and says so
        assert tide.reconcile(at).generated == 1
        db.session.commit()
    poll.full()
    poll.same()
    # The clock passes the cutoff: the pass holders' stalls are released, nobody wrote a thing.
    demo_app.config["CLOCK"] = FixedClock(at + timedelta(minutes=61))
    poll.full()
    poll.same()
    # A cadre closes the evening.
    with demo_app.app_context():
        session = db.session.get(MarketSession, evening["session_id"])
        actions.close_now(session, now=at + timedelta(minutes=61), actor=_user(CADRE))
        db.session.commit()
    assert poll.full()["session_id"] is None
    poll.same()


def test_versions_that_are_not_this_boards_get_the_board(demo_app, client, auth, evening):
    poll = Poller(client, auth, evening["market_id"])
    poll.full()
    m, since, count, until = poll.version.split("-")
    others = (
        "",
        "x",
        "1-2-3",
        f"{poll.version}-1",
        "ffffffff-0-0-0",
        f"{m}-{since}-{int(count, 16) + 1:x}-{until}",  # another count
        f"{int(m, 16) + 1:x}-{since}-{count}-{until}",  # another market's
        f"{m}-{int(since, 16) - 3600:x}-{count}-{until}",  # counting from too long ago
        f"{m}-{since}-{count}-{int(since, 16):x}",  # expired
    )
    for other in others:
        assert poll.page(other).status_code == 200, other
        assert poll.api(other).status_code == 200, other


def _statements(demo_app, work) -> list[str]:
    with demo_app.app_context():
        engine = db.engine
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def _reads_board_tables(statement: str) -> bool:
    return any(f"from {t} " in statement + " " or f"join {t} " in statement for t in BOARD_TABLES)


def test_an_unchanged_poll_is_one_read_and_builds_nothing(demo_app, client, auth, evening):
    poll = Poller(client, auth, evening["market_id"])
    poll.full()
    with demo_app.app_context():
        market = db.session.get(Market, evening["market_id"])
        answers = []
        seen = _statements(
            demo_app, lambda: answers.append(board.unchanged(market, poll.version, now()))
        )
        assert answers == [True]
        assert len(seen) <= 2 and len(seen) == 1 and "from audit_events" in seen[0]
    for ask in (lambda: poll.page(poll.version), lambda: poll.api(poll.version)):
        seen = _statements(demo_app, ask)
        # Signing in (the user and their grants) as on every request; then the answer: the
        # market for the access check and the one read. No stall, check-in, charge, payment
        # or session: nothing of the board.
        answer = [s for s in seen if s != "begin" and not s.startswith(SIGNING_IN)]
        assert len(answer) <= 2, answer
        assert answer[0].startswith("select markets.") and "from audit_events" in answer[1]
        assert not [s for s in seen if _reads_board_tables(s) or "market_sessions" in s], seen
