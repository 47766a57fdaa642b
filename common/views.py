"""Error pages that say what went wrong in words people can act on."""

from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render


def bad_request(request, exception=None):
    """Django's 400 handler (config.urls). An upload whose form parts cannot be read
    (most often a file name over a thousand characters) gets a message saying so."""
    upload = isinstance(exception, MultiPartParserError)
    return render(request, "400.html", {"upload": upload}, status=400)
