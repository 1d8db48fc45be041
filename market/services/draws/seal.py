"""The draw's secret at rest: encrypted with a key derived from SECRET_KEY, so a database dump,
a log line or a page never shows it before the reveal.

Standard library only (no AES here): an HMAC-SHA256 keystream (CTR mode over a random 16-byte
nonce) and an HMAC-SHA256 tag over nonce and ciphertext (encrypt-then-MAC). Changing SECRET_KEY
before a draw makes its secret unreadable: the reveal then fails loudly instead of drawing."""

import base64
import hashlib
import hmac
import secrets

PREFIX = "v1:"


def _keys(secret_key: str) -> tuple[bytes, bytes]:
    root = hmac.new(secret_key.encode(), b"draw-secret-seal-v1", hashlib.sha256).digest()
    return (
        hmac.new(root, b"encrypt", hashlib.sha256).digest(),
        hmac.new(root, b"authenticate", hashlib.sha256).digest(),
    )


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < length:
        out += hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        counter += 1
    return out[:length]


def seal(secret: bytes, secret_key: str) -> str:
    enc, mac = _keys(secret_key)
    nonce = secrets.token_bytes(16)
    body = bytes(a ^ b for a, b in zip(secret, _keystream(enc, nonce, len(secret)), strict=True))
    tag = hmac.new(mac, nonce + body, hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(nonce + body + tag).decode()


class SealBroken(Exception):
    """The stored secret was altered, or SECRET_KEY changed since it was sealed."""


def unseal(sealed: str, secret_key: str) -> bytes:
    if not sealed.startswith(PREFIX):
        raise SealBroken("unknown seal format")
    raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :])
    nonce, body, tag = raw[:16], raw[16:-32], raw[-32:]
    enc, mac = _keys(secret_key)
    if not hmac.compare_digest(tag, hmac.new(mac, nonce + body, hashlib.sha256).digest()):
        raise SealBroken("the sealed secret does not authenticate")
    return bytes(a ^ b for a, b in zip(body, _keystream(enc, nonce, len(body)), strict=True))
