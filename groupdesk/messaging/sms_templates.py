"""The SMS template registry (sms_templates.yaml beside the playbooks): each distinct text a domestic
provider must approve, in that provider's syntax, with the code it approved and its review status.

The Jinja2 templates stay the source of truth; the registry only says which approved template sends
each of them. Identical texts (the deadline reminders of several playbooks) share one entry; a drill's
text, which starts （演练）, is an entry of its own.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import LEAD_COMPLAINANT
from groupdesk.messaging.routes import TEMPLATE_PROVIDERS
from groupdesk.messaging.template_text import NotExpressible, Shape, shape_of
from groupdesk.playbooks import textfiles
from groupdesk.playbooks.textfiles import SAFE_DUMPER, SAFE_LOADER

REGISTRY_FILE = "sms_templates.yaml"
# groupdesk's own messages the lead complainant may read (with their status link)
COMPLAINANT_OWN = ("tell_progress", "tell_delay", "tell_visit", "tell_custom", "tell_link", "kept", "changed",
                   "time_changed")
ANSWER_PREFIX = "groupdesk/answer_"  # the answers to replies: sent on their own, never in a drill
STATUSES = ("approved", "reviewing", "rejected", "unregistered")
MAX_BYTES = 4 * 1024 * 1024
HEADER = """\
# groupdesk's SMS templates as Aliyun and Tencent Cloud must approve them (README: SMS through Aliyun and
# Tencent Cloud). One entry per distinct text in the provider's syntax: Aliyun ${name}, Tencent {1}, {2}...
# Written by `groupdesk sms templates sync|submit --provider ...`; `code` and `status` come from the provider.
# status: approved | reviewing | rejected | unregistered (not filed yet: `groupdesk sms templates submit`)
"""


class RegistryError(ValueError):
    """The registry file cannot be read; the message names the file and the fix."""


@dataclass
class Entry:
    text: str
    code: str = ""
    status: str = "unregistered"
    name: str = ""  # the template name filed with the provider
    variables: list[str] = field(default_factory=list)
    used_by: list[str] = field(default_factory=list)  # playbook/template.lang, or groupdesk/<message>
    links: list[str] = field(default_factory=list)  # the variables of kind link (the complainant's status link)
    reason: str = ""  # the provider's reason for a rejection

    @property
    def approved(self) -> bool:
        return self.status == "approved" and bool(self.code)

    def as_yaml(self) -> dict:
        data = {"text": self.text, "name": self.name, "variables": self.variables, "used_by": self.used_by,
                "code": self.code, "status": self.status}
        if self.links:
            data["links"] = self.links
        if self.reason:
            data["reason"] = self.reason
        return data


@dataclass
class Registry:
    path: Path
    entries: dict[str, dict[str, Entry]]  # provider -> text -> entry

    @classmethod
    def load(cls, path: Path) -> "Registry":
        path = Path(path)
        if not path.exists():
            return cls(path, {p: {} for p in TEMPLATE_PROVIDERS})
        return cls.parse(path, _text(path))

    @classmethod
    def parse(cls, path: Path, text: str) -> "Registry":
        """The registry in `text`, read from `path`."""
        try:
            raw = yaml.load(text, Loader=SAFE_LOADER) or {}
        except yaml.YAMLError as exc:
            raise _unreadable(path, exc) from None
        if not isinstance(raw, dict):
            raise RegistryError(f"{path}: a mapping of provider -> list of templates is expected")
        entries: dict[str, dict[str, Entry]] = {p: {} for p in TEMPLATE_PROVIDERS}
        for provider, items in raw.items():
            if provider not in TEMPLATE_PROVIDERS or not isinstance(items, list):
                raise RegistryError(f"{path}: {str(provider)[:20]!r} is not a list under aliyun or tencent")
            for n, item in enumerate(items, 1):
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise RegistryError(f"{path}: {provider} item {n} has no text")
                status = str(item.get("status") or "unregistered")
                if status not in STATUSES:
                    raise RegistryError(f"{path}: {provider} item {n}: status {status[:20]!r} is not one of"
                                        f" {', '.join(STATUSES)}")
                entries[provider][item["text"]] = Entry(
                    text=item["text"], code=str(item.get("code") or ""), status=status,
                    name=str(item.get("name") or ""), variables=[str(v) for v in item.get("variables") or []],
                    used_by=[str(u) for u in item.get("used_by") or []], reason=str(item.get("reason") or ""),
                    links=[str(v) for v in item.get("links") or []])
        return cls(path, entries)

    def get(self, provider: str, text: str) -> Entry | None:
        return self.entries.get(provider, {}).get(text)

    def save(self) -> None:
        """Written whole to a temporary file and moved into place: a reader never sees half a file."""
        data = {p: [e.as_yaml() for e in self.entries[p].values()] for p in TEMPLATE_PROVIDERS if self.entries[p]}
        body = HEADER + yaml.dump(data, Dumper=SAFE_DUMPER, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=None)
        draft = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        draft.write_text(body, encoding="utf-8")
        os.replace(draft, self.path)


def _text(path: Path) -> str:
    """The registry file's text, or its one line: too large, unreadable, not UTF-8."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RegistryError(f"{path}: larger than {MAX_BYTES // 1024 // 1024} MiB; it lists templates only")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> RegistryError:
    return RegistryError(f"{path} cannot be read ({type(exc).__name__}); restore it from git or run"
                         " `groupdesk sms templates sync --provider ...` to write it again")


