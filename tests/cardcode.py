"""The Python blocks on the cards: which run, which are only API-checked, and how to do either.

A block fenced ```` ```python ```` runs (standard library, numpy, CPU PyTorch, scikit-learn) in a
fresh process, and a ```` ```text output ```` block right after it is the stdout it must print.
A block fenced ```` ```python needs=gpu ```` (or `multi-gpu`, `network`, `weights`, `context` for
a fragment that uses names defined elsewhere, or a package name such as `transformers`) is not run:
its imports and the attribute paths it uses on imported modules are resolved against the
installed libraries instead ("API-checked"), or only parsed when the library is not installed.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass

from builder.cards import Card
from builder.check import PYTHON_LANGS, prose_only

#: What a `needs=` value may name besides a package.
NEEDS = frozenset({"gpu", "multi-gpu", "network", "weights", "context"})


@dataclass(frozen=True)
class Block:
    card: str
    field: str
    number: int  # 1-based among the card's Python blocks
    code: str
    needs: tuple[str, ...]
    expected: str | None  # the stdout a following ```text output block claims

    @property
    def name(self) -> str:
        return f"{self.card}:{self.field}:{self.number}"


def needs_of(info: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v for word in info if word.startswith("needs=") for v in word[6:].split(",") if v)


def python_blocks(cards: list[Card]) -> list[Block]:
    out = []
    for card in cards:
        number = 0
        for field in ("question", "answer", "text", "extra"):  # a cloze card's code blocks run too
            blocks = prose_only(getattr(card, field))[1]
            for i, block in enumerate(blocks):
                if block.lang not in PYTHON_LANGS:
                    continue
                number += 1
                after = blocks[i + 1] if i + 1 < len(blocks) else None
                expected = after.code if after and after.lang == "text" and "output" in after.info else None
                out.append(Block(card.id, field, number, block.code, needs_of(block.info), expected))
    return out


def normalise_output(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def run_block(code: str) -> tuple[bool, str]:
    """Execute one block as a script in an empty folder; (ok, stdout or the error)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import torch

        torch.manual_seed(0)
        torch.set_num_threads(1)
    except ImportError:
        pass
    out = io.StringIO()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, "<card>", "exec"), {"__name__": "__main__"})
        except BaseException as exc:
            return False, f"{type(exc).__name__}: {exc}\n--- stdout ---\n{out.getvalue()}"
    return True, out.getvalue()


def _imported(tree: ast.AST) -> tuple[list[tuple[str, str | None, str]], dict[str, str]]:
    """(module, name or None, bound name) per import, and bound name → dotted module path."""
    imports, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                bound = a.asname or a.name.split(".")[0]
                imports.append((a.name, None, bound))
                aliases[bound] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                imports.append((node.module, a.name, a.asname or a.name))
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return imports, aliases


def _resolve(path: str):
    """The object at a dotted path, importing submodules as needed; raises AttributeError/ImportError."""
    parts = path.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def api_check(code: str, needs: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """('checked' | 'parsed', problems): imports and module attribute paths resolved where installed."""
    tree = ast.parse(code)
    imports, aliases = _imported(tree)
    tops = {module.split(".")[0] for module, _name, _bound in imports}
    installed = {top for top in tops if importlib.util.find_spec(top) is not None}
    problems = []
    for module, name, _bound in imports:
        if module.split(".")[0] not in installed:
            continue
        try:
            _resolve(f"{module}.{name}" if name and name != "*" else module)
        except (ImportError, AttributeError) as exc:
            if not _missing_dependency(exc):
                problems.append(f"import {module}{'.' + name if name else ''}: {exc}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
            continue
        chain, base = [], node
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in aliases:
            continue
        root = aliases[base.id]
        if root.split(".")[0] not in installed:
            continue
        path = ".".join([root, *reversed(chain)])
        try:
            _resolve(path)
        except (ImportError, AttributeError) as exc:
            if not _missing_dependency(exc):
                problems.append(f"{path}: {exc}")
    return check_status(code, needs), sorted(set(problems))


def _missing_dependency(exc: BaseException) -> bool:
    """An import failed because a library that is not installed here is needed (torch.utils.tensorboard
    without tensorboard): the path cannot be checked here, which is not the card's fault."""
    name = getattr(exc, "name", None) or ""
    return isinstance(exc, ModuleNotFoundError) and importlib.util.find_spec(name.split(".")[0]) is None


def check_status(code: str, needs: tuple[str, ...] = ()) -> str:
    """'checked' when every third-party library the block imports or names in `needs=` is installed
    here, else 'parsed'."""
    tops = {module.split(".")[0] for module, _name, _bound in _imported(ast.parse(code))[0]} - sys.stdlib_module_names
    tops |= {need for need in needs if need not in NEEDS}
    return "checked" if all(importlib.util.find_spec(top) is not None for top in tops) else "parsed"


def expected_matches(block: Block, stdout: str) -> bool:
    if block.expected is None:
        return True
    want = normalise_output(block.expected)
    got = normalise_output(stdout)
    # `...` in a claimed output stands for any text on that line (timings, addresses).
    pattern = "\n".join(re.escape(line).replace(re.escape("..."), ".*") for line in want.splitlines())
    return re.fullmatch(pattern, got) is not None


def main() -> None:
    """Print how many blocks run and how many are only checked (the numbers the README quotes)."""
    from pathlib import Path

    from builder.cards import load_collection
    from builder.config import load_config

    blocks = python_blocks(load_collection(load_config(Path(__file__).resolve().parent.parent)).cards)
    checked = [check_status(b.code, b.needs) for b in blocks if b.needs]
    print(
        f"{len(blocks)} Python blocks: {len(blocks) - len(checked)} run, "
        f"{checked.count('checked')} API-checked, {checked.count('parsed')} only parsed"
    )


if __name__ == "__main__":
    main()
