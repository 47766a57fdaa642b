from email import policy
from email.parser import BytesParser
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

MAX_SHOWN = 50


def _read_outbox(directory: Path) -> list[dict]:
    """Parse the messages Django's file backend wrote, newest first."""
    messages = []
    files = sorted(directory.glob("*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in files[:20]:
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            message = BytesParser(policy=policy.default).parsebytes(chunk)
            text = message.get_body(preferencelist=("plain",))
            messages.append(
                {
                    "subject": message["subject"],
                    "to": message["to"],
                    "date": message["date"],
                    "body": text.get_content() if text else "",
                }
            )
    return messages[:MAX_SHOWN]


def local_outbox(request):
    """Local development only: the mail the file backend wrote, readable in the browser."""
    if not settings.LOCAL_OUTBOX_ENABLED:
        raise Http404
    directory = Path(settings.EMAIL_FILE_PATH)
    messages = _read_outbox(directory) if directory.is_dir() else []
    return render(request, "notifications/outbox.html", {"messages": messages, "directory": directory})
