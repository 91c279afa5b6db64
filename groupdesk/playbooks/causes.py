"""The causes a finding may name: playbooks/finding_causes.yaml (id -> zh-CN/en label), read like a playbook."""

from __future__ import annotations

from pathlib import Path

from groupdesk.core.roles import LANGUAGES
from groupdesk.core.validation import IDENTIFIER
from groupdesk.playbooks import textfiles

CAUSES_FILE = "finding_causes.yaml"


class CausesError(ValueError):
    """The causes file cannot be used; the message names the file, the cause and the fix."""


def load_causes(playbooks_dir: Path) -> dict[str, dict[str, str]]:
    """cause id -> {language: label}, in the file's order."""
    path = Path(playbooks_dir) / CAUSES_FILE
    raw = textfiles.parse_yaml(path, textfiles.read_text(path, limit=64 * 1024, error=CausesError,
                                                         too_large="keep it within",
                                                         missing="no causes file (copy playbooks/finding_causes.yaml)"),
                               error=CausesError)
    if not isinstance(raw, dict) or not raw:
        raise CausesError(f"{path}: list the causes as `id: {{zh-CN: label, en: label}}`")
    causes: dict[str, dict[str, str]] = {}
    for cause, labels in raw.items():
        if not isinstance(cause, str) or not IDENTIFIER.match(cause):
            raise CausesError(f"{path}: {str(cause)[:40]!r} is not a cause id; use lower-case letters, digits and '_'")
        if not isinstance(labels, dict) or any(not isinstance(labels.get(lang), str) or not labels[lang].strip()
                                               for lang in LANGUAGES):
            raise CausesError(f"{path}: cause {cause!r}: give its label in {' and '.join(LANGUAGES)}")
        causes[cause] = {lang: labels[lang] for lang in LANGUAGES}
    return causes


def current_causes() -> dict[str, dict[str, str]]:
    """The causes of this deployment's playbooks folder (GROUPDESK_PLAYBOOKS_DIR), read again when the file changes;
    an unreadable file gives none (labels then show the ids; `groupdesk finding` names the problem)."""
    import os

    from groupdesk.runtime.config import REPO_ROOT

    path = Path(os.environ.get("GROUPDESK_PLAYBOOKS_DIR") or REPO_ROOT / "playbooks") / CAUSES_FILE
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return {}
    if _cached.get(path, (None,))[0] != stamp:
        try:
            _cached[path] = (stamp, load_causes(path.parent))
        except CausesError:
            return {}
    return _cached[path][1]


_cached: dict[Path, tuple[int, dict[str, dict[str, str]]]] = {}


def cause_label(causes: dict[str, dict[str, str]], cause: str, lang: str = "zh-CN") -> str:
    return causes.get(cause, {}).get(lang) or cause
