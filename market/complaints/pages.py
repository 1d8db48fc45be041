"""Rendering the stall card: shared by /s/<token> (everyone not acting as a vendor) and
/s/<token>/card (the link a vendor gets from the check-in page)."""

from flask import render_template

from ..models import Stall
from ..services.checkin import stall_card
from ..services.common.clock import now


def card_page(stall: Stall, status: int = 200):
    card = stall_card.card_for(stall, now())
    return render_template(
        "complaints/card.html", card=card, stall=stall, market=stall.market
    ), status
