"""Candidate-written Markdown to safe HTML: rendered with Python-Markdown, cleaned with nh3.

Every free-text field is the candidate's, and the site is opened by reviewers at other
companies, sometimes under one shared domain: a `<script>`, an event handler or a
`javascript:` link in a manifest must never reach a reviewer's browser. Images are not
allowed in prose either: a remote `src` would make the reviewer's browser fetch it (assets
are declared in `assets`, never embedded).

Rendering is most of the time spent writing the pages, and the same texts are rendered on
every build, so a build keeps the results in its cache (`remembered`): one entry mapping the
SHA-256 of each text to its HTML, under a key naming the code and library versions that
rendered it, so an upgrade or an edit of this module starts afresh.
"""

from __future__ import annotations

import functools
import hashlib
import platform
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .cache import Cache, code_version, make_key

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h3", "h4",
    "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"},
                       "td": {"align"}, "ol": {"start"}}
_EXTENSIONS = ["tables", "fenced_code", "sane_lists"]
_SINGLE_PARAGRAPH = re.compile(r"\A<p>(.*)</p>\Z", re.DOTALL)
MEMO_KIND = "render"


def render(text: str) -> str:
    """Markdown to sanitized block HTML (paragraphs, lists, tables, code)."""
    memo = _MEMO.get()
    if memo is None:
        return _render(text)
    key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    html = memo.used.get(key)
    if html is None:
        html = memo.known.get(key)
        if html is None:
            html = _render(text)
        memo.used[key] = html
    return html


def render_inline(text: str) -> str:
    """Like `render`, without the wrapping paragraph when the text is a single one."""
    html = render(text)
    match = _SINGLE_PARAGRAPH.match(html.strip())
    return match.group(1) if match and "<p>" not in match.group(1) else html


def _render(text: str) -> str:
    import markdown  # here, not at the top: a build whose prose is all cached never needs
    import nh3  # Python-Markdown or nh3

    html = markdown.markdown(text.strip(), extensions=_EXTENSIONS, output_format="html")
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


# --------------------------------------------------------------------------- the memo


class _Memo:
    """Renders known from the cache, and those this build used (which are stored)."""

    def __init__(self, known: dict[str, str]):
        self.known = known
        self.used: dict[str, str] = {}


_MEMO: ContextVar[_Memo | None] = ContextVar("evidencechain_render_memo", default=None)


def memo_key() -> str:
    """The cache key of the render memo: everything `_render`'s output depends on besides
    the text (this code, Python-Markdown's and nh3's versions, Python's)."""
    return make_key(MEMO_KIND, code_version(), *_library_versions(), platform.python_version())


@functools.cache
def _library_versions() -> tuple[str, str]:
    """Python-Markdown's and nh3's versions, read without importing them."""
    from importlib.metadata import version

    return version("Markdown"), version("nh3")


@contextmanager
def remembered(cache: Cache | None) -> Iterator[None]:
    """Within the block (this thread), `render` reuses results stored in `cache` by earlier
    builds; at its end the texts rendered in the block are stored for the next build (only
    those, so the entry does not grow with texts deleted long ago). No cache: no memo."""
    if cache is None:
        yield
        return
    key = memo_key()
    stored = cache.get(MEMO_KIND, key, "page prose")
    valid = isinstance(stored, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in stored.items())
    memo = _Memo(stored if valid else {})
    token = _MEMO.set(memo)
    try:
        yield
    finally:
        _MEMO.reset(token)
    if memo.used != memo.known or not valid:
        cache.put(MEMO_KIND, key, memo.used)
