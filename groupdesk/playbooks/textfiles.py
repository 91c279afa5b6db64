"""Small files people write (playbooks, templates, the period calendar) read as UTF-8 text or YAML.

Every way reading can fail is one line naming the file and the fix, raised as the caller's error class.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

MAX_DEPTH = 32  # the shipped playbooks nest 7 levels, the directory 5
MAX_NODES = 200_000  # values after every alias is expanded: a few anchors must not become billions
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's (PyYAML's wheels carry it): ~10x faster
SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

def stamp(path: Path) -> tuple[int, int, int, int] | None:
    """What changes when a file is edited in place or replaced under its name (inode, device, mtime, size), for
    the caches that read a file again only when it changed; None when it cannot be looked at."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_dev, st.st_mtime_ns, st.st_size)


def read_text(path: Path, *, limit: int, error: type[Exception], too_large: str, missing: str) -> str:
    """The file's text; `too_large` ends the over-`limit` line (e.g. "keep a playbook file within"), `missing` is the no-file line."""
    try:
        if path.stat().st_size > limit:
            raise error(f"{path}: {path.stat().st_size:,} bytes is too large; {too_large} {limit // 1024} KiB")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror}); check the path and its permissions") from None


def parse_yaml(path: Path, text: str, *, error: type[Exception], loader: type = SAFE_LOADER) -> object:
    """The YAML document in `text` (read from `path`), or one line with the line and column of the mistake.

    Its shape is bounded before it is built: nesting (the loader recurses once per level) and the number of
    values once aliases are expanded (whoever reads the result walks every one)."""
    try:
        if problem := _shape_problem(text, loader):
            raise error(f"{path}: {problem}")
        return yaml.load(text, Loader=loader)
    except RecursionError:
        raise error(f"{path}: nested too deeply to read; keep it within {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise error(f"{path}: not valid YAML{at}: {problem}; fix the indentation or quoting there") from None


def _shape_problem(text: str, loader: type) -> str | None:
    """Too deep or too large once expanded, from the parser's events (it keeps a stack, it does not recurse)."""
    open_nodes: list[list] = []  # [anchor, values so far] of each collection still open
    sizes: dict[str, int] = {}  # values under each anchor, as an alias to it expands
    total = 0
    for event in yaml.parse(text, Loader=loader):
        grows = 0
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_nodes) >= MAX_DEPTH:
                return (f"nested more than {MAX_DEPTH} levels deep at line {event.start_mark.line + 1};"
                        " flatten it (a playbook nests about 7)")
            open_nodes.append([event.anchor, 1])
            grows = 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = open_nodes.pop()
            if anchor:
                sizes[anchor] = size
            if open_nodes:
                open_nodes[-1][1] += size
        elif isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
            grows = 1 if isinstance(event, yaml.ScalarEvent) else sizes.get(event.anchor, 1)
            if isinstance(event, yaml.ScalarEvent) and event.anchor:
                sizes[event.anchor] = 1
            if open_nodes:
                open_nodes[-1][1] += grows
        total += grows
        if total > MAX_NODES:
            return (f"holds more than {MAX_NODES:,} values once its aliases (*name) are expanded"
                    f" (line {event.start_mark.line + 1}); write the values out instead")
    return None
