"""The assurance, evidence and local-requirement pages open with one shared header (breadcrumb,
problem summary, success banner, caption, heading): the macro page_header in
assurance_macros.html. What a person sees is checked by the browser tests of those pages
(test_assurance_pages.py, test_local_requirements.py); this checks the macro's own output and
that no page keeps a copy of its own."""

from __future__ import annotations

import re

import pytest

from matneo.web.app import WEB_DIR, templates

PAGES = [
    "assurance.html",
    "assurance_item.html",
    "evidence.html",
    "evidence_item.html",
    "evidence_remove.html",
    "local_requirement.html",
    "local_requirements.html",
]


@pytest.mark.parametrize("name", PAGES)
def test_each_page_uses_the_shared_header_and_keeps_no_copy(name: str) -> None:
    source = (WEB_DIR / "templates" / name).read_text(encoding="utf-8")
    assert '{% from "assurance_macros.html" import page_header %}' in source
    assert source.count("{% call page_header(") == 1
    for copied in ('class="nhsuk-breadcrumb"', 'class="nhsuk-error-summary"', "nhsuk-notification-banner--success",
                   'class="nhsuk-caption-l"', "<h1"):  # fmt: skip
        assert copied not in source, f"{name} has its own {copied}"


def render(call: str) -> str:
    env = templates().env
    page = env.from_string('{% from "assurance_macros.html" import page_header %}' + call)
    return re.sub(r">\s+<", "><", page.render(code="R0A", name="Trust <A> & B")).strip()


def test_the_header_has_the_breadcrumb_caption_and_heading_and_escapes_names() -> None:
    html = render('{% call page_header([("/organisations/" ~ code, name), ("/x", "Assurance")], name ~ " · 1",'
                  ' size="xl") %}Evidence library{% endcall %}')  # fmt: skip
    assert html == (
        '<nav class="nhsuk-breadcrumb" aria-label="Breadcrumb"><ol class="nhsuk-breadcrumb__list">'
        '<li class="nhsuk-breadcrumb__list-item"><a class="nhsuk-breadcrumb__link" href="/organisations/R0A">'
        "Trust &lt;A&gt; &amp; B</a></li>"
        '<li class="nhsuk-breadcrumb__list-item"><a class="nhsuk-breadcrumb__link" href="/x">Assurance</a></li>'
        "</ol></nav>"
        '<span class="nhsuk-caption-l">Trust &lt;A&gt; &amp; B · 1</span>'
        '<h1 class="nhsuk-heading-xl">Evidence library</h1>'
    )


def test_the_header_shows_a_problem_or_a_success_when_given() -> None:
    html = render('{% call page_header([("/x", "X")], error=("reason", "Say why")) %}Remove{% endcall %}')
    assert '<ul class="nhsuk-list nhsuk-error-summary__list"><li><a href="#reason">Say why</a></li></ul>' in html
    assert "notification-banner" not in html and "caption" not in html
    assert html.endswith('<h1 class="nhsuk-heading-l">Remove</h1>')
    done = render('{% call page_header([("/x", "X")], success="Saved.") %}T{% endcall %}')
    assert 'aria-labelledby="done-title" data-module="nhsuk-notification-banner">' in done
    assert '<p class="nhsuk-notification-banner__heading">Saved.</p>' in done and "error-summary" not in done
    removed = render('{% call page_header([("/x", "X")], success="Gone.", success_id="removed", success_mark=true) %}'
                     "T{% endcall %}")  # fmt: skip
    assert 'aria-labelledby="removed-title" data-module="nhsuk-notification-banner" data-removed>' in removed
    assert 'id="removed-title">Success</h2>' in removed
