"""Amounts as people type them on a phone: one parser for every money form."""

import pytest

from market.services.common.errors import InvalidInput
from market.services.common.money import parse_yuan


@pytest.mark.parametrize(
    "text",
    ["13", "13元", "13块", "13块钱", "13元整", "¥13", "￥13", "13.0", "13.00", " 13 ", "13 元",
     "¥ 13", "１３元", "13.", "RMB 13"],
)  # fmt: skip
def test_the_ways_of_writing_thirteen_yuan(text):
    assert parse_yuan(text) == 1300


@pytest.mark.parametrize(
    ("text", "fen"), [("13块5", 1350), ("13元5角", 1350), ("¥13.5", 1350), ("0.01", 1)]
)
def test_jiao_and_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("-13", "cannot be negative"),
        ("-13元", "cannot be negative"),
        ("¥-13", "cannot be negative"),
        ("-¥13", "cannot be negative"),
        ("13.001", "at most two decimals"),
        ("13.005元", "at most two decimals"),
        ("99999999", "too large"),
        ("99999999999999999999元", "too large"),
        ("abc", "e.g. 15 or 15.50"),
        ("", "e.g. 15 or 15.50"),
        ("元", "e.g. 15 or 15.50"),
        ("1e3", "e.g. 15 or 15.50"),
        ("13,00", "e.g. 15 or 15.50"),
        ("13块55", "e.g. 15 or 15.50"),
        ("十三", "e.g. 15 or 15.50"),
    ],
)
def test_refused_with_a_message_saying_why(text, says):
    with pytest.raises(InvalidInput) as refused:
        parse_yuan(text, field="pay-amount")
    assert says in str(refused.value.message)
    assert refused.value.code == "invalid_amount" and refused.value.field == "pay-amount"
