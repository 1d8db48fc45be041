"""The ledger's core: the chart, balanced postings, the hash chain, verify, append-only."""

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from market.extensions import db
from market.models import (
    AppendOnlyError,
    AuditEvent,
    LedgerAccount,
    LedgerEntry,
    LedgerLine,
    MonthClose,
)
from market.services.common import audit
from market.services.common.errors import Conflict, InvalidInput
from market.services.common.money import MAX_FEN
from market.services.ledger import entries as ledger
from market.services.ledger.chain import canonical_bytes
from market.services.ledger.entries import Line
from tests import builders as b
from tests.ledger_helpers import NOW, community, count_entries, count_lines, tamper


@pytest.fixture
def w(ctx):
    return community()


def cash_in(w, fen, key):
    org_id = w["org"].id
    return ledger.post(
        org_id,
        date(2026, 11, 20),
        "测试",
        key,
        [
            Line(ledger.account(org_id, "office_cash"), debit_fen=fen),
            Line(ledger.account(org_id, "fee_income"), credit_fen=fen),
        ],
    )


def test_chart_is_created_once_with_every_system_account(w):
    org = w["org"]
    assert ledger.ensure_chart(org) is False
    keys = {a.key for a in ledger.accounts_of(org.id)}
    for key in (
        "office_cash",
        "collection_code",
        "bank",
        "receivables",
        "fee_income",
        "fee_relief",
        "wages",
        "cleaning",
        "electricity",
        "barriers",
        "governance_fund",
        "distributable",
        "over_short",
    ):
        assert key in keys
    guide_cash = ledger.guide_cash_account(org.id, w["guide"])
    assert guide_cash.guide_user_id == w["guide"].id and guide_cash.kind == "asset"
    assert ledger.guide_cash_account(org.id, w["guide"]).id == guide_cash.id


def test_entries_chain_with_contiguous_seq_and_linked_hashes(w):
    first, second, third = (cash_in(w, 100 * i, f"t:{i}") for i in (1, 2, 3))
    assert [e.seq for e in (first, second, third)] == [1, 2, 3]
    assert first.prev_hash is None
    assert second.prev_hash == first.entry_hash and third.prev_hash == second.entry_hash
    head = ledger.chain_head(w["org"].id)
    assert (head.seq, head.entry_hash) == (3, third.entry_hash)
    result = ledger.verify()
    assert result.ok and result.entries_checked == 3 and result.first_bad is None


def test_the_same_source_posts_once(w):
    assert cash_in(w, 100, "t:1").id == cash_in(w, 100, "t:1").id
    assert count_entries() == 1


def test_hash_covers_every_field_of_the_content():
    base = (1, 2, date(2026, 11, 1), "d", "k", None, None, [(1, 5, 0, None), (2, 0, 5, "m")])
    same = canonical_bytes(*base[:7], list(reversed(base[7])))
    assert canonical_bytes(*base) == same  # line order does not matter
    for i, other in enumerate((2, 3, date(2026, 11, 2), "e", "x", 9, "0" * 64)):
        changed = list(base)
        changed[i] = other
        assert canonical_bytes(*changed) != canonical_bytes(*base)
    assert canonical_bytes(*base[:7], [(1, 6, 0, None), (2, 0, 5, "m")]) != same


@pytest.mark.parametrize(
    ("debit", "credit", "code"),
    [
        (100, 90, "unbalanced"),
        (-100, -100, "negative_amount"),
        (1.5, 1.5, "invalid_amount"),
        (0, 0, "invalid_amount"),
    ],
)
def test_bad_entries_are_refused_and_nothing_is_written(w, debit, credit, code):
    org_id = w["org"].id
    with pytest.raises(InvalidInput) as e:
        ledger.post(
            org_id,
            date(2026, 11, 20),
            "bad",
            "bad:1",
            [
                Line(ledger.account(org_id, "office_cash"), debit_fen=debit),
                Line(ledger.account(org_id, "fee_income"), credit_fen=credit),
            ],
        )
    assert e.value.code == code and e.value.status == 422
    assert count_entries() == 0 and count_lines() == 0


