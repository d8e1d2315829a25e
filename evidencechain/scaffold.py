"""`evidencechain init`: write a starter workspace a newcomer can fill in.

The templates are plain files in the `scaffold/` folder beside this module (inside the
package, so they ship in the wheel); they are stored without leading dots, because dot
files are easy to lose in packaging, and renamed on the way out. The JSON Schemas are copied
into the workspace (`.evidencechain/schemas/`) so the `$schema` line of each file resolves
offline, whatever the editor and wherever evidencechain is installed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from . import __version__
from .errors import UsageError
from .manifest import CONFIG_FILE, MANIFEST_FILE, PROJECTS_DIR
from .schema import EVIDENCE_SCHEMA, WORKSPACE_SCHEMA, load_schema, schema_path
from .scoring import RUBRIC_SCHEMA

TEMPLATE_DIR = Path(__file__).parent / "scaffold"
SCHEMA_DIR = ".evidencechain/schemas"
WORKFLOW_FILE = ".github/workflows/evidence.yml"
DEFAULT_PROJECT = "my-first-project"
DEFAULT_NAME = "Your Name"


def scaffold_files(name: str = DEFAULT_NAME, project: str = DEFAULT_PROJECT) -> dict[str, str]:
    """Every file `init` writes, by path relative to the workspace, with its text."""
    _check_slug(project)
    values = {
        "@NAME@": json.dumps(name, ensure_ascii=False),  # a JSON string is valid YAML
        "@SLUG@": project,
        "@TODAY@": dt.date.today().isoformat(),
        "@VERSION@": __version__,
    }
    return {
        CONFIG_FILE: _template("evidencechain.yml", values),
        f"{PROJECTS_DIR}/{project}/{MANIFEST_FILE}": _template("evidence.yml", values),
        ".gitignore": _template("gitignore", values),
        WORKFLOW_FILE: _template("evidence-workflow.yml", values),
        f"{SCHEMA_DIR}/{WORKSPACE_SCHEMA}": schema_path(WORKSPACE_SCHEMA).read_text("utf-8"),
        f"{SCHEMA_DIR}/{EVIDENCE_SCHEMA}": schema_path(EVIDENCE_SCHEMA).read_text("utf-8"),
        # For a custom rubric file: not used by the starter, but an editor needs it there.
        f"{SCHEMA_DIR}/{RUBRIC_SCHEMA}": schema_path(RUBRIC_SCHEMA).read_text("utf-8"),
    }


def init_workspace(folder: Path, *, name: str = DEFAULT_NAME,
                   project: str = DEFAULT_PROJECT) -> list[Path]:
    """Write a starter workspace into `folder`; the paths written, in order.

    Refuses (UsageError, before writing anything) when any of the files already exists:
    `init` never overwrites a candidate's work.
    """
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: exists and is not a folder")
    files = scaffold_files(name, project)
    existing = [folder / rel for rel in files if (folder / rel).exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]} already exists{more}; init never overwrites files: "
                         "choose an empty folder or move them away")
    written = []
    for rel, text in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def _template(name: str, values: dict[str, str]) -> str:
    text = (TEMPLATE_DIR / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _check_slug(slug: str) -> None:
    pattern = load_schema(EVIDENCE_SCHEMA)["properties"]["slug"]["pattern"]
    if not re.match(pattern, slug):
        raise UsageError(f"'{slug}' is not a valid project slug: use lowercase letters, "
                         "digits and dashes, starting with a letter or digit")
