"""What every ledger of emails shares (order emails, seat alerts, the partner
digest): how long a claim lasts, how long to wait before a retry, whether a
provider's error is worth one, and how an error is recorded."""

import smtplib
from datetime import timedelta

from anymail.exceptions import AnymailAPIError, AnymailConfigurationError, AnymailError
from django.conf import settings

RETRY_BACKOFF_FIRST = timedelta(minutes=5)
RETRY_BACKOFF_MAX = timedelta(hours=2)
COMPANY_INACTIVE = "Not sent: the company is deactivated."


def claim_timeout() -> timedelta:
    return timedelta(seconds=settings.EXPIRY_CLAIM_TIMEOUT_SECONDS)


def retry_backoff(attempt: int) -> timedelta:
    """How long to wait after failed attempt number ``attempt``: 5 min, 10, 20... 2 h."""
    return min(RETRY_BACKOFF_FIRST * 2 ** max(attempt - 1, 0), RETRY_BACKOFF_MAX)


# --- Transient or permanent: what the provider's error says -----------------------------


def is_transient(error: BaseException) -> bool:
    """Worth another try later: the provider or the network failed, not the message.

    Permanent: the provider refused the message or its recipients (anymail's
    RecipientsRefused, InvalidAddress, a 4xx API answer other than 429; an SMTP 5xx).
    Anything unexpected is treated as transient: it is retried a bounded number of
    times, then recorded as failed, so a fix deployed in between still sends it."""
    if isinstance(error, AnymailAPIError):
        status = error.status_code
        return status is None or status == 429 or status >= 500
    if isinstance(error, AnymailConfigurationError):
        return True  # operators fix the configuration; the retry then succeeds
    if isinstance(error, AnymailError):
        return False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return True


def describe(error: BaseException) -> str:
    """The error as operators read it in the ledger: its type and message."""
    try:
        text = str(error)
    except Exception:  # a malformed provider error must not hide the original one
        text = repr(error)
    return f"{type(error).__name__}: {text}"[:2000]
