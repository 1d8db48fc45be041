"""Ballot slip codes and change codes: Crockford base32 (no I, L, O, U), read aloud or typed.

A slip code is 11 random characters (55 bits) and a check character, shown XXXX-XXXX-XXXX:
at the vote rate limit (a few dozen tries a minute per address) guessing any one of a few
hundred live codes takes millions of years. The check character catches one mistyped character
before it costs a try. A change code (the receipt of a ballot, kept on the voter's phone) is 10
random characters (50 bits). Both are stored only as an HMAC with the app's secret: the
database alone can neither vote nor change a vote."""

import hashlib
import hmac
import secrets

from flask import current_app

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARS = 11
LENGTH = RANDOM_CHARS + 1
WEIGHTS = (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21)
RECEIPT_CHARS = 10
READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _check(body: str) -> str:
    return ALPHABET[sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 32]


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def new_code() -> str:
    body = _random(RANDOM_CHARS)
    return body + _check(body)


def new_receipt() -> str:
    return _random(RECEIPT_CHARS)


def _clean(text: str | None) -> str:
    return "".join((text or "").upper().split()).replace("-", "").translate(READ_AS)[:40]


def normalize(text: str | None) -> str | None:
    """The code from what was typed, or None when it is not a well-formed slip code."""
    code = _clean(text)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code if _check(code[:RANDOM_CHARS]) == code[-1] else None


def normalize_receipt(text: str | None) -> str | None:
    receipt = _clean(text)
    if len(receipt) != RECEIPT_CHARS or any(c not in ALPHABET for c in receipt):
        return None
    return receipt


def display(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def display_receipt(receipt: str) -> str:
    return f"{receipt[:5]}-{receipt[5:]}"


def keyed_hash(kind: str, vote_id: int, value: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"fund-{kind}:{vote_id}:{value}".encode(), hashlib.sha256).hexdigest()
