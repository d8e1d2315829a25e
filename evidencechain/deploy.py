"""`evidencechain deploy`: build the site and publish it on a Pages branch, like
`mkdocs gh-deploy`.

The site is committed as the new tip of the branch (default `gh-pages`) on top of the
remote's current tip, with a `.nojekyll` file so GitHub Pages serves it as is, and pushed.
The user's checkout, index and current branch are never touched (see `history.py`, the
git adapter). Everything that can be checked before the build is checked first.
"""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .build import build_site
from .errors import WorkspaceError
from .history import PagesRepository
from .manifest import find_root, load_workspace
from .problems import Problem

DEFAULT_REMOTE = "origin"
DEFAULT_BRANCH = "gh-pages"
# Build output folders inside a workspace: not evidence, so never a reason to refuse.
_OUTPUT_FOLDERS = ("site", "_site")
_GITHUB_REMOTE = re.compile(r"github\.com[/:]([^/\s]+)/([^/\s]+?)(?:\.git)?/?$", re.IGNORECASE)


@dataclass
class DeployResult:
    """What was published where."""

    remote: str
    remote_url: str
    branch: str
    commit: str
    pages: int
    seconds: float
    site_url: str | None
    dirty: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    build_id: str = ""

    @property
    def unchanged(self) -> bool:
        """Nothing was pushed: the remote already publishes this build."""
        return not self.commit


def deploy_site(workspace: Path, *, remote: str = DEFAULT_REMOTE, branch: str = DEFAULT_BRANCH,
                allow_dirty: bool = False, message: str | None = None,
                strict_provenance: bool = False) -> DeployResult:
    """Build `workspace` and publish the site to `branch` of `remote`."""
    started = time.perf_counter()
    root = find_root(workspace)
    repo = PagesRepository(root)
    try:
        remote_url = repo.remote_url(remote)
        dirty = repo.uncommitted(root, ignore=_OUTPUT_FOLDERS)
        if dirty and not allow_dirty:
            raise WorkspaceError(_dirty_message(dirty))
        with tempfile.TemporaryDirectory(prefix="evidencechain-deploy-") as tmp:
            built = build_site(root, Path(tmp) / "site", strict_provenance=strict_provenance)
            # Without it GitHub Pages runs Jekyll, which drops files and folders starting with _.
            (built.output / ".nojekyll").write_bytes(b"")
            commit = repo.commit_site(built.output, branch, remote,
                                      message or _message(repo.head(), bool(dirty)),
                                      build_id=built.build_id)
        if commit is not None:
            repo.push(remote, commit, branch)
    finally:
        repo.close()
    loaded = load_workspace(root).workspace  # for site.url, to say where the site will be
    site_url = (loaded.config.site.url if loaded else None) or pages_url(remote_url)
    return DeployResult(remote, remote_url, branch, commit or "", built.pages,
                        time.perf_counter() - started, site_url, dirty, built.problems,
                        built.build_id)


def pages_url(remote_url: str) -> str | None:
    """Where GitHub Pages publishes a repository, e.g. https://owner.github.io/name/."""
    match = _GITHUB_REMOTE.search(remote_url.strip())
    if not match:
        return None
    owner, name = match.group(1), match.group(2)
    if name.lower() == f"{owner.lower()}.github.io":
        return f"https://{name.lower()}/"
    return f"https://{owner.lower()}.github.io/{name}/"


def _dirty_message(dirty: list[str]) -> str:
    more = f" and {len(dirty) - 1} more" if len(dirty) > 1 else ""
    return (f"uncommitted changes in the workspace ({dirty[0]}{more}); commit them, or pass "
            "--allow-dirty to publish them anyway")


def _message(head: str | None, dirty: bool) -> str:
    source = f" from {head}" if head else ""
    changes = " with uncommitted changes" if dirty else ""
    return f"Deploy evidence site{source}{changes} (evidencechain)"
