"""verify's fast path: the database builds each entry's canonical text, and it must be byte
for byte what canonical_bytes() makes (the writer's side), on SQLite and on PostgreSQL; and
whatever is altered behind the application's back, verify answers exactly as the reference
(every row read and hashed in Python) does."""

from datetime import date
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from market.extensions import db
from market.models import LedgerEntry, LedgerLine
from market.services.ledger import chain
from market.services.ledger import entries as ledger
from market.services.ledger.chain import canonical_bytes
from market.services.ledger.entries import Line
from tests import builders as b
from tests.ledger_helpers import community, entries, tamper

AWKWARD = [
    "",
    '"',
    "\\",
    '\\"',
    "\\u0041",
    "\n",
    "\r\n",
    "\t",
    "\b\f",
    "\x01\x1f",
    "\x7f",
    "\u2028\u2029",
    "\u00e9",
    "现金收摊位费 A-01 #1",
    "😀",
    "𝄞 tail",
    "\ufeff",
    "\ud7ff\ue000\uffff",
    "</script>",
    "'",
    "a,b]",
    " ",
]
# Any character PostgreSQL text can hold (no NUL, no lone surrogates), the awkward ones often.
TEXT = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12),
    st.lists(st.sampled_from(AWKWARD), max_size=4).map("".join),
)
MEMO = st.one_of(st.none(), TEXT)
_keys = count()


def _lines(org_id, debits, credits):
    """Lines on a few accounts; amounts and memos repeat so the sort must break ties on
    later fields, down to the memo."""
    accounts = [ledger.account(org_id, k) for k in ("office_cash", "bank", "fee_income")]
    lines = [Line(accounts[a], debit_fen=fen, memo=m) for a, fen, m in debits]
    total = sum(fen for _a, fen, _m in debits)
    credits = credits[:total]  # each credit at least 1 fen
    for i, (a, m) in enumerate(credits):
        fen = total - (len(credits) - 1) if i == 0 else 1
        lines.append(Line(accounts[a], credit_fen=fen, memo=m))
    return lines


LINE_DEBITS = st.lists(
    st.tuples(st.integers(0, 2), st.sampled_from([1, 5, 100, 10**8]), MEMO),
    min_size=1,
    max_size=4,
)
LINE_CREDITS = st.lists(st.tuples(st.integers(0, 2), MEMO), min_size=1, max_size=3)


def _canonical_from_orm(entry: LedgerEntry) -> bytes:
    lines = db.session.execute(
        select(
            LedgerLine.account_id, LedgerLine.debit_fen, LedgerLine.credit_fen, LedgerLine.memo
        ).where(LedgerLine.entry_id == entry.id)
    ).all()
    return canonical_bytes(
        entry.organization_id,
        entry.seq,
        entry.entry_date,
        entry.description,
        entry.source_key,
        entry.reverses_id,
        entry.prev_hash,
        [tuple(r) for r in lines],
    )


@pytest.fixture
def w(ctx):
    return community()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    description=TEXT,
    source_key=TEXT,
    debits=LINE_DEBITS,
    credits=LINE_CREDITS,
    reverse=st.booleans(),
)
def test_the_database_builds_the_same_canonical_bytes(
    w, description, source_key, debits, credits, reverse
):
    org_id = w["org"].id
    key = f"{source_key}:{next(_keys)}"[-80:]
    lines = _lines(org_id, debits, credits)
    entry = ledger.post(org_id, date(2026, 11, 20), description, key, lines)
    if reverse:
        back = [Line(ln.account, debit_fen=ln.credit_fen, credit_fen=ln.debit_fen) for ln in lines]
        ledger.post(
            org_id, date(2026, 11, 21), "冲销 " + description, key + ":r", back, reverses=entry
        )
    db.session.flush()
    built = chain.canonical_texts_sql(org_id)
    for e in entries(org_id):
        assert built[e.id] == _canonical_from_orm(e), (e.description, e.source_key)
    # The whole fast path clears the chain: no entry left for the exact path.
    n = len(built)
    assert list(chain._chains(org_id)) == [(org_id, n, False)]
    assert ledger.verify(org_id) == chain._verify_exactly(org_id)


def test_lines_are_ordered_by_account_then_amounts_then_memo_by_code_point(w):
    """Memos that sort differently by code point, by UTF-16 and by a language's collation
    (on PostgreSQL the column is given one, when ICU is there: the SQL must not follow it)."""
    org_id = w["org"].id
    if db.session.get_bind().dialect.name == "postgresql" and db.session.scalar(
        text("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'")
    ):
        db.session.execute(
            text('ALTER TABLE ledger_lines ALTER COLUMN memo TYPE varchar(200) COLLATE "und-x-icu"')
        )
    cash = ledger.account(org_id, "office_cash")
    income = ledger.account(org_id, "fee_income")
    memos = ["b", "B", "a", "é", "e", "😀", "\uffff", "中", "", None, "a\x01", "a "]
    lines = [Line(cash, debit_fen=5, memo=m) for m in memos]
    lines.append(Line(income, credit_fen=5 * len(memos), memo="z"))
    entry = ledger.post(org_id, date(2026, 11, 20), "排序", "sort:1", lines)
    db.session.flush()
    assert chain.canonical_texts_sql(org_id)[entry.id] == _canonical_from_orm(entry)
    assert ledger.verify(org_id).ok