def registry_for(playbooks_dir: Path) -> Registry:
    """The registry read now, to change and save (a sync); to read only, `cached_registry`."""
    return Registry.load(Path(playbooks_dir) / REGISTRY_FILE)


_cache: dict[Path, tuple[tuple[int, int, int, int] | None, Registry]] = {}
_by_content: dict[bytes, Registry] = {}  # the last few texts parsed, by digest


def cached_registry(playbooks_dir: Path) -> Registry:
    """The registry as the file is now, to read only: parsed again only when the file changed (a sync while the
    worker runs replaces it, so its inode changes too) into a text not parsed lately (a sync that changed nothing,
    a copy of the playbooks). Reading its 1,024 entries costs ~0.2 CPU-s, once per send, per start check and per
    settings check before this cache."""
    path = Path(playbooks_dir) / REGISTRY_FILE
    stamp = textfiles.stamp(path)  # None: no file yet (an empty registry), or one that load() names
    hit = _cache.get(path)
    if hit is None or hit[0] != stamp:
        if hit is None:
            _bounded(_cache)  # a process reads one or two; a test process reads many
        hit = _cache[path] = (stamp, _read_only(path) if stamp else Registry.load(path))
    return hit[1]


def _read_only(path: Path) -> Registry:
    """The registry in the file, its entries shared with the last one read from the same text."""
    text = _text(path)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
    if (same := _by_content.get(digest)) is None:
        _bounded(_by_content)
        same = _by_content[digest] = Registry.parse(path, text)
    return Registry(path, same.entries)


def _bounded(cache: dict) -> None:
    if len(cache) >= 8:
        cache.pop(next(iter(cache)))


COMPLAINANT = " (complainant)"  # a label's suffix: the text as the lead complainant reads it, with their link


def playbook_sources(pb: Playbook) -> dict[str, str]:
    """Every template of the playbook, by `playbook/name.lang`; those the lead complainant reads also with their
    status link (`… (complainant)`)."""
    found = {f"{pb.id}/{name}.{lang}": source for name, langs in sorted(pb.templates.items())
             for lang, source in sorted(langs.items())}
    return found | with_link({f"{pb.id}/{name}.{lang}": source for name in sorted(complainant_templates(pb))
                              for lang, source in sorted(pb.templates.get(name, {}).items())})


def complainant_templates(pb: Playbook) -> set[str]:
    """The names of the templates the lead complainant reads: where they are notified, their audience's own."""
    found: set[str] = set()

    def reads(notify, template, audiences=None) -> None:
        if LEAD_COMPLAINANT in (notify or []):
            name = (audiences or {}).get(LEAD_COMPLAINANT) or template
            if name:
                found.add(name)

    for step in pb.steps.values():
        reads(step.notify, step.template, step.audiences)
        for outcome in step.outcomes.values():
            reads(outcome.notify, outcome.template)
            if outcome.appointment is not None:
                a = outcome.appointment
                reads(a.notify, a.template, a.audiences)
        if step.follow_up is not None:
            found.add(step.follow_up.template)
    if pb.progress_reports is not None:
        reads(pb.progress_reports.notify, pb.progress_reports.template)
    return found


