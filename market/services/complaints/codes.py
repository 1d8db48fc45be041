"""Short tracking codes a complainant can read aloud or write down: 8 characters of Crockford
base32 (no I, L, O, U), the last a check character, shown as ABCD-EFGH.

Seven random characters are 35 bits: at the tracking rate limit, guessing any one complaint's
code would take centuries. The check character is Σ value × weight mod 32 with odd weights, so
one mistyped character is always caught, and so is nearly every swap of two neighbours."""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARS = 7
LENGTH = RANDOM_CHARS + 1
WEIGHTS = (1, 3, 5, 7, 9, 11, 13)
# What people write for what they mean (Crockford's decoding rules).
READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _check(body: str) -> str:
    return ALPHABET[sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 32]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return body + _check(body)


def normalize(text: str | None) -> str | None:
    """The code as stored, from what was typed ('abcd efgh', 'ABCD-EFGH', 'O' for 0 …), or None
    when it is not a well-formed code with a matching check character."""
    code = "".join((text or "").upper().split()).replace("-", "").translate(READ_AS)
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code if _check(code[:RANDOM_CHARS]) == code[-1] else None


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"
