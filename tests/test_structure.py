"""The tree's shape, pinned: small rooms, no import cycles, and stages that meet only through public names.

Read from the code's own imports (``ast``), nothing is run. The layering table below is the pipeline's order:
a package may import the ones it lists and nothing else of the product. A change that needs a new arrow
changes this table in the same commit, where a reviewer sees it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("metarr_pipeline", "dagster_project", "bench")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80

# Shared rooms every stage may use; they import no stage.
SHARED = {"errors", "models", "languages", "config", "art_types", "fingerprints", "metadata", "store", "redaction"}
# What each room of metarr_pipeline may import besides SHARED (the pipeline read top-down). "simulator" imports nothing.
LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "models": {"errors"},
    "languages": set(),
    "art_types": set(),
    "config": {"errors", "art_types", "languages"},
    "metadata": {"errors", "models", "languages"},
    "store": {"errors", "models", "config", "art_types", "metadata"},
    "fingerprints": {"config", "art_types", "errors"},
    "redaction": set(),
    "providers": {"simulator"},  # the embedded simulator, started through one public entry point
    "blobs": {"providers"},  # originals are fetched through the providers' session
    "scan": {"providers"},
    "artwork": {"providers", "blobs"},
    "players": set(),
    "publish": {"providers", "players", "blobs"},
    "orchestration": set(),
    "report": {"scan", "providers", "artwork", "blobs", "publish", "players", "orchestration"},
    "demo": {"scan", "providers", "artwork", "blobs", "publish", "simulator"},
    "review": {"scan", "providers", "artwork", "blobs", "publish"},  # the review web app: reads and steers them
    "cli": {"scan", "providers", "artwork", "blobs", "publish", "players", "orchestration", "report", "demo", "simulator",
            "review"},
    "simulator": set(),
}


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


MODULES = dict(_modules())


def _resolve(name: str) -> str | None:
    """The project module an imported dotted name lands in (a module, or the package that defines the name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str, path: Path) -> Iterator[tuple[str, str, int]]:
    """(imported project module, imported name or '', line) for every import, lazy ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _resolve(alias.name)
                if target:
                    yield target, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") or _resolve(base)
                if target:
                    yield target, alias.name, node.lineno


GRAPH = {m: sorted({t for t, _, _ in _imports(m, p) if t != m}) for m, p in MODULES.items()}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if parts[0] == "metarr_pipeline" and len(parts) > 1 else parts[0]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE_LINES, f"{MODULES[module].relative_to(ROOT)} has {lines} lines: split it by step"


def test_no_function_is_long() -> None:
    long = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}() {size} lines")
    assert not long, "functions to split into named steps:\n" + "\n".join(long)


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(graph.get(child, []))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert _cycles({"a": ["b"], "b": []}) == []


def test_no_import_cycle() -> None:
    assert _cycles(GRAPH) == []


def test_no_stage_imports_another_stages_private_names() -> None:
    offences = []
    for module, path in MODULES.items():
        for target, name, line in _imports(module, path):
            if _room(target) == _room(module):
                continue
            private_module = any(part.startswith("_") and part != "__init__" for part in target.split("."))
            if name.startswith("_") or private_module:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name or target} from {target}")
    assert not offences, "\n".join(offences)


def test_domain_rooms_follow_the_pipeline_layers() -> None:
    offences = []
    for module, path in MODULES.items():
        if not module.startswith("metarr_pipeline."):
            continue
        room = _room(module)
        assert room in LAYERS, f"new room {room!r}: add it to LAYERS with what it may import"
        allowed = LAYERS[room] | ({room} | (SHARED if room not in SHARED and room != "simulator" else set()))
        for target in GRAPH[module]:
            if not target.startswith("metarr_pipeline.") or _room(target) in allowed:
                continue
            offences.append(f"{path.relative_to(ROOT)}: {room} -> {_room(target)} ({target})")
    assert not offences, "imports against the layering (change LAYERS only on purpose):\n" + "\n".join(offences)


def test_the_domain_never_imports_dagster() -> None:
    for module, path in MODULES.items():
        if module.startswith("metarr_pipeline"):
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
            names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
            names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
            assert not [n for n in names if n.split(".")[0] == "dagster"], module


def test_every_package_says_what_it_is() -> None:
    for path in MODULES.values():
        if path.name == "__init__.py":
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            assert doc and len(doc.splitlines()) >= 3, f"{path.relative_to(ROOT)}: describe the package (what, where, modules)"
