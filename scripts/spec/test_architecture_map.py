"""docs/architecture.md stays the map of the whole house, and the README its front door.

- Every source module is named in docs/architecture.md by its repository path in backticks:
  each ``*.rs`` under litmus-core/src, litmus-py/src, litmus-wasm/src and litmus-server/src
  (a ``mod.rs``, ``lib.rs`` or ``main.rs`` may be covered by its folder instead), each ``.py``
  under litmus-py/python/litmus, each ``.mjs``/``.js`` under litmus-wasm/js and
  litmus-server/dashboard. Paths it names that no longer exist are reported too.
- docs/architecture.md links only inside the repository.
- README.md links docs/architecture.md before any other document, links every file under docs/,
  and every relative link in it resolves.
- The npm package's version (litmus-wasm/package.json) is Cargo's workspace version.
"""

from __future__ import annotations

import json
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]
MAP = "docs/architecture.md"

# (folder, file suffixes) whose every file is a source module the map must name.
SOURCES = [
    ("litmus-core/src", (".rs",)),
    ("litmus-py/src", (".rs",)),
    ("litmus-wasm/src", (".rs",)),
    ("litmus-server/src", (".rs",)),
    ("litmus-py/python/litmus", (".py",)),
    ("litmus-wasm/js", (".mjs", ".js")),
    ("litmus-server/dashboard", (".mjs", ".js")),
]
# A crate's or folder's root module may be named by its folder.
FOLDER_MODULES = {"mod.rs", "lib.rs", "main.rs"}

BACKTICKED = re.compile(r"`([^`\n]+)`")
# Markdown links: [text](target) and reference definitions "[name]: target".
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)", re.M)


def read(relative: str) -> str:
    """A repository file's text."""
    return (REPO / relative).read_text(encoding="utf-8")


def source_modules() -> list[str]:
    """Every source module's repository path, sorted."""
    found = []
    for folder, suffixes in SOURCES:
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and path.suffix in suffixes and "__pycache__" not in path.parts:
                found.append(path.relative_to(REPO).as_posix())
    return sorted(found)


def named_paths(text: str) -> set[str]:
    """The backticked spans of ``text``, with a trailing ``/`` also accepted for folders."""
    names = set()
    for span in BACKTICKED.findall(text):
        span = span.strip()
        names.add(span)
        names.add(span.rstrip("/"))
    return names


def covered(module: str, names: set[str]) -> bool:
    """Whether the map names ``module``, or the folder of a ``mod.rs``/``lib.rs``/``main.rs``."""
    if module in names:
        return True
    folder, _, file = module.rpartition("/")
    return file in FOLDER_MODULES and folder in names


def links(text: str) -> list[str]:
    """Link targets in document order, without their #fragment (pure fragments dropped)."""
    out = []
    for m in LINK.finditer(text):
        target = (m.group(1) or m.group(2) or "").split("#", 1)[0]
        if target:
            out.append(target)
    return out


def is_external(target: str) -> bool:
    """Whether a link target leaves the repository (a URL scheme or a protocol-relative URL)."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target)) or target.startswith("//")


def test_every_source_module_is_on_the_map() -> None:
    modules = source_modules()
    assert len(modules) > 100, f"found only {len(modules)} source modules: is the layout still {SOURCES}?"
    names = named_paths(read(MAP))
    missing = [m for m in modules if not covered(m, names)]
    assert not missing, (
        f"add these to {MAP} (the module list, one line each on what the module owns; "
        f"name each by its repository path in backticks):\n  " + "\n  ".join(missing)
    )


def test_the_map_names_no_module_that_is_gone() -> None:
    modules = set(source_modules())
    roots = tuple(folder + "/" for folder, _ in SOURCES)
    suffixes = tuple(s for _, group in SOURCES for s in group)
    stale = sorted(
        name
        for name in named_paths(read(MAP))
        if name.startswith(roots) and name.endswith(suffixes) and name not in modules
    )
    assert not stale, f"{MAP} names modules that do not exist (renamed or removed?): " + ", ".join(stale)


def test_the_map_links_only_inside_the_repository() -> None:
    bad = []
    for target in links(read(MAP)):
        resolved = (REPO / "docs" / target).resolve()
        if is_external(target) or REPO not in resolved.parents or not resolved.exists():
            bad.append(target)
    assert not bad, f"{MAP} links outside the repository or to missing files: " + ", ".join(bad)


def test_readme_links_the_map_first_and_every_doc() -> None:
    readme = read("README.md")
    targets = [t for t in links(readme) if not is_external(t)]
    docs = [t for t in targets if t.startswith("docs/") or t.endswith(".md")]
    assert docs, "README.md links no document"
    assert docs[0] == MAP, f"README.md must link {MAP} before any other document; its first is {docs[0]}"
    linked = {t.rstrip("/") for t in targets}
    every_doc = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "docs").rglob("*") if p.is_file())
    missing = [d for d in every_doc if d not in linked]
    assert not missing, "link these from README.md (as [text](path)):\n  " + "\n  ".join(missing)
    broken = sorted({t for t in targets if not (REPO / t).exists()})
    assert not broken, "README.md links files that do not exist: " + ", ".join(broken)


def test_the_npm_version_follows_cargo() -> None:
    cargo = read("Cargo.toml")
    section = cargo.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^version\s*=\s*"([^"]+)"', section, re.M)
    assert match, "no version in Cargo.toml [workspace.package]"
    npm = json.loads(read("litmus-wasm/package.json"))["version"]
    assert npm == match.group(1), (
        f'litmus-wasm/package.json has "version": "{npm}"; versions come from Cargo only: '
        f'set it to "{match.group(1)}" (scripts/wasm/build-package.sh refuses a mismatch too)'
    )
