"""A stall in a round not yet drawn cannot be sold as a monthly pass for the round's period:
the draw decides who holds it (once drawn, the winners' passes hold it)."""

from datetime import date

import pytest

from market.services.common.errors import Conflict
from market.services.fees import rules as fees
from tests.services.draws.test_rounds import new_round, place, vendor  # noqa: F401


def test_a_pass_on_a_stall_promised_by_a_round_is_refused(place):  # noqa: F811
    new_round(place, stall_codes=["C-01"], months=3)  # December to February
    seller = vendor(place)
    c01, c02 = place["stalls"][0], place["stalls"][1]
    for month in (date(2026, 12, 1), date(2027, 2, 1)):
        with pytest.raises(Conflict) as refused:
            fees.add_pass(place["market"], c01.id, seller.id, month, 30000, actor=place["cadre"])
        assert refused.value.code == "stall_in_draw"
    # After the round's period, and on a stall outside it, passes sell as before.
    fees.add_pass(place["market"], c01.id, seller.id, date(2027, 3, 1), 30000, actor=place["cadre"])
    fees.add_pass(
        place["market"], c02.id, seller.id, date(2026, 12, 1), 30000, actor=place["cadre"]
    )
