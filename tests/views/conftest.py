"""Fixtures the page tests share."""

import pytest
from sqlalchemy import select

from bench.data import rush
from market.extensions import db
from market.models import Stall
from market.services.common.clock import FixedClock, now


@pytest.fixture
def evening(demo_app):
    """The demo market with a session open now (via the load-test helper's session); the
    stalls' poster tokens by code. Modules with an evening of their own define it locally."""
    demo_app.config["CLOCK"] = FixedClock(now())
    with demo_app.app_context():
        rush.prepare(stalls=40, vendors=0)
        db.session.commit()
        return dict(db.session.execute(select(Stall.code, Stall.qr_token)).all())
