"""A round from announcement to winners' passes: the rules, each refusal, the scheduler's
reveal, and a stall going down the waiting list."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from market.extensions import db
from market.models import AuditEvent, DrawRound, MonthlyPass, ReliefRule, Role
from market.services.common import ticks
from market.services.common.errors import Conflict, Forbidden, InvalidInput
from market.services.draws import applications, canonical, drawing, rounds, seal
from market.services.draws import public as draws_public
from tests import builders as b

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def place(ctx):
    org = b.org()
    mkt = b.market(org, slug="draws")
    goods = b.zone(mkt, code="C", categories="goods")
    food = b.zone(mkt, code="A", categories="cooked_food")
    cadre = b.user(role=Role.CADRE, organization=org)
    stalls = [b.stall(goods, code=f"C-0{i}") for i in (1, 2, 3)]
    b.stall(food, code="A-01")
    return {"org": org, "market": mkt, "cadre": cadre, "stalls": stalls}


def vendor(place, **kw):
    kw.setdefault("status", "approved")
    return b.vendor(place["org"], **kw)


def new_round(place, **kw):
    data = rounds.RoundInput(
        title=kw.pop("title", "十二月固定摊位"),
        stall_codes=kw.pop("stall_codes", ["C-01", "C-02", "C-03"]),
        period_start=kw.pop("period_start", date(2026, 12, 1)),
        months=kw.pop("months", 1),
        fee_fen=kw.pop("fee_fen", 30000),
        opens_at=kw.pop("opens_at", NOW - timedelta(hours=1)),
        closes_at=kw.pop("closes_at", NOW + timedelta(days=2)),
        draw_at=kw.pop("draw_at", NOW + timedelta(days=3)),
        **kw,
    )
    return rounds.create_round(place["market"], data, actor=place["cadre"], now=NOW)


def test_a_round_commits_to_a_sealed_secret_at_once(place):
    rnd = new_round(place)
    assert len(rnd.commitment) == 64 and rnd.state == "announced"
    assert rnd.commitment not in rnd.sealed_secret
    secret = seal.unseal(rnd.sealed_secret, "test-secret")
    assert canonical.commitment(secret) == rnd.commitment
    with pytest.raises(seal.SealBroken):
        seal.unseal(rnd.sealed_secret, "another-key")
    # Nothing public carries the secret before the draw.
    assert secret.hex() not in str(draws_public.payload(rnd))


@pytest.mark.parametrize(
    "change, code",
    [
        ({"stall_codes": ["C-01", "C-09"]}, "invalid_input"),
        ({"stall_codes": ["C-01", "C-01"]}, "invalid_input"),
        ({"closes_at": NOW - timedelta(hours=1), "opens_at": NOW - timedelta(hours=2)}, None),
        ({"draw_at": NOW + timedelta(days=1)}, "times_out_of_order"),
        ({"months": 0}, None),
        ({"quota_percent": 101}, None),
        ({"period_start": date(2026, 10, 1)}, None),
        ({"title": " "}, None),
    ],
)
def test_bad_rounds_are_refused(place, change, code):
    with pytest.raises(InvalidInput) as caught:
        new_round(place, **change)
    if code:
        assert caught.value.code == code


def test_stalls_already_held_are_refused(place):
    new_round(place, stall_codes=["C-01"])
    with pytest.raises(Conflict):
        new_round(place, stall_codes=["C-02", "C-01"])


def test_applications_get_numbers_and_each_bad_one_a_clear_refusal(place):
    rnd = new_round(place, ranked=True)
    one, two = vendor(place), vendor(place)
    a1 = applications.apply(rnd, one, ["C-02"], actor=one.user, now=NOW)
    a2 = applications.apply(rnd, two, [], actor=two.user, now=NOW)
    assert (a1.number, a2.number, a1.preferences) == (1, 2, "C-02")
    with pytest.raises(Conflict) as twice:
        applications.apply(rnd, one, [], actor=one.user, now=NOW)
    assert twice.value.code == "already_applied"
    with pytest.raises(InvalidInput):
        applications.apply(rnd, vendor(place), ["C-02", "C-02"], actor=None, now=NOW)
    with pytest.raises(InvalidInput):
        applications.apply(rnd, vendor(place), ["A-01"], actor=None, now=NOW)
    late = NOW + timedelta(days=2)
    with pytest.raises(Conflict) as closed:
        applications.apply(rnd, vendor(place), [], actor=None, now=late)
    assert closed.value.code == "window_closed"
    with pytest.raises(Conflict) as early:
        applications.apply(rnd, vendor(place), [], actor=None, now=NOW - timedelta(days=1))
    assert early.value.code == "window_not_open"
    suspended = vendor(place, status="suspended", status_reason="占道")
    with pytest.raises(Forbidden):
        applications.apply(rnd, suspended, [], actor=None, now=NOW)
    with pytest.raises(Forbidden):
        applications.apply(rnd, vendor(place, status="pending"), [], actor=None, now=NOW)
    with pytest.raises(InvalidInput) as wrong:
        applications.apply(rnd, vendor(place, category="cooked_food"), [], actor=None, now=NOW)
    assert wrong.value.code == "wrong_category"
    # Withdrawing, then applying again, keeps the number.
    applications.withdraw(a1, actor=one.user, now=NOW)
    assert applications.apply(rnd, one, [], actor=one.user, now=NOW).number == 1
    with pytest.raises(Conflict):
        applications.withdraw(a1, actor=one.user, now=late)


def test_a_food_zone_needs_a_certificate_through_the_period(place):
    rnd = new_round(place, stall_codes=["A-01"])
    short = vendor(
        place,
        category="cooked_food",
        sells_food=True,
        health_cert_no="J1",
        health_cert_expires=date(2026, 12, 15),
    )
    with pytest.raises(InvalidInput) as caught:
        applications.apply(rnd, short, [], actor=None, now=NOW)
    assert caught.value.code == "certificate_not_valid"
    ok = vendor(
        place,
        category="cooked_food",
        sells_food=True,
        health_cert_no="J2",
        health_cert_expires=date(2027, 6, 1),
    )
    assert applications.apply(rnd, ok, [], actor=None, now=NOW).number == 1


def run_ticks(at):
    lines = drawing.tick(at)
    db.session.flush()
    return lines


def test_the_scheduler_freezes_then_draws_and_winners_get_passes(place):
    rnd = new_round(place, ranked=True, quota_percent=34, priority_kinds=["veteran"])
    db.session.add(
        ReliefRule(
            market_id=place["market"].id,
            relief_kind="veteran",
            percent_off=50,
            effective_from=NOW - timedelta(days=30),
        )
    )
    vet = vendor(place, relief_kind="veteran", relief_status="confirmed")
    others = [vendor(place) for _ in range(4)]
    for v in [*others, vet]:
        applications.apply(rnd, v, ["C-03", "C-01"], actor=v.user, now=NOW)
    assert run_ticks(NOW + timedelta(days=1)) == []
    assert "drawn" not in " ".join(run_ticks(NOW + timedelta(days=2)))
    assert rnd.state == "frozen" and rnd.list_hash == canonical.list_hash(rnd.frozen_list)
    listed = canonical.json.loads(rnd.frozen_list)
    assert [a["group"] for a in listed["applicants"]] == ["general"] * 4 + ["priority"]
    assert listed["quota"] == 1 and all("**" in a["name"] for a in listed["applicants"])
    # After the window nobody can change the list.
    with pytest.raises(Conflict):
        applications.apply(rnd, vendor(place), [], actor=None, now=NOW + timedelta(days=2))
    assert run_ticks(NOW + timedelta(days=3)) == [f"draw {rnd.id}: drawn"]
    assert run_ticks(NOW + timedelta(days=4)) == []  # never drawn twice
    result = canonical.json.loads(rnd.result)
    vet_number = next(a.number for a in rnd.applications if a.vendor_id == vet.id)
    assert result["order"][0] == vet_number  # the priority group first, within its quota
    assert result["assignments"][0] == {"number": vet_number, "stall": "C-03"}
    won = [a for a in rnd.applications if a.state == "won"]
    assert len(won) == 3 and {a.position for a in won} == {1, 2, 3}
    assert sorted(a.position for a in rnd.applications if a.state == "waiting") == [4, 5]
    vet_pass = db.session.scalar(select(MonthlyPass).where(MonthlyPass.vendor_id == vet.id))
    assert (vet_pass.amount_fen, vet_pass.valid_from, vet_pass.valid_until) == (
        15000,
        date(2026, 12, 1),
        date(2026, 12, 31),
    )
    assert vet_pass.stall.code == "C-03"
    # The public proof verifies with the standalone script.
    from tests.services.draws.test_canonical import verifier

    assert verifier().check(draws_public.payload(rnd)) is None


def test_a_quarter_makes_three_passes_and_a_declined_stall_goes_down_the_list(place):
    rnd = new_round(place, stall_codes=["C-01"], months=3)
    vs = [vendor(place) for _ in range(3)]
    for v in vs:
        applications.apply(rnd, v, [], actor=v.user, now=NOW)
    run_ticks(NOW + timedelta(days=3))
    winner = next(a for a in rnd.applications if a.state == "won")
    passes = db.session.scalars(
        select(MonthlyPass).where(MonthlyPass.vendor_id == winner.vendor_id)
    ).all()
    assert [p.valid_from.month for p in passes] == [12, 1, 2]
    january = datetime(2027, 1, 10, 4, tzinfo=UTC)
    nxt = drawing.give_up(winner, actor=winner.vendor.user, forfeit=False, now=january)
    assert winner.state == "declined" and nxt.state == "won" and nxt.position == 2
    assert [p.status for p in passes] == ["active", "cancelled", "cancelled"]
    theirs = db.session.scalars(
        select(MonthlyPass).where(MonthlyPass.vendor_id == nxt.vendor_id)
    ).all()
    assert [p.valid_from.month for p in theirs] == [1, 2]
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"draw.declined", "draw.reassigned", "draw.drawn", "draw.frozen"} <= actions
    with pytest.raises(Conflict):
        drawing.give_up(winner, actor=None, forfeit=True, now=january)
    # A cadre forfeits the second: the third takes it; then the list is empty.
    third = drawing.give_up(nxt, actor=place["cadre"], forfeit=True, now=january)
    assert third is not None and third.state == "won"
    assert drawing.give_up(third, actor=place["cadre"], forfeit=True, now=january) is None


def test_a_round_with_no_applicants_draws_to_an_empty_result(place):
    rnd = new_round(place)
    run_ticks(NOW + timedelta(days=5))
    assert rnd.state == "drawn"
    assert canonical.json.loads(rnd.result)["assignments"] == []


def test_a_changed_secret_key_stops_the_draw_loudly(place, ctx):
    rnd = new_round(place)
    ctx.config["SECRET_KEY"] = "rotated"
    try:
        with pytest.raises(seal.SealBroken):
            drawing.draw(rnd.id, NOW + timedelta(days=5)) if drawing.freeze(
                rnd.id, NOW + timedelta(days=5)
            ) else None
    finally:
        ctx.config["SECRET_KEY"] = "test-secret"
    assert db.session.get(DrawRound, rnd.id).result is None


def test_the_job_is_registered_with_the_scheduler():
    assert "draws.reveal" in [name for name, _job in ticks._JOBS]
