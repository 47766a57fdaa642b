"""The pages hold no inline script or style, which the Content-Security-Policy refuses:
behaviour lives in static/js/app.js and looks in static/css/app.css. (Emails are not
pages: they keep their inline styles.) The production test proves the policy in a
browser on the pages of the guide's walk; this covers every template."""

import re

from tests.production.conftest import ROOT

TEMPLATES = ROOT / "templates"
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def page_templates():
    return [path for path in TEMPLATES.rglob("*.html") if "emails" not in path.relative_to(TEMPLATES).parts]


def test_no_page_template_holds_inline_script_or_style():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {kind}"
        for path in page_templates()
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        for kind, pattern in INLINE.items()
        if pattern.search(line)
    ]
    assert found == []


def test_the_patterns_find_inline_code():
    samples = {
        "inline script": "<script>alert(1)</script>",
        "style element": "<style>p { color: red }</style>",
        "style attribute": '<div class="bar" style="width: 5%">',
        "event handler attribute": '<button onclick="go()">',
        "javascript: URL": '<a href="javascript:go()">',
    }
    assert {kind: bool(INLINE[kind].search(sample)) for kind, sample in samples.items()} == dict.fromkeys(samples, True)
    assert not INLINE["inline script"].search('<script src="/static/js/app.js" defer></script>')
    assert len(page_templates()) > 20
