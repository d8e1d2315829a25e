"""Data flows one way: a stage never imports a later one (docs/architecture.md)."""

from __future__ import annotations

import ast

from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "evidencechain"
STAGES = [
    ("foundation", {"__init__", "errors", "problems", "yamlsource", "cache"}),
    ("manifest", {"schema", "model", "manifest"}),
    ("chain", {"chain", "audit", "history"}),
    ("provenance", {"provenance", "verification", "crosscheck", "signing", "testca",
                    "reproduce"}),
    ("assets", {"assets"}),
    ("site", {"sanitize", "pages", "site", "scoring", "scoresheet", "evidence_json",
              "blind"}),
    ("cli", {"check", "build", "scaffold", "serve", "deploy", "cli", "reference", "clidocs",
             "cli_provenance", "cli_publish", "cli_reproduce", "cli_review"}),
]
RANK = {module: rank for rank, (_, modules) in enumerate(STAGES) for module in modules}


def _modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def _imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("evidencechain."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("evidencechain."))
    return found & set(_modules())


def test_every_module_has_a_stage():
    assert [m for m in _modules() if m not in RANK] == []


def test_no_stage_imports_a_later_one():
    upward = [f"{module} ({STAGES[RANK[module]][0]}) imports {dep} ({STAGES[RANK[dep]][0]})"
              for module in _modules() if module in RANK
              for dep in _imports(module) if dep in RANK and RANK[dep] > RANK[module]]
    assert upward == []


def test_heavy_dependencies_have_one_adapter_each():
    adapters = {"c2pa": {"provenance"}, "PIL": {"assets"}, "git": {"history"},
                "mkdocs": {"site"}}
    for library, allowed in adapters.items():
        users = set()
        for module in _modules():
            tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) and
                         node.level == 0 else [])
                if any(n == library or n.startswith(library + ".") for n in names):
                    users.add(module)
        assert users <= allowed, (library, users)
