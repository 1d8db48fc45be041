"""Chain checkpoints: a full check leaves how far it got, the street office's dashboard
re-hashes only the entries after it, a full check that fails keeps the flag raised, and the
books-against-operations result of a full check stands in for the dashboard's own while fresh.
The scheduler's tick runs both full checks once a night by itself."""

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from market.extensions import db
from market.models import ChainCheckpoint, Organization, Payment
from market.services.areas import dashboard, membership
from market.services.common import ticks
from market.services.ledger import checkpoints, operations
from market.services.ledger import entries as ledger
from market.services.ledger.entries import Line
from tests.ledger_helpers import community, entries, tamper
from tests.services.ledger.test_chain import _cash_in
from tests.views.test_areas import (
    _login,
    area,  # noqa: F401  (the fixture)
)

NOVEMBER = date(2026, 11, 1)
TODAY = date(2026, 12, 6)
AT = datetime(2026, 12, 6, 2, 0, tzinfo=UTC)


@pytest.fixture
def w(ctx):
    w = community()
    w["area"] = membership.create_area("测试街道")
    membership.attach(w["area"], w["org"])
    for n in range(3):
        _cash_in(w["org"].id, 100 + n, f"test:{n}")
    db.session.commit()
    return w


def _row(w):
    return dashboard.rows_for(w["area"], NOVEMBER, AT, TODAY)[0]


def _checkpoint(w) -> ChainCheckpoint:
    db.session.expire_all()
    return db.session.get(ChainCheckpoint, w["org"].id)


def test_a_full_check_leaves_the_head_it_saw_and_the_dashboard_checks_only_what_follows(w):
    assert checkpoints.verify_and_record(w["org"].id, now=AT).ok
    db.session.commit()
    point = _checkpoint(w)
    head = entries(w["org"].id)[-1]
    assert (point.seq, point.entry_hash, point.broken_seq) == (3, head.entry_hash, None)
    assert point.verified_at == AT

    _cash_in(w["org"].id, 500, "test:after")
    db.session.commit()
    row = _row(w)
    assert "books" not in row.flags
    assert (row.chain_check.full_seq, row.chain_check.full_at) == (3, AT)
    assert row.chain_check.tail_checked == 1


def test_an_entry_after_the_checkpoint_altered_raises_the_flag_without_a_full_check(w):
    checkpoints.verify_and_record(w["org"].id, now=AT)
    _cash_in(w["org"].id, 500, "test:after")
    db.session.commit()
    after = entries(w["org"].id)[-1]
    tamper("UPDATE ledger_entries SET description = 'x' WHERE id = :id", id=after.id)
    row = _row(w)
    assert row.flags.get("books") == 1
    assert not row.chain_check.ok
    assert "content does not match its hash" in row.chain_check.message
    assert _checkpoint(w).broken_seq is None  # the dashboard writes nothing


def test_the_checkpoint_entry_rewritten_with_a_new_hash_is_caught(w):
    checkpoints.verify_and_record(w["org"].id, now=AT)
    db.session.commit()
    head = entries(w["org"].id)[-1]
    tamper("UPDATE ledger_entries SET entry_hash = :h WHERE id = :id", h="0" * 64, id=head.id)
    row = _row(w)
    assert row.flags.get("books") == 1
    assert "differs from the entry the last full check passed" in row.chain_check.message


def test_an_entry_before_the_checkpoint_altered_fails_the_full_check_and_the_flag_shows(w):
    checkpoints.verify_and_record(w["org"].id, now=AT)
    db.session.commit()
    second = entries(w["org"].id)[1]
    tamper("UPDATE ledger_entries SET description = 'x' WHERE id = :id", id=second.id)
    # Before: the dashboard re-hashes only the entries after the checkpoint (none).
    assert "books" not in _row(w).flags
    later = AT + timedelta(days=1)
    result = checkpoints.verify_and_record(w["org"].id, now=later)
    db.session.commit()
    assert not result.ok and result.first_bad.seq == 2
    point = _checkpoint(w)
    assert (point.broken_seq, point.verified_at) == (2, later)
    row = _row(w)
    assert row.flags.get("books") == 1
    assert "entry seq 2 broken" in row.chain_check.message


