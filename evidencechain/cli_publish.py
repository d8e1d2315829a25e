"""The `init`, `serve` and `deploy` commands: start a workspace, preview it, publish it.

Registered at the end of cli.py, like `cli_provenance`; each command only parses options,
calls its worker and prints.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

WORKSPACE_ARG = click.argument(
    "workspace", type=click.Path(path_type=Path), default=Path("."), required=False,
)


def _handle_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """cli.py's error handling, looked up at call time (cli.py imports this module)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from .cli import _handle_errors as handle

        return handle(func)(*args, **kwargs)

    return wrapper


@click.command(short_help="Start a workspace: config, example project, CI workflow.")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
                required=False)
@click.option("--name", metavar="NAME", default="Your Name", show_default=True,
              help="Your name, written into evidencechain.yml.")
@click.option("--project", metavar="SLUG", default="my-first-project", show_default=True,
              help="Folder name (slug) of the example project.")
@_handle_errors
def init(folder: Path, name: str, project: str) -> None:
    """Start a workspace in FOLDER: evidencechain.yml, one commented example project,
    the schemas for editors, a .gitignore and a GitHub Actions workflow for Pages.

    Never overwrites a file: if any of them exists, nothing is written.
    """
    from .scaffold import init_workspace

    written = init_workspace(folder, name=name, project=project)
    for path in written:
        click.echo(f"  wrote {path}")
    click.echo(f"Workspace ready in {folder}. Next: fill in {written[1]}, then run\n"
               f"  evidencechain check {folder}\n"
               f"  evidencechain serve {folder}")


@click.command(short_help="Preview the site locally, rebuilding on every change.")
@WORKSPACE_ARG
@click.option("-p", "--port", type=click.IntRange(0, 65535), metavar="PORT", default=8000,
              show_default=True,
              help="Port on 127.0.0.1; 0 picks a free one (printed).")
@click.option("-o", "--output", type=click.Path(path_type=Path, file_okay=False), metavar="DIR",
              default=None,
              help="Site folder to build into (default: a temporary folder, removed at exit).")
@_handle_errors
def serve(workspace: Path, port: int, output: Path | None) -> None:
    """Preview the site on http://127.0.0.1:PORT/, rebuilding whenever a manifest, asset
    or theme file changes.

    Errors are printed and the last good site stays served. Stop with Ctrl-C.
    """
    from .serve import run_preview

    run_preview(workspace, port, output, lambda line: click.echo(line))


@click.command(short_help="Build the site and publish it to a Pages branch.")
@WORKSPACE_ARG
@click.option("--remote", metavar="NAME", default="origin", show_default=True,
              help="Git remote to push the site to.")
@click.option("--branch", metavar="NAME", default="gh-pages", show_default=True,
              help="Branch that holds the published site.")
@click.option("--allow-dirty", is_flag=True,
              help="Publish even though the workspace has uncommitted changes.")
@click.option("-m", "--message", metavar="TEXT", default=None,
              help="Commit message for the site (default names the source commit).")
@click.option("--strict-provenance", is_flag=True,
              help="Treat unknown signers, missing credentials and tampered assets as errors.")
@_handle_errors
def deploy(workspace: Path, remote: str, branch: str, allow_dirty: bool, message: str | None,
           strict_provenance: bool) -> None:
    """Build the site and publish it to a Pages branch of the workspace's git repository.

    The site becomes the branch's new commit (with .nojekyll) and is pushed to the remote;
    your checkout and current branch are not touched. Uncommitted changes in the
    workspace are refused; --allow-dirty publishes them anyway.
    """
    from .deploy import deploy_site

    result = deploy_site(workspace, remote=remote, branch=branch, allow_dirty=allow_dirty,
                         message=message, strict_provenance=strict_provenance)
    for problem in result.problems:
        click.echo(problem.format(), err=True)
    if result.dirty:
        click.echo(f"note: published with {len(result.dirty)} uncommitted change(s)", err=True)
    if result.unchanged:
        click.echo(f"Already published: {result.branch} on {result.remote} holds build "
                   f"{result.build_id}, the same evidence; nothing pushed "
                   f"({result.seconds:.1f} s)")
    else:
        click.echo(f"Published {result.pages} pages to {result.branch} (commit "
                   f"{result.commit[:7]}) and pushed to {result.remote} ({result.remote_url}) "
                   f"in {result.seconds:.1f} s")
    if result.site_url:
        click.echo(f"Your site: {result.site_url}")
