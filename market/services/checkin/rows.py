"""The three rows of a lean check-in: the check-in, its charge and the audit event.

On SQLite they are three INSERTs on one local file. On PostgreSQL each statement is a round
trip to the server, so the three go as one data-modifying CTE: the check-in's INSERT … ON
CONFLICT DO NOTHING RETURNING id feeds the other two, which therefore insert nothing when a
unique index gave the stall (or the vendor's evening) to another phone first."""

from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ...extensions import db
from ...models import AuditEvent, Charge, CheckIn
from ..common import audit, inserts

_CHECKINS, _CHARGES, _AUDIT = CheckIn.__table__, Charge.__table__, AuditEvent.__table__


def write(checkin: dict, charge: dict, event: dict) -> int | None:
    """Insert the rows (the charge's and the event's id of the check-in filled in); the new
    check-in's id, or None when a unique index refused it and nothing was written."""
    if db.session.get_bind().dialect.name == "postgresql":
        params = {f"c_{k}": v for k, v in checkin.items()}
        params |= {f"ch_{k}": v for k, v in charge.items()}
        params |= {f"a_{k}": v for k, v in event.items()}
        statement = _together(tuple(checkin), tuple(charge), tuple(event))
        return db.session.execute(statement, params).scalar()
    checkin_id = db.session.execute(inserts.or_nothing(_CHECKINS, returning="id"), checkin).scalar()
    if checkin_id is not None:
        db.session.execute(_INSERT_CHARGE, {**charge, "checkin_id": checkin_id})
        db.session.execute(audit.INSERT, {**event, "object_id": checkin_id})
    return checkin_id


_INSERT_CHARGE = _CHARGES.insert()


def _bound(table, prefix: str, columns: tuple[str, ...]) -> list:
    return [bindparam(f"{prefix}_{c}", type_=table.c[c].type) for c in columns]


@cache  # built once per set of columns, as the statement cache would otherwise key it anew
def _together(checkin: tuple[str, ...], charge: tuple[str, ...], event: tuple[str, ...]):
    new = (
        pg_insert(_CHECKINS)
        .values(dict(zip(checkin, _bound(_CHECKINS, "c", checkin), strict=True)))
        .on_conflict_do_nothing()
        .returning(_CHECKINS.c.id)
        .cte("new_checkin")
    )
    its_charge = (
        _CHARGES.insert()
        .from_select(["checkin_id", *charge], select(new.c.id, *_bound(_CHARGES, "ch", charge)))
        .cte("its_charge")
    )
    its_event = (
        _AUDIT.insert()
        .from_select(["object_id", *event], select(new.c.id, *_bound(_AUDIT, "a", event)))
        .cte("its_event")
    )
    # PostgreSQL runs every data-modifying CTE, but SQLAlchemy renders only the ones the
    # statement names: add_cte names the two the final SELECT doesn't read.
    return select(new.c.id).add_cte(its_charge, its_event)
