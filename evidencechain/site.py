"""The MkDocs + Material adapter: the only module that imports MkDocs.

It writes the generated Markdown and a `mkdocs.yml` into a build folder and runs MkDocs on
it. Keeping every MkDocs call here means another site backend can replace it in one place
(MkDocs 2 drops theme overrides; Material is in maintenance mode).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from .errors import BuildError
from .model import WorkspaceConfig
from .pages import ProjectView, h, index_page, project_page, vision_page
from .schema import data_dir

THEME_DIR_NAME = "material"
EXTRA_CSS = "assets/stylesheets/evidencechain.css"
EXTRA_JS = "assets/javascripts/evidencechain.js"
SCORESHEET_JS = "assets/javascripts/scoresheet.js"
# Material's offline plugin makes search work from file:// (search_index.js plus a Worker
# shim). It adds a remote copy of the shim unless a polyfill named "iframe-worker" is already
# listed, so ours, vendored from npm iframe-worker 1.0.4 (MIT), is listed first and the page
# fetches nothing (tests/test_build.py checks every built page for remote scripts).
WORKER_SHIM_JS = "assets/javascripts/vendor/iframe-worker-shim.js"


def theme_dir() -> Path:
    """Our Material overrides (`themes/material`), shipped with the package."""
    return data_dir() / "themes" / THEME_DIR_NAME


def write_docs(config: WorkspaceConfig, views: list[ProjectView], docs_dir: Path) -> list:
    """Write every page's Markdown under `docs_dir`; return the MkDocs nav for them."""
    candidate = config.candidate
    title = site_title(config)
    _write(docs_dir / "index.md", index_page(candidate, views, title))
    _write(docs_dir / "vision.md", vision_page(candidate))
    for view in views:
        _write(docs_dir / "projects" / view.project.slug / "index.md", project_page(view))
    return [
        {"Home": "index.md"},
        {"Vision": "vision.md"},
        {"Projects": [{h(v.manifest.title): f"projects/{v.project.slug}/index.md"} for v in views]},
    ]


def site_title(config: WorkspaceConfig) -> str:
    """The site's title: `site.title`, else the candidate's name."""
    return config.site.title or config.candidate.name


def write_config(config: WorkspaceConfig, nav: list, docs_dir: Path, site_dir: Path,
                 config_file: Path) -> Path:
    """A complete `mkdocs.yml` for the generated pages (plain `mkdocs build` can use it)."""
    mkdocs_config = {
        # Material prints these unescaped into HTML, so escape them here.
        "site_name": h(site_title(config)),
        "site_description": h(config.candidate.headline),
        "site_author": h(config.candidate.name),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        # Explicit index.html links: the site must also work opened from disk (file://).
        "use_directory_urls": False,
        "nav": nav,
        "theme": {
            "name": "material",
            "custom_dir": str(theme_dir()),
            "language": config.site.language or "en",
            # Material fetches Google Fonts by default: a failed request offline and a
            # privacy leak for reviewers, so system fonts only.
            "font": False,
            # toc.integrate moves the contents into the left sidebar, so the summary card gets
            # the width it needs to fit in a 1366x768 first viewport.
            "features": ["navigation.top", "toc.follow", "toc.integrate", "search.highlight"],
            "palette": [
                {"media": "(prefers-color-scheme: light)", "scheme": "default",
                 "primary": "indigo", "accent": "indigo",
                 "toggle": {"icon": "material/weather-night", "name": "Switch to dark mode"}},
                {"media": "(prefers-color-scheme: dark)", "scheme": "slate",
                 "primary": "indigo", "accent": "indigo",
                 "toggle": {"icon": "material/weather-sunny", "name": "Switch to light mode"}},
            ],
        },
        "extra_css": [EXTRA_CSS],
        "extra_javascript": [EXTRA_JS, SCORESHEET_JS],
        "plugins": ["search", "offline"],
        "extra": {"polyfills": [WORKER_SHIM_JS]},
        "markdown_extensions": [
            "admonition", "attr_list", "md_in_html", "tables", "pymdownx.details",
            "pymdownx.superfences", {"toc": {"permalink": True}},
        ],
    }
    if config.site.url:
        mkdocs_config["site_url"] = config.site.url
    _write(config_file, yaml.safe_dump(mkdocs_config, sort_keys=False, allow_unicode=True))
    return config_file


def run_mkdocs(config_file: Path) -> None:
    """Build the site described by `config_file`; raise BuildError on any MkDocs failure."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    with _quiet_mkdocs():
        try:
            build(load_config(str(config_file)))
        except MkDocsException as exc:
            raise BuildError(f"MkDocs failed: {exc}") from exc


@contextmanager
def _quiet_mkdocs() -> Iterator[None]:
    """MkDocs logs INFO lines and Material prints a notice; users see only our summary."""
    logger = logging.getLogger("mkdocs")
    previous_level = logger.level
    previous_env = os.environ.get("NO_MKDOCS_2_WARNING")
    logger.setLevel(logging.WARNING)
    os.environ["NO_MKDOCS_2_WARNING"] = "1"
    try:
        yield
    finally:
        logger.setLevel(previous_level)
        if previous_env is None:
            os.environ.pop("NO_MKDOCS_2_WARNING", None)
        else:
            os.environ["NO_MKDOCS_2_WARNING"] = previous_env


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
