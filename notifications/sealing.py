"""Sealing short secrets (an OTP inside a queued SMS) so the database never holds them in clear.

A stream cipher with HMAC-SHA256 as the PRF in counter mode, keyed by the app secret, with a
random nonce per value and an HMAC tag. An OTP must be readable once, by the sender job; its
stored *hash* protects verification, this protects the queued text.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


class SealError(ValueError):
    """A sealed value was altered or sealed with another key."""


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, b"stream" + nonce + counter.to_bytes(4, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def seal(secret_key: str, plaintext: str) -> str:
    key = secret_key.encode()
    nonce = secrets.token_bytes(16)
    data = plaintext.encode()
    cipher = bytes(a ^ b for a, b in zip(data, _keystream(key, nonce, len(data)), strict=True))
    tag = hmac.new(key, b"tag" + nonce + cipher, hashlib.sha256).hexdigest()[:32]
    return f"{nonce.hex()}.{cipher.hex()}.{tag}"


def unseal(secret_key: str, sealed: str) -> str:
    key = secret_key.encode()
    try:
        nonce_hex, cipher_hex, tag = sealed.split(".")
        nonce, cipher = bytes.fromhex(nonce_hex), bytes.fromhex(cipher_hex)
    except ValueError:
        raise SealError("malformed sealed value") from None
    expected = hmac.new(key, b"tag" + nonce + cipher, hashlib.sha256).hexdigest()[:32]
    if not hmac.compare_digest(expected, tag):
        raise SealError("sealed value altered or sealed with another key")
    return bytes(a ^ b for a, b in zip(cipher, _keystream(key, nonce, len(cipher)), strict=True)).decode()