def test_a_line_on_another_organizations_account_is_refused(w):
    other = b.org()
    ledger.ensure_chart(other)
    with pytest.raises(InvalidInput) as e:
        ledger.post(
            w["org"].id,
            date(2026, 11, 20),
            "bad",
            "bad:1",
            [
                Line(ledger.account(w["org"].id, "office_cash"), debit_fen=5),
                Line(ledger.account(other.id, "fee_income"), credit_fen=5),
            ],
        )
    assert e.value.code == "foreign_account" and count_entries() == 0


def test_no_entry_dated_in_a_closed_month(w):
    db.session.add(
        MonthClose(
            organization_id=w["org"].id,
            month=date(2026, 10, 1),
            fee_income_fen=0,
            relief_fen=0,
            expenses_fen=0,
            net_income_fen=0,
            governance_pct=40,
            governance_fund_fen=0,
            distributable_fen=0,
            closed_by_id=w["cadre"].id,
        )
    )
    org_id = w["org"].id
    with pytest.raises(InvalidInput) as e:
        ledger.post(
            org_id,
            date(2026, 10, 31),
            "late",
            "late:1",
            [
                Line(ledger.account(org_id, "office_cash"), debit_fen=5),
                Line(ledger.account(org_id, "fee_income"), credit_fen=5),
            ],
        )
    assert e.value.code == "period_closed" and "2026-10" in str(e.value.message)
    assert count_entries() == 0


def test_verify_names_an_entry_whose_line_was_altered_in_the_database(w):
    entries_ = [cash_in(w, 100 * i, f"t:{i}") for i in (1, 2, 3)]
    target = entries_[1]
    line_id = target.lines[0].id
    tamper("UPDATE ledger_lines SET debit_fen = debit_fen + 100 WHERE id = :id", id=line_id)
    result = ledger.verify()
    assert not result.ok
    bad = result.first_bad
    assert (bad.organization_id, bad.seq, bad.entry_id) == (w["org"].id, 2, target.id)
    assert f"id {target.id}" in result.message and "seq 2" in result.message


def test_verify_names_an_entry_whose_description_was_altered(w):
    entries_ = [cash_in(w, 100 * i, f"t:{i}") for i in (1, 2, 3)]
    tamper("UPDATE ledger_entries SET description = 'x' WHERE id = :id", id=entries_[2].id)
    result = ledger.verify(w["org"].id)
    assert not result.ok and result.first_bad.entry_id == entries_[2].id
    assert "hash" in result.first_bad.reason


def test_verify_finds_a_rewritten_hash_through_the_next_link(w):
    entries_ = [cash_in(w, 100 * i, f"t:{i}") for i in (1, 2, 3)]
    tamper(
        "UPDATE ledger_entries SET entry_hash = :h WHERE id = :id", h="f" * 64, id=entries_[0].id
    )
    result = ledger.verify()
    assert not result.ok and result.first_bad.seq == 1


def test_orm_refuses_to_change_or_delete_ledger_rows_and_audit_events(w):
    entry = cash_in(w, 100, "t:1")
    audit.record("test.event", entry, organization_id=w["org"].id)
    db.session.commit()
    models = (LedgerEntry, LedgerLine, AuditEvent)
    for model in models:
        obj = db.session.scalars(select(model)).first()
        db.session.delete(obj)
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
    entry = db.session.scalars(select(LedgerEntry)).one()
    entry.description = "changed"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(LedgerEntry)).one().description == "测试"
    assert count_lines() == 2


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE ledger_entries SET description = 'x'",
        "DELETE FROM ledger_entries",
        "UPDATE ledger_lines SET debit_fen = debit_fen",
        "DELETE FROM ledger_lines",
        "UPDATE audit_events SET action = 'x'",
        "DELETE FROM audit_events",
    ],
)
def test_database_triggers_refuse_update_and_delete(w, sql):
    cash_in(w, 100, "t:1")
    audit.record("test.event", None, organization_id=w["org"].id)
    db.session.commit()
    with pytest.raises(DBAPIError) as e:
        db.session.execute(text(sql))
        db.session.flush()
    assert "append-only" in str(e.value)
    db.session.rollback()
    assert db.session.scalar(select(AuditEvent.id).limit(1)) is not None


