"""Chain checkpoints: a full check leaves how far it got, the street office's dashboard
re-hashes only the entries after it, a full check that fails keeps the flag raised, and the
books-against-operations result of a full check stands in for the dashboard's own while fresh."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from market.extensions import db
from market.models import ChainCheckpoint, Organization, Payment
from market.services.areas import dashboard, membership
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
