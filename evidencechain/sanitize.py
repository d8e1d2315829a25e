"""Candidate-written Markdown to safe HTML: rendered with Python-Markdown, cleaned with nh3.

Every free-text field is the candidate's, and the site is opened by reviewers at other
companies, sometimes under one shared domain: a `<script>`, an event handler or a
`javascript:` link in a manifest must never reach a reviewer's browser. Images are not
allowed in prose either: a remote `src` would make the reviewer's browser fetch it (assets
are declared in `assets`, never embedded).
"""

from __future__ import annotations

import re

import markdown
import nh3

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h3", "h4",
    "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"},
                       "td": {"align"}, "ol": {"start"}}
_EXTENSIONS = ["tables", "fenced_code", "sane_lists"]
_SINGLE_PARAGRAPH = re.compile(r"\A<p>(.*)</p>\Z", re.DOTALL)


def render(text: str) -> str:
    """Markdown to sanitized block HTML (paragraphs, lists, tables, code)."""
    html = markdown.markdown(text.strip(), extensions=_EXTENSIONS, output_format="html")
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def render_inline(text: str) -> str:
    """Like `render`, without the wrapping paragraph when the text is a single one."""
    html = render(text)
    match = _SINGLE_PARAGRAPH.match(html.strip())
    return match.group(1) if match and "<p>" not in match.group(1) else html