def with_link(sources: dict[str, str]) -> dict[str, str]:
    """The complainant's variants (their status link at the end) of these sources, by `label (complainant)`."""
    from groupdesk.messaging.status_links import complainant_source

    return {label + COMPLAINANT: complainant_source(source, label.rsplit(".", 1)[-1])
            for label, source in sources.items()}


def own_sources() -> dict[str, str]:
    """groupdesk's own words (not a playbook's): the notices of its workflow and the answers to replies."""
    from groupdesk.messaging.reply_texts import ANSWERS
    from workflows.machine import amend, corrective, lines, messages, periods as machine_periods, promises, tell

    found = {}
    for module, names in ((messages, ("REPEAT_NOTICE", "HANDOVER", "PUBLICITY_ALERT_MEDIA",
                                      "PUBLICITY_ALERT_SEEKER", "REOPENED", "TIME_CHANGED", "REGISTERED_BY_OTHER")),
                          (promises, ("REMINDER", "MISSED", "KEPT", "CHANGED")),
                          (machine_periods, ("PERIOD_START", "PERIOD_PROGRESS")),
                          (tell, ("TELL_PROGRESS", "TELL_DELAY", "TELL_VISIT", "TELL_CUSTOM", "TELL_LINK")),
                          (amend, ("HEADCOUNT_OUTSIDE",)),
                          (corrective, ("REMINDER", "MISSED", "REJECTED", "VERIFIED")),
                          (lines, ("FEEDER_WARNING",))):
        for name in names:
            prefix = "corrective_" if module is corrective else ""
            for lang, source in getattr(module, name).items():
                found[f"groupdesk/{prefix}{name.lower()}.{lang}"] = source
    found |= with_link({label: source for label, source in found.items()
                        if label.split("/", 1)[1].split(".")[0] in COMPLAINANT_OWN})
    found = {label: source for label, source in found.items()  # tell_*: only ever to the complainant
             if not (label.startswith("groupdesk/tell_") and not label.endswith(COMPLAINANT))}
    for name, langs in ANSWERS.items():
        for lang, source in langs.items():
            found[f"{ANSWER_PREFIX}{name}.{lang}"] = source
    return found


def expressibility_problems(sources: dict[str, str]) -> list[str]:
    """One line per template that no domestic provider can take, with why and the fix."""
    problems = []
    for label, source in sources.items():
        try:
            shape_of(source)
        except NotExpressible as exc:
            problems.append(f"template {label}.j2 cannot be an Aliyun or Tencent template: it {exc}")
    return problems


@dataclass
class Need:
    shape: Shape
    used_by: list[str]
    drill: bool


def needed(sources: dict[str, str], provider: str) -> dict[str, Need]:
    """Each distinct text the provider must approve for these templates (each also as a drill)."""
    found: dict[str, Need] = {}
    for label, source in sources.items():
        try:
            shape = shape_of(source)
        except NotExpressible:
            continue  # named by expressibility_problems
        for drill in ((False,) if label.startswith(ANSWER_PREFIX) else (False, True)):  # answers are never drills
            need = found.setdefault(shape.text(provider, drill), Need(shape, [], drill))
            need.used_by.append(label + (" (drill)" if drill else ""))
    return found


def coverage_problems(sources: dict[str, str], registry: Registry, providers: list[str], limit: int = 3) -> list[str]:
    """Each template text that has no approved template at a provider its messages may go to."""
    problems: list[str] = []
    for provider in providers:
        missing = [(text, need) for text, need in needed(sources, provider).items()
                   if not ((entry := registry.get(provider, text)) and entry.approved)]
        for text, need in missing[:limit]:
            entry = registry.get(provider, text)
            status = entry.status if entry else "unregistered"
            problems.append(f"template {need.used_by[0]}: no approved {provider} template for “{_short(text)}”"
                            f" ({status}); file it with `groupdesk sms templates submit --provider {provider}`,"
                            f" then `groupdesk sms templates sync --provider {provider}` once approved")
        if len(missing) > limit:
            problems.append(f"... and {len(missing) - limit} more texts without an approved {provider} template"
                            f" (`groupdesk sms templates export --provider {provider}` lists them)")
    return problems


def _short(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[:n] + "…"