def test_a_line_slipped_in_is_refused_at_commit_or_named_by_verify(w):
    """PostgreSQL refuses an unbalanced entry at commit (a deferred constraint trigger);
    SQLite has no deferred triggers, so there the row lands and verify names the entry."""
    entry = cash_in(w, 100, "t:1")
    db.session.commit()
    db.session.execute(
        text(
            "INSERT INTO ledger_lines (entry_id, account_id, debit_fen, credit_fen) "
            "VALUES (:e, :a, 50, 0)"
        ),
        {"e": entry.id, "a": ledger.account(w["org"].id, "bank").id},
    )
    if db.session.get_bind().dialect.name == "postgresql":
        with pytest.raises(DBAPIError) as e:
            db.session.commit()
        assert "does not balance" in str(e.value)
        db.session.rollback()
        assert ledger.verify(w["org"].id).ok
    else:
        db.session.commit()
        result = ledger.verify(w["org"].id)
        assert not result.ok and result.first_bad.entry_id == entry.id
        assert result.first_bad.reason == "debits 150 and credits 100 differ"


def test_cadres_add_accounts_but_not_over_system_codes(w):
    acc = ledger.add_account(w["org"], "5101", "垃圾清运费", "expense", w["cadre"])
    assert acc.kind == "expense" and ledger.account_used(acc) is False
    with pytest.raises(Conflict):
        ledger.add_account(w["org"], "5101", "重复", "expense", w["cadre"])
    with pytest.raises(InvalidInput) as e:
        ledger.add_account(w["org"], "4001", "冒名", "income", w["cadre"])
    assert e.value.code == "reserved_code"
    with pytest.raises(InvalidInput):
        ledger.add_account(w["org"], "5102", "x", "nonsense", w["cadre"])
    with pytest.raises(InvalidInput) as e:
        ledger.add_account(w["org"], "5102", "x", "", w["cadre"])  # the form's "Choose…"
    assert e.value.code == "invalid_kind"
    for bad in ("-5", "５１０３", "五一", "51 03", "x" * 17):
        with pytest.raises(InvalidInput) as e:
            ledger.add_account(w["org"], bad, "宣传费", "expense", w["cadre"])
        assert e.value.code == "invalid_code", bad
    assert ledger.add_account(w["org"], "E-01", "宣传费", "expense", w["cadre"]).code == "E-01"
    ledger.set_account_active(acc, False, w["cadre"])
    assert db.session.get(LedgerAccount, acc.id).is_active is False
    with pytest.raises(Conflict):
        ledger.set_account_active(ledger.account(w["org"].id, "bank"), False, w["cadre"])


def test_verify_cached_recomputes_when_the_chain_grows_or_the_result_is_old(w):
    cash_in(w, 100, "t:1")
    first = ledger.verify_cached(w["org"].id)
    assert first.ok and first.entries_checked == 1
    cash_in(w, 100, "t:2")
    assert ledger.verify_cached(w["org"].id).entries_checked == 2
    tamper("UPDATE ledger_entries SET description = 'x' WHERE seq = 1")
    assert not ledger.verify_cached(w["org"].id, max_age_s=0).ok


def _manual(w, day, debit, credit=None):
    org_id = w["org"].id
    lines = [
        {"account_id": ledger.account(org_id, "bank").id, "debit_fen": debit},
        {"account_id": ledger.account(org_id, "office_cash").id, "credit_fen": credit or debit},
    ]
    return ledger.post_manual(w["org"], w["cadre"], day, "存入银行", lines, at=NOW)


@pytest.mark.parametrize(
    ("day", "debit", "code"),
    [
        (date(1999, 12, 31), 100, "date_too_old"),
        (date(2025, 11, 21), 100, "date_too_old"),  # a year and a day back
        (date(2026, 11, 24), 100, "future_date"),
        (date(2026, 11, 20), MAX_FEN + 1, "amount_too_large"),
        (date(2026, 11, 20), 2**63, "amount_too_large"),
    ],
)
def test_a_cadres_entry_keeps_to_the_window_and_the_limit(w, day, debit, code):
    with pytest.raises(InvalidInput) as e:
        _manual(w, day, debit)
    assert e.value.code == code
    assert count_entries() == 0


def test_a_cadres_entry_at_the_edges_is_accepted(w):
    assert _manual(w, date(2025, 11, 23), MAX_FEN).seq == 1
    assert ledger.verify().ok
