"""base.html's header links: paths reversed once per process, per URLconf and script
prefix, the same as {% url %} writes."""

from django.template import Context, Template
from django.urls import reverse, set_script_prefix

HEADER = "{% load nav %}{% nav_url 'insight:activity' %} {% nav_url 'licences:companies' %}"


def test_nav_url_writes_what_url_writes_under_each_script_prefix():
    plain = Template(HEADER).render(Context())
    assert plain == f"{reverse('insight:activity')} {reverse('licences:companies')}"
    try:
        set_script_prefix("/licences-app/")
        prefixed = Template(HEADER).render(Context())
        assert prefixed == f"{reverse('insight:activity')} {reverse('licences:companies')}"
        assert prefixed.startswith("/licences-app/")
    finally:
        set_script_prefix("/")
    assert Template(HEADER).render(Context()) == plain
