"""The simulator is a self-contained test double inside the package: pinned in both directions by its imports.

- The simulator imports nothing from ``metarr_pipeline`` outside ``metarr_pipeline.simulator`` (so it could
  leave the package, and a product change can never change what the double answers).
- The product (``metarr_pipeline`` outside the simulator, and ``dagster_project``) imports from it only the
  named entry points, from the package itself, in the named modules: the providers' session starts it
  and then talks to it through URLs like any provider; the CLI hands ``metarr simulator ...`` to it.

Tests and ``bench/`` are harnesses, not product, and may drive the double directly. The session translates
the simulator's own error into a provider error (the last test), so the product's one exception tree holds.
Imports are read with ``ast``, so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIMULATOR = "metarr_pipeline.simulator"
# product module -> the names it may import from metarr_pipeline.simulator
ENTRY_POINTS: dict[str, frozenset[str]] = {
    "metarr_pipeline.providers.session": frozenset({"start", "SimulatorError"}),
    "metarr_pipeline.cli.tools": frozenset({"run_cli"}),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(*packages: str) -> list[tuple[str, Path]]:
    return sorted((module_name(p), p) for package in packages for p in (ROOT / package).rglob("*.py"))


def imports(module: str, path: Path) -> Iterator[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import statement, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield base, alias.name, node.lineno


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_simulator_imports_nothing_from_the_product() -> None:
    found = modules("metarr_pipeline/simulator")
    assert len(found) > 10
    leaks = [f"{module}:{line} imports {target}" + (f".{name}" if name else "")
             for module, path in found for target, name, line in imports(module, path)
             if (inside(target, "metarr_pipeline") and not inside(target, SIMULATOR)) or inside(target, "dagster")]
    assert leaks == []


def test_the_product_reaches_the_simulator_only_through_its_entry_points() -> None:
    product = [(m, p) for m, p in modules("metarr_pipeline", "dagster_project") if not inside(m, SIMULATOR)]
    assert len(product) > 50
    seen: dict[str, set[str]] = {}
    wrong = []
    for module, path in product:
        for target, name, line in imports(module, path):
            where = f"{module}:{line} imports {target}" + (f".{name}" if name else "")
            if inside(target, SIMULATOR) and target != SIMULATOR:
                wrong.append(f"{where}: simulator internals")
            elif (target, name) == ("metarr_pipeline", "simulator") or (target == SIMULATOR and name is None):
                wrong.append(f"{where}: the whole simulator package, not named entry points")
            elif target == SIMULATOR and name not in ENTRY_POINTS.get(module, frozenset()):
                wrong.append(f"{where}: not an entry point for this module")
            elif target == SIMULATOR:
                seen.setdefault(module, set()).add(name)
    assert wrong == []
    assert seen == {m: set(names) for m, names in ENTRY_POINTS.items()}  # the list is current, not stale


@pytest.mark.parametrize("name", sorted(set().union(*ENTRY_POINTS.values())))
def test_every_entry_point_is_exported_by_the_simulator_package(name: str) -> None:
    import metarr_pipeline.simulator as simulator

    assert name in simulator.__all__ and getattr(simulator, name) is not None


def test_the_session_translates_the_simulators_errors_into_the_products(tmp_path: Path) -> None:
    from metarr_pipeline.config import load_settings
    from metarr_pipeline.errors import ProviderUnavailable
    from metarr_pipeline.providers.keys import ProviderKeys
    from metarr_pipeline.providers.session import open_providers

    (tmp_path / "lib").mkdir()
    cfg = tmp_path / "metarr.toml"
    cfg.write_text(f'[data]\ndir = "{tmp_path / "state"}"\n[library]\nroots = ["{tmp_path / "lib"}"]\n'
                   '[providers]\nmode = "simulator"\n', encoding="utf-8")
    settings = load_settings(cfg)
    settings.cache_dir.mkdir(parents=True)
    (settings.cache_dir / "simulator").write_text("a file where the image cache folder should be")
    with pytest.raises(ProviderUnavailable, match="cannot use image cache folder") as raised, \
            open_providers(settings, ProviderKeys()):
        pass
    assert type(raised.value.__cause__).__name__ == "SimulatorError"
