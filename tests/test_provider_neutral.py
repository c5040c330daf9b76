"""Generic code names no provider: a provider is its package plus one registry line.

"Generic" is the code of services/runtime, services/crud, the CLI, migrate, ``twoway dev``, the
gateway, the repair and ops commands, and shared/; comments and docstrings may name providers
(as examples), the code may not. The registered providers' names are what is looked for, so a
provider added later is held to it too.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

from services.runtime.providers import provider_names

ROOT = Path(__file__).resolve().parents[1]
GENERIC = (
    "services/runtime",
    "services/crud",
    "services/repair",
    "services/ops",
    "services/webhook_gateway",
    "services/dev",
    "services/cli.py",
    "services/migrate.py",
    "shared",
)


def prose_lines(source: str) -> set[int]:
    """Lines of docstrings (any string standing alone as a statement)."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        alone = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        if alone and isinstance(node.value.value, str) and node.end_lineno is not None:
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def named_providers(path: Path, pattern: re.Pattern[str]) -> list[str]:
    source = path.read_text()
    prose = prose_lines(source)
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT or token.start[0] in prose:
            continue
        if pattern.search(token.string):
            found.append(f"{path.name}:{token.start[0]}: {token.string[:60]}")
    return found


def test_no_generic_module_names_a_provider() -> None:
    names = provider_names()
    assert len(names) >= 2
    pattern = re.compile("|".join(re.escape(n) for n in names), re.IGNORECASE)
    files: list[Path] = []
    for part in GENERIC:
        path = ROOT / part
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    assert len(files) > 100
    found = [
        f"{path.parent.relative_to(ROOT)}/{hit}"
        for path in files
        for hit in named_providers(path, pattern)
    ]
    assert found == []


def test_the_check_finds_a_provider_named_in_code(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('"""About Stripe."""\n# stripe here\nQUEUE = "twoway.stripe_sync"\n')
    hits = named_providers(module.resolve(), re.compile("stripe", re.IGNORECASE))
    assert [h.split(":")[1] for h in hits] == ["3"]
