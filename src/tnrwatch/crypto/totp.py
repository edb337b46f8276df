"""Time-based one-time passwords (RFC 6238, via pyotp): the second factor of every staff sign-in.

Codes are 6 digits over 30-second time steps, the defaults every authenticator app uses. A code is matched to its
time step rather than just accepted, so that the caller can remember the step and refuse the same code twice.
"""

from __future__ import annotations

import datetime as dt
import hmac

import pyotp

ISSUER = "tnrwatch"
STEP_SECONDS = 30
DIGITS = 6
# One step either side of now: a phone clock a little off, or a code typed just as it changed, still works.
WINDOW = 1


def new_secret() -> str:
    """A fresh base32 secret of 160 bits, the size RFC 4226 recommends."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (usually from a QR code) to add the account."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=username, issuer_name=ISSUER)


def time_step(at: dt.datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, at: dt.datetime) -> str:
    """The code an authenticator app shows at `at` (tests and the demo use it; sign-in uses `matching_step`)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(time_step(at))


def matching_step(secret: str, code: str, at: dt.datetime) -> int | None:
    """The time step within `WINDOW` of `at` whose code is `code` (the latest, should two steps share a code); `None`
    when none matches or the code is not six digits. Every step in the window is compared, in constant time."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = time_step(at)
    found = None
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found
