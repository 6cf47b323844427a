"""Dependencies point one way: every module of the package imports only from its own layer
or the layers below it, and packages of one layer never import each other in a circle.

The layers, lowest first (LAYERS below maps each module to one):

0. foundations: errors, io, runtime, config, checkpoint_files, kmeans (and the package's
   `__version__`)
1. data: datasets, pairs, clips, audio I/O
2. models and measurements: model (the T5 and its config), codec (the network),
   metrics, synth
3. tokens: tokenizers, codecs behind one spec, the id layout, shards, `bandmate tokenize`
4. the checkpoint bundle: weights + layout + tokenizer + sampling defaults (`checkpoint`),
   `bandmate export`
5. training and generation: train, the codec's training (`codec.train`, `codec.cli`),
   generate
6. evaluate
7. applications: demo, cli

Every import counts, also one inside a function (a lazy import is still a dependency)
or under `if TYPE_CHECKING:`.
"""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "bandmate"

# Module (or package: it covers its submodules) -> layer. The longest matching name wins.
LAYERS: dict[str, int] = {
    "bandmate": 0,  # the package itself: __version__ (its `Accompanist` is ALLOWED below)
    "bandmate.errors": 0,
    "bandmate.io": 0,
    "bandmate.runtime": 0,
    "bandmate.config": 0,
    "bandmate.checkpoint_files": 0,
    "bandmate.kmeans": 0,
    "bandmate.data": 1,
    "bandmate.model": 2,
    "bandmate.codec": 2,
    "bandmate.metrics": 2,
    "bandmate.synth": 2,
    "bandmate.tokens": 3,
    "bandmate.checkpoint": 4,
    "bandmate.export_cli": 4,
    "bandmate.train": 5,
    "bandmate.codec.train": 5,
    "bandmate.codec.cli": 5,
    "bandmate.generate": 5,
    "bandmate.evaluate": 6,
    "bandmate.demo": 7,
    "bandmate.demo_cli": 7,
    "bandmate.cli": 7,
    "bandmate.__main__": 7,
}

# (importing module, imported module) pairs that may point up, and why.
ALLOWED = {
    # `from bandmate import Accompanist`: the package's one public name, resolved lazily
    # by a module `__getattr__` when it is first used; `import bandmate` loads nothing of it.
    ("bandmate", "bandmate.generate.accompanist"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The layer of `module`: that of the longest LAYERS name equal to it or above it."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in LAYERS:
            return LAYERS[name]
    raise KeyError(f"{module}: no layer in LAYERS; add its package to the table")


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported bandmate module) of every import in the file, nested ones too.

    `from bandmate.x import y` imports module `bandmate.x.y` when that is a module, else
    `bandmate.x`; relative imports are resolved against the importing module's package.
    """
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if full in known else base))
    ours = {(line, name) for line, name in found if name.split(".")[0] == "bandmate"}
    return sorted(ours)


def package_of(module: str) -> str:
    """The top-level part a module belongs to: `bandmate.train.loop` -> `bandmate.train`."""
    return ".".join(module.split(".")[:2])


def test_every_module_has_a_layer() -> None:
    missing = []
    for module in all_modules():
        try:
            layer_of(module)
        except KeyError as error:
            missing.append(str(error))
    assert not missing, "\n".join(missing)


def test_no_module_imports_from_a_higher_layer() -> None:
    modules = all_modules()
    problems = []
    for module, path in modules.items():
        own = layer_of(module)
        for line, target in imports_of(module, path, set(modules)):
            if (module, target) in ALLOWED or layer_of(target) <= own:
                continue
            where = path.relative_to(PACKAGE.parents[1])
            problems.append(
                f"{where}:{line}: {module} (layer {own}) imports {target} "
                f"(layer {layer_of(target)})"
            )
    assert not problems, "imports from a higher layer:\n" + "\n".join(problems)


def test_no_cycle_between_packages_of_one_layer() -> None:
    """Within a layer, package A importing B and B importing A (directly or through
    others of that layer) would make them one unit in two folders."""
    modules = all_modules()
    edges: dict[str, dict[str, str]] = defaultdict(dict)  # package -> package -> example
    for module, path in modules.items():
        own = layer_of(module)
        for line, target in imports_of(module, path, set(modules)):
            source, dest = package_of(module), package_of(target)
            if source != dest and layer_of(target) == own and (module, target) not in ALLOWED:
                where = path.relative_to(PACKAGE.parents[1])
                edges[source].setdefault(dest, f"{where}:{line} imports {target}")
    cycles = []
    for start in sorted(edges):
        path = _path_back(edges, start)
        if path:
            steps = [edges[a][b] for a, b in itertools.pairwise(path)]
            cycles.append(" -> ".join(path) + "\n    " + "\n    ".join(steps))
    assert not cycles, "cycles between packages of one layer:\n" + "\n".join(cycles)


def _path_back(edges: dict[str, dict[str, str]], start: str) -> list[str]:
    """A path start -> ... -> start along `edges`, or [] when there is none."""
    stack: list[list[str]] = [[start, dest] for dest in sorted(edges[start])]
    seen: set[str] = set()
    while stack:
        path = stack.pop()
        if path[-1] == start:
            return path
        if path[-1] in seen:
            continue
        seen.add(path[-1])
        stack += [[*path, dest] for dest in sorted(edges.get(path[-1], {}))]
    return []


def test_the_table_catches_an_upward_import(tmp_path: Path) -> None:
    """The check itself: a lazy import inside a function still counts."""
    source = tmp_path / "probe.py"
    source.write_text("def f():\n    from bandmate.train.loop import train\n")
    found = imports_of("bandmate.model.probe", source, {"bandmate.train.loop"})
    assert found == [(2, "bandmate.train.loop")]
    assert layer_of("bandmate.train.loop") > layer_of("bandmate.model.probe")
