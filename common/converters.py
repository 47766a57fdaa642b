"""Path converters: a URL that cannot name a real row does not reach a view."""


class TokenConverter:
    """An unguessable token as ``secrets.token_urlsafe`` makes them (URL-safe base64,
    43 characters for 32 bytes). Anything else (a NUL byte, a thousand characters,
    non-ASCII) matches no URL and is a 404 before any query is made."""

    regex = "[A-Za-z0-9_-]{16,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
