"""Money is integer fen everywhere; yuan only when shown to people."""

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

# The largest amount one line, payment, expense or hand-over may carry: ¥10,000,000. Far above
# a community market's scale (a year's fees are a few hundred thousand yuan), far below what
# the 32-bit integer columns hold (2,147,483,647 fen), so sums of lines stay exact.
MAX_FEN = 1_000_000_000


def amount(fen: int) -> str:
    """15.00 from 1500: integer arithmetic, for text that says "yuan" itself."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def yuan(fen: int) -> str:
    """¥15.00 from 1500."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{amount(abs(fen))}"


TOO_LARGE = _l("The amount is too large: at most %(max)s.", max=yuan(MAX_FEN))

MAX_YUAN_DIGITS = 7  # up to 9,999,999.99 yuan, within MAX_FEN
YUAN_RE = re.compile(rf"\d{{1,{MAX_YUAN_DIGITS}}}(\.\d{{1,2}})?")
assert 10**MAX_YUAN_DIGITS * 100 <= MAX_FEN  # noqa: S101  (a form can't exceed the limit)
NUMBER_RE = re.compile(r"(-?)(\d*)(?:\.(\d*))?")


def _amount_error(text: str):
    """What is wrong with an amount the pattern refused, in the words that fit."""
    match = NUMBER_RE.fullmatch(text)
    if match is None or not (match.group(2) or match.group(3)):
        return _l("Enter an amount in yuan, e.g. 15 or 15.50.")
    sign, whole, decimals = match.groups()
    if sign:
        return _l("The amount cannot be negative.")
    if len(whole.lstrip("0")) > MAX_YUAN_DIGITS:
        return _l("The amount is too large: at most 9999999.99 yuan.")
    if decimals is not None and len(decimals) > 2:
        return _l("Give the amount with at most two decimals, e.g. 15.50.")
    return _l("Enter an amount in yuan, e.g. 15 or 15.50.")


# What people type around a number on a phone: a currency sign before it, a unit after it
# ("13元", "13块", "13块钱", "13元整"). NFKC has already made "￥" "¥" and "１３" "13".
CURRENCY_RE = re.compile(r"^(-?)\s*(?:¥|RMB)\s*", re.IGNORECASE)
UNIT_RE = re.compile(r"\s*(?:元整?|块钱?|圆|yuan|rmb)$", re.IGNORECASE)
JIAO_RE = re.compile(r"(-?\d+)\s*[元块]\s*(\d)\s*[角毛]?")  # "13块5" is ¥13.50, as it is said


def _bare_number(text: str) -> str:
    """'￥13', ' 13 块 ', '１３元' → '13'; a minus sign stays, so that it is refused as such."""
    text = unicodedata.normalize("NFKC", text or "").strip().replace("−", "-")
    text = CURRENCY_RE.sub(r"\1", text)
    if jiao := JIAO_RE.fullmatch(text):
        text = f"{jiao[1]}.{jiao[2]}"
    text = UNIT_RE.sub("", text).strip()
    return text.removesuffix(".") if re.fullmatch(r"-?\d+\.", text) else text


def parse_yuan(text: str, field: str = "amount") -> int:
    """An amount in yuan as people type it → fen, never a float: '15', '15.50', '¥15', '￥15',
    '15元', '15块', '15块5' (¥15.50), ' 15 ' (at most 2 decimals). Negatives, more decimals,
    anything else and more than MAX_YUAN_DIGITS digits are refused with a message saying which."""
    text = _bare_number(text)
    if not YUAN_RE.fullmatch(text):
        raise InvalidInput(_amount_error(text), code="invalid_amount", field=field)
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise InvalidInput(code="invalid_amount", field=field) from None


def check_fen(fen, field: str = "amount") -> int:
    """An amount in whole fen within MAX_FEN (the sign is the caller's rule)."""
    if not isinstance(fen, int) or isinstance(fen, bool):
        raise InvalidInput(_l("Amounts are whole fen."), code="invalid_amount", field=field)
    if abs(fen) > MAX_FEN:
        raise InvalidInput(TOO_LARGE, code="amount_too_large", field=field)
    return fen
