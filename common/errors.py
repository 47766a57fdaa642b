"""The one shape of a refused request, whatever the domain.

Service functions raise a ``ServiceError`` (or a subclass of one domain) when the
rules refuse what was asked. It carries a stable ``code`` from the domain's
``error_codes.py`` beside the message people read: pages show the message, commands
print it, and the API returns the code."""


class ServiceError(Exception):
    """A request the rules refuse; nothing was changed. ``str(error)`` is the message."""

    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = str(code or self.default_code)
