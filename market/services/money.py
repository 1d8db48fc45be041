"""Money is integer fen everywhere; yuan only when shown to people."""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from .errors import InvalidInput

YUAN_RE = re.compile(r"\d{1,7}(\.\d{1,2})?")


def amount(fen: int) -> str:
    """15.00 from 1500: integer arithmetic, for text that says "yuan" itself."""
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def yuan(fen: int) -> str:
    """¥15.00 from 1500."""
    sign = "-" if fen < 0 else ""
    return f"{sign}¥{amount(abs(fen))}"


MAX_YUAN_DIGITS = 7  # up to 9,999,999.99 yuan
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


def parse_yuan(text: str, field: str = "amount") -> int:
    """'15', '15.5' or '15.50' (yuan, at most 2 decimals) → 1550 fen; never a float."""
    text = (text or "").strip().lstrip("¥￥").strip()
    if not YUAN_RE.fullmatch(text):
        raise InvalidInput(_amount_error(text), code="invalid_amount", field=field)
    try:
        return int(Decimal(text) * 100)
    except InvalidOperation:  # pragma: no cover - the pattern already rules this out
        raise InvalidInput(code="invalid_amount", field=field) from None
