"""Why a session last changed: a short code stored in `MarketSession.change_note` (and in the
`note` of its audit events), and the words people read for it.

Audit events written before the codes hold English phrases ("opened early", …): they still
read correctly. Sessions of that time were given the codes by migration 0008; a note that is
none of these (a cadre's own words) is shown as it is."""

from flask_babel import lazy_gettext as _l

OPENED_EARLY = "opened_early"
OPENED_BY_HAND = "opened_by_hand"
CLOSED_EARLY = "closed_early"
CANCELLED = "cancelled"
CLOSURE = "closure"
CLOSURE_LIFTED = "closure_lifted"
EXTENDED = "extended"
REINSTATED = "reinstated"
REOPENED = "reopened"

LABELS = {
    OPENED_EARLY: _l("opened early"),
    OPENED_BY_HAND: _l("opened by hand"),
    CLOSED_EARLY: _l("closed early"),
    CANCELLED: _l("cancelled by hand"),
    CLOSURE: _l("cancelled by a closure"),
    CLOSURE_LIFTED: _l("closure lifted"),
    EXTENDED: _l("extended"),
    REINSTATED: _l("reinstated"),
    REOPENED: _l("reopened"),
}
# What the rows said before the codes.
LEGACY = {
    "opened early": OPENED_EARLY,
    "opened by hand": OPENED_BY_HAND,
    "closed early": CLOSED_EARLY,
    "closure lifted": CLOSURE_LIFTED,
}


def note_label(note: str | None) -> str | None:
    """The note as people read it: a code's label, else the stored text (a cadre's reason)."""
    if not note:
        return None
    label = LABELS.get(LEGACY.get(note, note))
    return str(label) if label is not None else note


def scheduler_changed(session) -> bool:
    """Whether the scheduler, not a person, made the last change: it opened or ended the
    session on its own. A session nobody touched yet was changed by no one."""
    return session.changed_by_id is None and (
        session.opened_at is not None or session.closed_at is not None
    )
