"""`evidencechain init`: a workspace a newcomer can fill in, that passes `check` as created."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from conftest import REPO_ROOT, run_cli
from evidencechain.cli import main
from evidencechain.scaffold import TEMPLATE_DIR, scaffold_files
from evidencechain.schema import EVIDENCE_SCHEMA, WORKSPACE_SCHEMA, load_schema, schema_path

MANIFEST = "projects/my-first-project/evidence.yml"
WORKFLOW = ".github/workflows/evidence.yml"
# The official actions the workflow may name, at the major versions GitHub's own Pages
# starter workflows use.
REAL_ACTIONS = {"actions/checkout@v4", "actions/setup-python@v5", "actions/configure-pages@v5",
                "actions/upload-pages-artifact@v3", "actions/deploy-pages@v4"}


def test_init_writes_a_workspace_that_checks_valid(tmp_path):
    ws = tmp_path / "my-evidence"

    result = run_cli("init", ws, "--name", 'Zoë "Z" O\'Neill')

    assert result.exit_code == 0, result.output
    for rel in ("evidencechain.yml", MANIFEST, ".gitignore", WORKFLOW,
                ".evidencechain/schemas/workspace.schema.json",
                ".evidencechain/schemas/evidence.schema.json",
                ".evidencechain/schemas/rubric.schema.json"):
        assert (ws / rel).is_file(), rel
        assert f"wrote {ws / rel}" in result.output
    checked = run_cli("check", ws)
    assert checked.exit_code == 0, checked.output
    assert checked.output.splitlines()[-1] == "1 project(s), 0 error(s), 0 warning(s): valid"
    config = yaml.safe_load((ws / "evidencechain.yml").read_text(encoding="utf-8"))
    assert config["candidate"]["name"] == 'Zoë "Z" O\'Neill'


def test_the_schema_line_of_each_file_resolves_to_the_copied_schema(tmp_path):
    run_cli("init", tmp_path)

    for rel, schema in (("evidencechain.yml", WORKSPACE_SCHEMA), (MANIFEST, EVIDENCE_SCHEMA)):
        first = (tmp_path / rel).read_text(encoding="utf-8").splitlines()[0]
        match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert match, first
        target = ((tmp_path / rel).parent / match.group(1)).resolve()
        assert target == (tmp_path / ".evidencechain" / "schemas" / schema).resolve()
        assert target.read_bytes() == schema_path(schema).read_bytes()


@pytest.mark.parametrize(("template", "schema", "where"), [
    ("evidence.yml", EVIDENCE_SCHEMA, ()),
    ("evidencechain.yml", WORKSPACE_SCHEMA, ()),
    ("evidencechain.yml", WORKSPACE_SCHEMA, ("candidate",)),
    ("evidence.yml", EVIDENCE_SCHEMA, ("case_study",)),
    ("evidence.yml", EVIDENCE_SCHEMA, ("iterations", "items")),
])
def test_every_section_of_the_manifest_is_shown_in_the_scaffold(template, schema, where):
    """Each key appears, set or in a comment, so a newcomer sees what can be written."""
    node = load_schema(schema)
    for key in where:
        node = node[key] if key == "items" else node["properties"][key]
    text = (TEMPLATE_DIR / template).read_text(encoding="utf-8")
    for key in node["properties"]:
        assert re.search(rf"^[#\s-]*{key}:", text, re.MULTILINE), key


def test_init_never_overwrites_and_writes_nothing_when_refusing(tmp_path):
    (tmp_path / ".gitignore").write_text("mine\n", encoding="utf-8")

    result = run_cli("init", tmp_path)

    assert result.exit_code == 2
    assert f"{tmp_path / '.gitignore'} already exists" in result.output
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == "mine\n"
    assert not (tmp_path / "evidencechain.yml").exists()


def test_a_second_init_refuses(tmp_path):
    assert run_cli("init", tmp_path).exit_code == 0
    again = run_cli("init", tmp_path)
    assert again.exit_code == 2
    assert "evidencechain.yml already exists (and 6 more)" in again.output


def test_init_rejects_a_bad_project_slug(tmp_path):
    result = run_cli("init", tmp_path, "--project", "My Project")

    assert result.exit_code == 2
    assert "'My Project' is not a valid project slug" in result.output
    assert not any(tmp_path.iterdir())


def test_the_gitignore_keeps_built_sites_out_of_git(tmp_path):
    run_cli("init", tmp_path)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    for built in ("site/index.html", "_site/index.html", ".site.build-x1/a", "._site.old-1/a"):
        (tmp_path / built).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / built).write_text("x", encoding="utf-8")

    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=tmp_path, capture_output=True, text=True, check=True).stdout

    assert "site" not in status
    assert ".evidencechain/schemas/evidence.schema.json" in status  # editors need them


def _workflow() -> dict:
    return yaml.safe_load(scaffold_files()[WORKFLOW])


def test_the_workflow_is_valid_yaml_naming_real_pages_actions():
    flow = _workflow()
    on = flow.get("on", flow.get(True))  # YAML 1.1 reads a bare `on` key as true

    assert "push" in on
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    steps = [s for job in flow["jobs"].values() for s in job["steps"]]
    used = {s["uses"] for s in steps if "uses" in s}
    assert used == REAL_ACTIONS
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the Process history needs every commit
    upload = next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))
    deploy = flow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    assert "default_branch" in deploy["if"]
    assert upload["with"]["path"] == "_site"


def test_the_workflow_runs_real_commands_and_options():
    runs = [s["run"] for job in _workflow()["jobs"].values() for s in job["steps"] if "run" in s]
    commands = [line.split() for run in runs for line in run.splitlines()
                if line.startswith("evidencechain ")]

    assert [c[1] for c in commands] == ["check", "build"]
    for words in commands:
        assert words[1] in main.commands
        options = [w for w in words if w.startswith("-")]
        help_text = run_cli(words[1], "--help").output
        assert all(option in help_text for option in options), words
    assert "_site" in commands[-1]


def test_the_workflow_installs_this_version():
    from evidencechain import __version__

    assert _workflow()["env"]["EVIDENCECHAIN"] == f"evidencechain=={__version__}"
    assert "@VERSION@" not in scaffold_files()[WORKFLOW]


def test_the_templates_ship_in_the_wheel():
    """Hatchling packs every file inside the package folder that git does not ignore."""
    assert TEMPLATE_DIR.parent == REPO_ROOT / "evidencechain"
    templates = sorted(p.relative_to(REPO_ROOT).as_posix() for p in TEMPLATE_DIR.iterdir())
    assert templates
    ignored = subprocess.run(["git", "check-ignore", *templates], cwd=REPO_ROOT,
                             capture_output=True, text=True).stdout
    assert ignored == ""
    assert not any(name.startswith(".") for name in templates)