def test_sqlite_keeps_a_nul_character_in_the_text(sqlite_app):
    """SQLite text may hold NUL (PostgreSQL's cannot, so this one is SQLite's alone)."""
    with sqlite_app.app_context():
        org_id = community()["org"].id
        lines = _lines(org_id, [(0, 5, "a\x00b")], [(2, "\x00")])
        entry = ledger.post(org_id, date(2026, 11, 20), "nul\x00here", "nul:1", lines)
        db.session.flush()
        assert chain.canonical_texts_sql(org_id)[entry.id] == _canonical_from_orm(entry)
        assert list(chain._chains(org_id)) == [(org_id, 1, False)]
        db.session.rollback()


def _cash_in(org_id, fen, key, memo=None):
    return ledger.post(
        org_id,
        date(2026, 11, 20),
        "测试",
        key,
        [
            Line(ledger.account(org_id, "office_cash"), debit_fen=fen, memo=memo),
            Line(ledger.account(org_id, "fee_income"), credit_fen=fen, memo=memo),
        ],
    )


ALTERATIONS = [
    ("UPDATE ledger_lines SET memo = 'x' WHERE id = :line", "content does not match its hash"),
    ("UPDATE ledger_lines SET account_id = :foreign WHERE id = :line", "of another organization"),
    ("UPDATE ledger_lines SET entry_id = :other WHERE id = :line", "differ"),
    ("UPDATE ledger_lines SET debit_fen = 0, credit_fen = 7 WHERE id = :line", "differ"),
    ("UPDATE ledger_lines SET debit_fen = 0.5 WHERE id = :debit", "differ"),
    ("UPDATE ledger_entries SET seq = seq + 10 WHERE id = :target", "sequence jumps"),
    ("UPDATE ledger_entries SET prev_hash = :hash WHERE id = :target", "previous hash"),
    ("UPDATE ledger_entries SET prev_hash = NULL WHERE id = :target", "previous hash"),
    ("UPDATE ledger_entries SET reverses_id = :later WHERE id = :target", "reverses an entry"),
    ("UPDATE ledger_entries SET entry_date = '2026-11-01' WHERE id = :target", "hash"),
    ("UPDATE ledger_entries SET source_key = 'k\"' WHERE id = :target", "hash"),
    ("UPDATE ledger_entries SET entry_hash = :hash WHERE id = :target", "hash"),
]


@pytest.mark.parametrize(("sql", "reason"), ALTERATIONS)
def test_any_altered_row_is_named_as_the_reference_names_it(w, sql, reason):
    """Two organizations; a row of the second one's chain altered: verify names the same
    first bad entry, reason and counts as the reference."""
    first = w["org"].id
    for i in range(3):
        _cash_in(first, 100 + i, f"a:{i}")
    other = b.org()
    ledger.ensure_chart(other)
    chain_ = [_cash_in(other.id, 100 * i, f"b:{i}", memo=f"备注{i}") for i in (1, 2, 3, 4)]
    target = chain_[1]
    params = {
        "line": target.lines[0].id,
        "debit": next(ln.id for ln in target.lines if ln.debit_fen),
        "target": target.id,
        "other": chain_[0].id,
        "later": chain_[3].id,
        "foreign": ledger.account(first, "office_cash").id,
        "hash": "e" * 64,
    }
    assert ledger.verify().ok
    tamper(sql, **{k: v for k, v in params.items() if f":{k}" in sql})
    result = ledger.verify()
    assert not result.ok and reason in result.first_bad.reason
    assert result == chain._verify_exactly()
    assert result.first_bad.organization_id == other.id
    assert result.entries_checked >= 3 and result.organizations == 2
    assert ledger.verify(other.id) == chain._verify_exactly(other.id)
    assert ledger.verify(first).ok and ledger.verify(first).entries_checked == 3


def test_an_entry_without_lines_is_named(w):
    org_id = w["org"].id
    entries_ = [_cash_in(org_id, 100 * i, f"t:{i}") for i in (1, 2)]
    tamper(
        "UPDATE ledger_lines SET entry_id = :e WHERE entry_id = :src",
        e=entries_[1].id,
        src=entries_[0].id,
    )
    result = ledger.verify()
    assert result == chain._verify_exactly()
    assert result.first_bad.entry_id == entries_[0].id
    assert result.first_bad.reason == "entry has no lines"


def test_a_bad_entry_in_the_first_of_two_chains_is_named(w):
    first = w["org"].id
    chain_ = [_cash_in(first, 100 * i, f"a:{i}") for i in (1, 2, 3)]
    other = b.org()
    ledger.ensure_chart(other)
    for i in range(2):
        _cash_in(other.id, 100 + i, f"b:{i}")
    tamper("UPDATE ledger_entries SET description = 'x' WHERE id = :id", id=chain_[2].id)
    result = ledger.verify()
    assert result == chain._verify_exactly()
    assert (result.first_bad.entry_id, result.entries_checked, result.organizations) == (
        chain_[2].id,
        2,
        1,
    )
    assert ledger.verify(other.id).ok
