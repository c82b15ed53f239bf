"""The guides are served pages, and nothing a person sees names a repository file instead.

Every guide of ``matneo.web.pages.guides.GUIDES`` rendered from the installed package data: its
title, headings with anchors, tables, no raw HTML or Markdown left as text, every link within the
page landing on an id, and links between guides pointing at the served pages. Over real HTTP
against the session's instance: each guide's page, the list of guides, an unknown guide (404 in
the NHS.UK error page), sign-in required as for /methods; and the words people and programs get
(input format labels, the Data page, an upload refusal, command-line help, the API description)
cite a guide by its address, never ``docs/…``. What a person clicks is in
tests/web/test_figures.py (``test_method_notes_link_to_a_served_page``), with axe.
"""

from __future__ import annotations

import html
import io
import os
import re
import subprocess
import sys
import uuid
import zipfile

import pytest
from typer.testing import CliRunner

from matneo.cli.main import app as cli
from matneo.records.load import INPUT_FORMATS, get_input_format
from matneo.web.pages import data
from matneo.web.pages.guides import GUIDES, build
from matneo.web.services import NotFound

from .conftest import WebInstance

#: What a repository path looks like in words shown to people.
REPOSITORY_PATH = re.compile(r"\bdocs/|\b[\w-]+\.md\b")
ID = re.compile(r'\bid="([^"]+)"')


# -- rendering ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(GUIDES))
def test_each_guide_renders_with_anchored_headings_and_no_raw_html(name: str) -> None:
    page = build(name)
    text = str(page.html)
    assert page.name == name and page.sections, name
    assert re.search(r'<h1 id="[a-z0-9-]+" class="nhsuk-heading-xl">', text)
    for anchor, _ in page.sections:
        assert f'<h2 id="{anchor}" class="nhsuk-heading-l">' in text
    assert '<table class="nhsuk-table">' in text, "every guide has a table"
    ids = ID.findall(text)
    assert len(ids) == len(set(ids)), "a repeated heading gets its own anchor"
    for target in re.findall(r'href="#([^"]+)"', text):
        assert target in ids, f"{name}: #{target} lands nowhere"
    assert "&lt;!--" not in text and "&lt;a id=" not in text, "comments and anchors are not shown as text"
    assert "\ue000" not in text
    for href in re.findall(r'href="([^"#][^"]*)"', text):
        assert href.startswith(("https://", "http://", "/methods", "/guides/")), f"{name}: {href}"
        assert not href.endswith(".md") and ".md#" not in href


def test_links_between_guides_open_the_served_guide() -> None:
    msds, fhir = str(build("msds").html), str(build("fhir").html)
    assert '<a href="/guides/birth-record">the birth record</a>' in msds
    assert '<li id="tos"><strong>tos</strong>' in msds  # [tos](#tos) lands on the source
    assert '<a href="/guides/birth-record#fields">MatNeo birth record</a>' in msds
    assert '<a href="/methods#disclosure-control">disclosure control</a>' in fhir
    assert '<a href="/guides/measures">the measures</a>' in fhir
    assert 'id="disclosure-control"' in str(build("methods").html)
    assert 'id="fields"' in str(build("birth-record").html)


def test_an_unknown_guide_is_not_found() -> None:
    with pytest.raises(NotFound, match="There is no guide called 'nope'"):
        build("nope")


# -- served ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in GUIDES if n != "methods"])
def test_each_guide_is_served_at_its_address(name: str, web: WebInstance) -> None:
    client = web.client("trust")
    response = client.get(f"/guides/{name}")
    assert response.status_code == 200, response.text
    page = build(name)
    assert f"<title>{html.escape(page.title, quote=False)}" in response.text
    assert f'data-guide="{name}"' in response.text and '<table class="nhsuk-table">' in response.text
    for anchor, heading in page.sections:
        assert f'href="#{anchor}"' in response.text, heading  # the contents list


