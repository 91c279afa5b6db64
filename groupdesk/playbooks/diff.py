"""What changed between two versions of a playbook, in words ops can read."""

from __future__ import annotations

import difflib
from typing import Any

from groupdesk.core.playbook import Playbook


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: value}


def _show(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"seconds", "working_days"}:
        return f"{value['working_days']}wd" if value.get("working_days") else f"{value.get('seconds', 0)}s"
    return repr(value)


def diff_playbooks(old: Playbook, new: Playbook) -> list[str]:
    lines = [f"{old.id} v{old.version} -> {new.id} v{new.version}"]
    if old.id != new.id:
        lines.append(f"  id changed: {old.id} -> {new.id}")
    for sid in old.steps.keys() - new.steps.keys():
        lines.append(f"  step removed: {sid}")
    for sid in new.steps.keys() - old.steps.keys():
        lines.append(f"  step added: {sid}")
    for sid in [s for s in old.steps if s in new.steps]:
        a = _flat(old.steps[sid].model_dump(mode="json"))
        b = _flat(new.steps[sid].model_dump(mode="json"))
        for key in sorted(a.keys() | b.keys()):
            if key.endswith((".seconds", ".working_days")):
                continue
            if a.get(key) != b.get(key):
                lines.append(f"  step {sid}: {key}: {_show(a.get(key))} -> {_show(b.get(key))}")
        for span in ("deadline",):
            if old.steps[sid].deadline != new.steps[sid].deadline:
                lines.append(f"  step {sid}: {span}: {old.steps[sid].deadline} -> {new.steps[sid].deadline}")
    for part in ("start", "escalation", "progress_reports", "title"):
        a, b = getattr(old, part), getattr(new, part)
        dump = (lambda v: v.model_dump(mode="json") if hasattr(v, "model_dump") else v)
        if dump(a) != dump(b):
            lines.append(f"  {part}: {dump(a)} -> {dump(b)}")
    for name in sorted(old.templates.keys() | new.templates.keys()):
        for lang in sorted(set(old.templates.get(name, {})) | set(new.templates.get(name, {}))):
            a = old.templates.get(name, {}).get(lang, "")
            b = new.templates.get(name, {}).get(lang, "")
            if a != b:
                lines.append(f"  template {name}.{lang}:")
                lines += ["    " + line for line in difflib.unified_diff(
                    a.splitlines(), b.splitlines(), lineterm="", n=0) if not line.startswith(("---", "+++"))]
    if len(lines) == 1:
        lines.append("  no differences")
    return lines