def test_a_reversal_after_the_checkpoint_of_an_entry_before_it_passes(w):
    checkpoints.verify_and_record(w["org"].id, now=AT)
    first = entries(w["org"].id)[0]
    org_id = w["org"].id
    ledger.post(
        org_id,
        date(2026, 11, 21),
        "冲销",
        "test:reverse",
        [
            Line(ledger.account(org_id, "fee_income"), debit_fen=100),
            Line(ledger.account(org_id, "office_cash"), credit_fen=100),
        ],
        reverses=first,
    )
    db.session.commit()
    check = checkpoints.check(org_id)
    assert check.ok and check.tail_checked == 1, check.message


def test_without_a_checkpoint_the_whole_chain_is_checked_as_before(w):
    second = entries(w["org"].id)[1]
    tamper("UPDATE ledger_entries SET description = 'x' WHERE id = :id", id=second.id)
    row = _row(w)
    assert row.flags.get("books") == 1
    assert row.chain_check.full_seq is None


def test_a_fresh_operations_check_stands_in_for_the_dashboards_own(w):
    checkpoints.verify_and_record(w["org"].id, now=AT)
    # An orphan posting: the books disagree with the operations.
    _cash_in(w["org"].id, 700, "payment:999999")
    db.session.commit()
    result = operations.verify_operations(w["org"].id)
    assert not result.ok
    checkpoints.record_operations(result, w["org"].id, now=AT - timedelta(hours=1))
    db.session.commit()
    row = _row(w)
    assert row.flags.get("books") == 1
    assert row.operations_check.at == AT - timedelta(hours=1)
    assert row.operations_check.mismatches == len(result.mismatches)

    # A clean recorded result is believed while fresh …
    checkpoints.record_operations(operations.OperationsResult(), w["org"].id, now=AT)
    db.session.commit()
    assert "books" not in _row(w).flags
    # … and checked again once older than OPERATIONS_FRESH.
    stale = AT - checkpoints.OPERATIONS_FRESH - timedelta(minutes=1)
    checkpoints.record_operations(operations.OperationsResult(), w["org"].id, now=stale)
    db.session.commit()
    row = _row(w)
    assert row.flags.get("books") == 1
    assert row.operations_check.at is None


