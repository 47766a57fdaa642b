"""Sign-in that resists guessing: the limits on failed sign-ins, wrong two-factor
codes and password reset requests, and what each says when it bites.

- Wrong passwords are counted per account (the email typed, whether or not an
  account has it, so a pause tells nothing about who has an account) and per address
  (one address guessing across many accounts). At either limit, signing in with that
  email, or from that address, is paused for the cool-off period, even with the right
  password. Both sign-in pages use this: /accounts/login/ and /admin/login/.
- Wrong codes are counted per account; at the limit the code step is paused.
- Password reset requests are counted per email and per address, whatever the email.

Every failure and every pause is written to the audit log (accounts.events).
When the counters cannot be reached, sign-in is refused (fail closed): guesses are
never let through uncounted.
"""

import ipaddress
import logging
from dataclasses import dataclass

from django.conf import settings

from accounts import events
from accounts.models import User, normalise_email
from accounts.throttle import Limit, Pause, ThrottleUnavailable, count, forget, paused
from common.text import plural

logger = logging.getLogger(__name__)

UNAVAILABLE = "Signing in is unavailable for a moment. Please try again in a minute."


@dataclass(frozen=True)
class Refusal:
    """Why a request is turned away, in words for the page, and the HTTP status."""

    message: str
    status: int = 429


def _sign_in_limit(scope: str) -> Limit:
    most = {
        "account": settings.SIGN_IN_MAX_FAILURES_PER_ACCOUNT,
        "address": settings.SIGN_IN_MAX_FAILURES_PER_ADDRESS,
    }[scope]
    cool_off = settings.SIGN_IN_COOL_OFF_SECONDS
    return Limit(f"sign-in:{scope}", most, cool_off, cool_off)


def _code_limit() -> Limit:
    cool_off = settings.SIGN_IN_COOL_OFF_SECONDS
    return Limit("two-factor:account", settings.TWO_FACTOR_MAX_FAILURES, cool_off, cool_off)


def _reset_limit(scope: str) -> Limit:
    most = {"email": settings.PASSWORD_RESET_MAX_PER_EMAIL, "address": settings.PASSWORD_RESET_MAX_PER_ADDRESS}[scope]
    window = settings.PASSWORD_RESET_WINDOW_SECONDS
    return Limit(f"password-reset:{scope}", most, window, window)


def _in(pause: Pause) -> str:
    return f"in {plural(pause.minutes_left, 'minute')}"


MESSAGES = {
    "sign-in:account": "Too many failed sign-ins for this account, so signing in to it is paused. Try again {in}.",
    "sign-in:address": "Too many failed sign-ins from your network, so signing in from it is paused. Try again {in}.",
    "two-factor:account": "Too many wrong codes, so the code step is paused. Try again {in}.",
    "password-reset:email": (
        "Reset links for this email address have been asked for too often. "
        "Use the link already sent, or try again {in}."
    ),
    "password-reset:address": "Too many reset requests from your network. Try again {in}.",
}


def _refusal(pause: Pause) -> Refusal:
    return Refusal(MESSAGES[pause.limit.name].format(**{"in": _in(pause)}))


def client_address(request) -> str:
    """The address a request came from. Behind TRUSTED_PROXY_COUNT proxies, the one
    the outermost trusted proxy saw; never a value the client could have written.
    IPv6 addresses count per /64, the block one household or server usually has."""
    candidate = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            candidate = forwarded[-hops]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return candidate or "unknown"
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.ip_network(f"{address}/64", strict=False))


def _account(email: str):
    if not email:
        return None
    return User.objects.select_related("partner", "customer__partner").filter(email=email).first()


# --- Passwords -------------------------------------------------------------------------


def sign_in_refusal(email: str, address: str) -> Refusal | None:
    """Refuse before the password is even checked while the email or address is paused."""
    email = normalise_email(email)
    try:
        pause = (email and paused(_sign_in_limit("account"), email)) or paused(_sign_in_limit("address"), address)
    except ThrottleUnavailable:
        logger.exception("Sign-in throttle unavailable; refusing the sign-in")
        return Refusal(UNAVAILABLE, status=503)
    return _refusal(pause) if pause else None


def sign_in_failed(email: str, address: str, *, page: str) -> Refusal | None:
    """A wrong password: audit it and count it against the email and the address.
    Returns the refusal when this failure starts a pause."""
    email = normalise_email(email)
    account = _account(email)
    events.sign_in_failed(email=email, address=address, page=page, account=account)
    started = None
    try:
        for scope, subject in (("account", email), ("address", address)):
            pause = count(_sign_in_limit(scope), subject)
            if pause is not None:
                events.sign_in_locked_out(
                    scope=scope, until=pause.until, email=email, address=address, page=page, account=account
                )
                started = started or pause
    except ThrottleUnavailable:
        logger.exception("Sign-in throttle unavailable; the failure was audited but not counted")
        return Refusal(UNAVAILABLE, status=503)
    return _refusal(started) if started else None


def sign_in_succeeded(email: str) -> None:
    """The right password: the account's failures so far no longer count."""
    try:
        forget(_sign_in_limit("account"), normalise_email(email))
    except ThrottleUnavailable:
        logger.exception("Sign-in throttle unavailable; could not clear the account's failures")


# --- Two-factor codes ------------------------------------------------------------------


def code_refusal(user) -> Refusal | None:
    try:
        pause = paused(_code_limit(), str(user.pk))
    except ThrottleUnavailable:
        logger.exception("Sign-in throttle unavailable; refusing the code")
        return Refusal(UNAVAILABLE, status=503)
    return _refusal(pause) if pause else None


def code_failed(user, address: str) -> Refusal | None:
    events.two_factor_code_failed(user=user, address=address)
    try:
        pause = count(_code_limit(), str(user.pk))
    except ThrottleUnavailable:
        logger.exception("Sign-in throttle unavailable; the wrong code was audited but not counted")
        return Refusal(UNAVAILABLE, status=503)
    if pause is None:
        return None
    events.two_factor_locked_out(user=user, until=pause.until, address=address)
    return _refusal(pause)


def code_succeeded(user) -> None:
    try:
        forget(_code_limit(), str(user.pk))
    except ThrottleUnavailable:
        logger.exception("Sign-in throttle unavailable; could not clear the account's wrong codes")


# --- Password reset requests -----------------------------------------------------------


def password_reset_requested(email: str, address: str) -> Refusal | None:
    """Count one reset request; refuse it while the email or the address is paused.
    The request that reaches a limit is still served; the pause starts after it."""
    email = normalise_email(email)
    try:
        pause = paused(_reset_limit("email"), email) or paused(_reset_limit("address"), address)
        if pause:
            return _refusal(pause)
        for scope, subject in (("email", email), ("address", address)):
            started = count(_reset_limit(scope), subject)
            if started is not None:
                events.password_reset_throttled(
                    scope=scope, until=started.until, email=email, address=address, account=_account(email)
                )
    except ThrottleUnavailable:
        logger.exception("Sign-in throttle unavailable; refusing the password reset request")
        return Refusal(UNAVAILABLE, status=503)
    return None
