"""Audit events of sign-in and two-factor, one function per event with named
arguments, so a reader sees each event's shape here. They write through
accounts.audit.record; the partner's two-factor requirement is partners.events'.

Failed sign-ins and pauses have no actor (whoever typed is unknown); the account
they aimed at is named in the details and sets the row's partner or customer, so
the account's own company sees them."""

from accounts import audit
from accounts.models import AuditEvent

Action = AuditEvent.Action


def _company_of(account) -> dict:
    if account is None:
        return {}
    return {"customer": account.customer, "partner": account.partner}


def sign_in_failed(*, email: str, address: str, page: str, account=None) -> AuditEvent:
    return audit.record(
        Action.SIGN_IN_FAILED,
        actor=None,
        **_company_of(account),
        details={"email": email, "address": address, "page": page},
    )


def sign_in_locked_out(*, scope: str, until, email: str, address: str, page: str, account=None) -> AuditEvent:
    """``scope`` is "account" (too many failures for one email) or "address" (from one address)."""
    return audit.record(
        Action.SIGN_IN_LOCKED_OUT,
        actor=None,
        **_company_of(account),
        details={"scope": scope, "until": until.isoformat(), "email": email, "address": address, "page": page},
    )


def password_reset_throttled(*, scope: str, until, email: str, address: str, account=None) -> AuditEvent:
    """``scope`` is "email" or "address"; written when the pause starts, not per refused request."""
    return audit.record(
        Action.PASSWORD_RESET_THROTTLED,
        actor=None,
        **_company_of(account),
        details={"scope": scope, "until": until.isoformat(), "email": email, "address": address},
    )


def two_factor_code_failed(*, user, address: str) -> AuditEvent:
    return audit.record(Action.TWO_FACTOR_CODE_FAILED, actor=user, **_company_of(user), details={"address": address})


def two_factor_locked_out(*, user, until, address: str) -> AuditEvent:
    return audit.record(
        Action.TWO_FACTOR_LOCKED_OUT,
        actor=user,
        **_company_of(user),
        details={"until": until.isoformat(), "address": address},
    )


def two_factor_device_added(*, user, device_name: str) -> AuditEvent:
    return audit.record(
        Action.TWO_FACTOR_DEVICE_ADDED, actor=user, **_company_of(user), details={"device": device_name}
    )


def two_factor_device_removed(*, user, acting_user, devices: int) -> AuditEvent:
    """By the user themself, or by an operator resetting them from the admin."""
    return audit.record(
        Action.TWO_FACTOR_DEVICE_REMOVED,
        actor=acting_user,
        **_company_of(user),
        details={"user": user.email, "devices": devices, "by_operator": acting_user.pk != user.pk},
    )
