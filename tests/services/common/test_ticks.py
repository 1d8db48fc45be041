"""The tick's other jobs: run after the sessions, each in its savepoint; a failing one is
reported and rolled back while the others' work stays."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from market.extensions import db
from market.models import Area
from market.services.common import ticks

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_a_failing_job_is_reported_and_the_others_keep_their_work(ctx, monkeypatch):
    monkeypatch.setattr(ticks, "_JOBS", [])

    @ticks.register("makes an area")
    def good(now):
        db.session.add(Area(name=f"街道 {now:%H%M}"))
        return ["made one"]

    @ticks.register("breaks")
    def bad(now):
        db.session.add(Area(name="半途"))
        db.session.flush()
        raise RuntimeError("disk on fire")

    ticks.register("makes an area")(good)  # twice: still one job
    lines = ticks.run(NOW)
    assert lines == ["made one", "ERROR breaks: disk on fire"]
    names = db.session.scalars(select(Area.name)).all()
    assert names == ["街道 1000"]  # the failing job's half-done row is gone
    assert db.session.scalar(select(func.count()).select_from(Area)) == 1
