"""Small files people write (playbooks, templates, the period calendar) read as UTF-8 text or YAML.

Every way reading can fail is one line naming the file and the fix, raised as the caller's error class.
"""

from __future__ import annotations

from pathlib import Path

import yaml


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


def parse_yaml(path: Path, text: str, *, error: type[Exception], loader: type = yaml.SafeLoader) -> object:
    """The YAML document in `text` (read from `path`), or one line with the line and column of the mistake."""
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise error(f"{path}: not valid YAML{at}: {problem}; fix the indentation or quoting there") from None