def test_the_list_of_guides_and_the_methods_guides_address(web: WebInstance) -> None:
    client = web.client("trust")
    listed = client.get("/guides")
    assert listed.status_code == 200
    for guide in GUIDES.values():
        assert f'<a href="{guide.url}">{guide.title}</a>' in listed.text
    assert client.get("/methods").status_code == 200
    moved = client.get("/guides/methods")
    assert (moved.status_code, moved.headers["location"]) == (301, "/methods")
    assert 'href="/guides"' in client.get("/methods").text  # the footer and the guide's foot


def test_an_unknown_guide_is_the_nhs_404_page(web: WebInstance) -> None:
    response = web.client("trust").get("/guides/nope")
    assert response.status_code == 404
    assert "There is no guide called" in html.unescape(response.text)
    assert "nhsuk-header" in response.text  # the site's own page, not a bare error


@pytest.mark.parametrize("path", ["/guides", "/guides/msds", "/guides/nope"])
def test_guides_need_sign_in_as_the_methods_guide_does(path: str, web: WebInstance) -> None:
    response = web.client().get(path)
    assert response.status_code in (302, 303) and response.headers["location"].startswith("/sign-in")


# -- no repository paths in what people see --------------------------------------------------------
def test_no_input_format_label_names_a_repository_file() -> None:
    descriptions = [get_input_format(name).description for name in INPUT_FORMATS]
    for words in [*descriptions, *data.FORMAT_LABELS.values()]:
        assert not REPOSITORY_PATH.search(words), words
    assert set(data.FORMAT_GUIDES) == set(data.FORMAT_LABELS)
    assert {data.FORMAT_GUIDES[k] for k in data.FORMAT_LABELS} <= set(GUIDES)


def test_the_data_page_links_each_format_to_its_guide(web: WebInstance) -> None:
    page = web.client("trust").get("/data")
    assert page.status_code == 200
    for name in ("birth-record", "fhir", "msds"):
        assert f'href="/guides/{name}"' in page.text
    assert not REPOSITORY_PATH.search(visible(page.text))


def test_an_upload_without_msds_tables_is_refused_in_words(web: WebInstance) -> None:
    """The one refusal that names what a format reads (the loader's ``contains no …``)."""
    name = f"no-tables-{uuid.uuid4().hex[:6]}.zip"
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as zipped:
        zipped.writestr("readme.txt", "not a table")
    client = web.client("trust")
    response = client.post(
        "/data/upload",
        data={"csrf_token": client.headers["X-CSRF-Token"], "mode": "upsert"},
        files={"file": (name, content.getvalue(), "application/zip")},
    )
    words = visible(response.text)
    assert response.status_code == 400 and "contains no MSDS table files (MSD001…MSD405)" in words, words
    assert not REPOSITORY_PATH.search(words)
    assert not REPOSITORY_PATH.search(visible(client.get("/data").text))  # the failed load in the ledger


@pytest.mark.parametrize("command", [["load"], ["quality"], ["ambition"], ["harm", "route"], ["reviews"], ["harm"], []])
def test_command_line_help_names_guides_not_files(command: list[str]) -> None:
    result = CliRunner(env={"COLUMNS": "240"}).invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    words = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())  # Rich's boxes and wrapping undone
    assert not REPOSITORY_PATH.search(words), words
    if command == ["load"]:
        assert "served by `matneo serve` at /guides/birth-record, /guides/msds and /guides/fhir" in words


def test_the_api_description_names_guides_not_files(web: WebInstance) -> None:
    described = web.client().get("/api/v1/openapi.json").text
    assert not REPOSITORY_PATH.search(described)
    assert "/guides/harm-routing#input" in described


def test_the_ambition_note_points_at_the_served_methods_guide(web: WebInstance) -> None:
    env = dict(os.environ, MATNEO_HOME=str(web.settings.home), MATNEO_DATABASE_URL=web.settings.database_url)
    env["COLUMNS"] = "240"
    result = subprocess.run(
        [sys.executable, "-m", "matneo.cli.main", "ambition"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "served by `matneo serve` at /methods#trajectories-to-the-ambition" in " ".join(result.stdout.split())
    assert not REPOSITORY_PATH.search(result.stdout)


def visible(page: str) -> str:
    """A page's words without its tags (links' addresses and scripts are not words people read)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))