def test_flask_ledger_verify_records_the_checkpoints(app):
    with app.app_context():
        w = community()
        _cash_in(w["org"].id, 100, "test:cli")
        db.session.commit()
        org_id = w["org"].id
    r = app.test_cli_runner().invoke(args=["ledger", "verify", "--operations"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        point = db.session.get(ChainCheckpoint, org_id)
        assert (point.seq, point.broken_seq, point.operations_mismatches) == (1, None, 0)
        assert point.operations_at is not None
        assert db.session.query(Payment).count() == 0


def test_the_page_says_which_entry_and_time_the_full_check_covers(app, area):  # noqa: F811
    with app.app_context():
        ledger.ensure_chart(db.session.get(Organization, area["org"]))
        _cash_in(area["org"], 100, "test:page")
        db.session.commit()
    app.test_cli_runner().invoke(args=["ledger", "verify", "--operations"])
    with app.app_context():
        point = db.session.get(ChainCheckpoint, area["org"])
        seq, at = point.seq, point.verified_at
    assert seq > 0
    html = _login(app).get(f"/areas/{area['id']}/").get_data(as_text=True)
    when = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    # (Numbers and times only: the words are the catalog's.)
    card = html[html.index(f'id="flags-{area["org"]}"') :]
    hint = card[card.index('class="hint books-check"') :].split("</p>", 1)[0]
    assert f"1–{seq}" in hint and when in hint and " 0 " in hint
    assert hint.count(when) == 2  # the chain's full check and the operations' one


# --- the nightly full check, run by the scheduler's tick ----------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 12, 7, 3, 1, tzinfo=SHANGHAI)  # the first tick after 03:00


def _nightly(lines) -> list[str]:
    return [line for line in lines if "ledger nightly check" in line or "LEDGER" in line]


def _ticked(w, at) -> list[str]:
    lines = ticks.run(at)
    db.session.commit()
    return lines


def test_the_first_tick_of_the_night_runs_both_full_checks_once(w, app):
    assert _checkpoint(w) is None
    lines = _ticked(w, NIGHT)
    assert _nightly(lines) == [line for line in lines if line.startswith("ledger nightly check:")]
    assert len(_nightly(lines)) == 1 and "books match the operations" in lines[-1]
    point = _checkpoint(w)
    assert (point.seq, point.broken_seq, point.operations_mismatches) == (3, None, 0)
    assert point.verified_at == point.operations_at == NIGHT

    # Later ticks of the same night: not due; nor for another process (nothing remembered in
    # this one), which reads that tonight's check is recorded.
    _cash_in(w["org"].id, 500, "test:after")
    db.session.commit()
    for later in (NIGHT + timedelta(minutes=1), NIGHT + timedelta(hours=1, minutes=30)):
        assert _nightly(_ticked(w, later)) == []
    app.extensions.pop(checkpoints._TRIED)
    assert not checkpoints.nightly_due(NIGHT + timedelta(minutes=2), SHANGHAI)
    assert _nightly(_ticked(w, NIGHT + timedelta(minutes=2))) == []
    assert _checkpoint(w).seq == 3 and _checkpoint(w).verified_at == NIGHT

    # The next night it runs again and covers the entry posted since.
    tomorrow = NIGHT + timedelta(days=1)
    assert len(_nightly(_ticked(w, tomorrow))) == 1
    assert (_checkpoint(w).seq, _checkpoint(w).operations_at) == (4, tomorrow)


@pytest.mark.parametrize(
    "local",
    [
        datetime(2026, 12, 7, 2, 59, tzinfo=SHANGHAI),  # not yet night's work
        datetime(2026, 12, 7, 5, 0, tzinfo=SHANGHAI),  # the morning markets are coming
        datetime(2026, 12, 7, 14, 0, tzinfo=SHANGHAI),
        datetime(2026, 12, 7, 19, 30, tzinfo=SHANGHAI),  # the night market trading
    ],
)
def test_no_full_check_by_day_even_when_the_last_one_is_old(w, local):
    checkpoints.verify_and_record(w["org"].id, now=local - timedelta(days=3))
    checkpoints.record_operations(
        operations.OperationsResult(), w["org"].id, now=local - timedelta(days=3)
    )
    db.session.commit()
    assert not checkpoints.nightly_due(local, SHANGHAI)
    assert _nightly(_ticked(w, local)) == []
    assert _checkpoint(w).verified_at == local - timedelta(days=3)
    # The same books at night: due, and run.
    assert len(_nightly(_ticked(w, NIGHT))) == 1
    assert _checkpoint(w).verified_at == NIGHT


def test_what_the_nightly_check_finds_is_logged_and_flagged_on_the_dashboard(w, caplog):
    # Yesterday's full check passed; then an entry it covered was altered, which the
    # dashboard (re-hashing only what follows the checkpoint) cannot see by itself.
    checkpoints.verify_and_record(w["org"].id, now=NIGHT - timedelta(days=1))
    db.session.commit()
    second = entries(w["org"].id)[1]
    tamper("UPDATE ledger_entries SET description = 'x' WHERE id = :id", id=second.id)
    _cash_in(w["org"].id, 700, "payment:999999")  # and a posting without its payment
    db.session.commit()
    morning = NIGHT + timedelta(hours=5)

    def row():
        return dashboard.rows_for(w["area"], NOVEMBER, morning, morning.date())[0]

    assert row().chain_check.ok  # the altered entry lies before the checkpoint

    with caplog.at_level(logging.ERROR, logger="market.services.ledger.checkpoints"):
        lines = _ticked(w, NIGHT)
    assert any(line.startswith("LEDGER BROKEN:") and "seq 2" in line for line in lines)
    assert any(line.startswith("BOOKS DO NOT MATCH THE OPERATIONS") for line in lines)
    assert any("payment:999999" in line for line in lines if line.startswith("MISMATCH"))
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and "nightly ledger check failed" in errors[0].getMessage()
    assert "seq 2" in errors[0].getMessage()

    point = _checkpoint(w)
    assert point.broken_seq == 2 and point.operations_mismatches >= 1
    flagged = row()
    assert flagged.flags.get("books") == 1
    assert "entry seq 2 broken" in flagged.chain_check.message


def test_a_nightly_check_that_raises_is_reported_and_not_retried_every_tick(w, monkeypatch):
    calls = []

    def broken(organization_id=None):
        calls.append(organization_id)
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(operations, "verify_operations", broken)
    assert "ERROR ledger.nightly_check: disk on fire" in _ticked(w, NIGHT)
    assert _checkpoint(w) is None  # rolled back with the job's savepoint
    assert _nightly(_ticked(w, NIGHT + timedelta(minutes=1))) == []
    assert calls == [None]


def test_several_chains_checked_together_each_get_their_own_answer(w):
    """The dashboard checks every community's tail in one go (check_many): a broken tail of
    one must not spill into the others, and each answer is the one check() gives alone."""
    other = community()
    quiet = community()  # checkpointed, nothing after it
    for n in range(2):
        _cash_in(other["org"].id, 200 + n, f"other:{n}")
    checkpoints.verify_and_record(now=AT)
    _cash_in(w["org"].id, 500, "test:after")
    for n in range(2):
        _cash_in(other["org"].id, 300 + n, f"other:after:{n}")
    db.session.commit()
    tamper(
        "UPDATE ledger_entries SET description = 'x' WHERE id = :id",
        id=entries(other["org"].id)[-1].id,
    )
    ids = [w["org"].id, other["org"].id, quiet["org"].id]
    together = checkpoints.check_many(ids)
    assert together[w["org"].id].ok and together[w["org"].id].tail_checked == 1
    assert not together[other["org"].id].ok
    assert "content does not match its hash" in together[other["org"].id].message
    assert together[quiet["org"].id].ok and together[quiet["org"].id].tail_checked == 0
    assert together == {org: checkpoints.check(org) for org in ids}


def test_balances_from_the_checkpoint_plus_its_tail_are_the_whole_chains(w):
    """The overdrawn flag reads the balances the full check took plus the entries after it:
    they must equal the sums over every line, with or without a checkpoint."""
    from market.services.ledger import accounts

    org_id = w["org"].id
    plain = community()  # never checked: summed in full
    _cash_in(plain["org"].id, 700, "plain:0")
    checkpoints.verify_and_record(org_id, now=AT)
    point = _checkpoint(w)
    assert point.balances is not None
    assert "overdrawn" not in _row(w).flags
    ledger.post(  # after the check: more cash out of the office than ever came in
        org_id,
        date(2026, 11, 21),
        "退款",
        "test:refund",
        [
            Line(ledger.account(org_id, "fee_income"), debit_fen=10_000),
            Line(ledger.account(org_id, "office_cash"), credit_fen=10_000),
        ],
    )
    db.session.commit()
    got = checkpoints.balances_after([org_id, plain["org"].id])
    for org in (org_id, plain["org"].id):
        kinds = {a.id: a.kind for a in accounts.accounts_of(org)}
        whole = {
            a: (n if kinds[a] in accounts.DEBIT_KINDS else -n) for a, n in got[org].items() if n
        }
        assert whole == {a: n for a, n in accounts.balances(org).items() if n}
    assert _row(w).flags.get("overdrawn") == 1
    # A broken chain's checkpoint keeps no balances: the page sums the lines itself again.
    tamper(
        "UPDATE ledger_entries SET description = 'x' WHERE seq = 1 AND organization_id = :o",
        o=org_id,
    )
    checkpoints.verify_and_record(org_id, now=AT)
    assert _checkpoint(w).balances is None
    assert _row(w).flags.get("overdrawn") == 1
