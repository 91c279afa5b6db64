"""`groupdesk sms templates export|sync|submit`: the texts a domestic provider must approve, matched by
content against its template list, and the missing ones filed for review."""

from __future__ import annotations

from dataclasses import dataclass, field

from groupdesk.messaging.sms_templates import (
    Entry, Need, Registry, cached_registry, needed, own_sources, playbook_sources, registry_for,
)


def current_sources(settings) -> dict[str, str]:
    """groupdesk's own messages and every current playbook's templates (an invalid playbook is skipped:
    `groupdesk playbooks validate` names it)."""
    from groupdesk.playbooks.loader import PlaybookError, load_playbook, playbook_files

    sources = own_sources()
    for path in playbook_files(settings.playbooks_dir):
        try:
            sources.update(playbook_sources(load_playbook(path)))
        except PlaybookError:
            continue
    return sources


def _entry(text: str, need: Need, provider: str, known: Entry | None) -> Entry:
    stem = need.used_by[0].split("/", 1)[-1].removesuffix(" (drill)").replace(" (complainant)", "+link")
    entry = Entry(text=text, variables=need.shape.variables(provider), used_by=list(need.used_by),
                  links=need.shape.link_variables(provider),
                  name=(known.name if known and known.name else f"gd {stem}{' drill' if need.drill else ''}")[:30])
    if known:
        entry.code, entry.status, entry.reason = known.code, known.status, known.reason
    return entry


def export_rows(settings, provider: str) -> list[Entry]:
    """Every distinct text in the provider's syntax, with its variables, status and code (from the registry)."""
    registry = cached_registry(settings.playbooks_dir)
    return [_entry(text, need, provider, registry.get(provider, text))
            for text, need in needed(current_sources(settings), provider).items()]


@dataclass
class SyncResult:
    registry: Registry
    approved: list[Entry] = field(default_factory=list)
    reviewing: list[Entry] = field(default_factory=list)
    rejected: list[Entry] = field(default_factory=list)
    missing: list[Entry] = field(default_factory=list)  # the provider has no template with this text
    filed: list[Entry] = field(default_factory=list)


def sync(settings, provider) -> SyncResult:
    """Codes and statuses from the provider's template list, matched by content; the registry rewritten."""
    listed = {t.text.strip(): t for t in provider.list_templates()}
    registry = registry_for(settings.playbooks_dir)
    result = SyncResult(registry)
    entries: dict[str, Entry] = {}
    for text, need in needed(current_sources(settings), provider.name).items():
        entry = _entry(text, need, provider.name, None)
        found = listed.get(text)
        if found is not None:
            entry.code, entry.status, entry.name, entry.reason = found.code, found.status, found.name[:30], found.reason
        entries[text] = entry
        {"approved": result.approved, "reviewing": result.reviewing, "rejected": result.rejected}.get(
            entry.status if found else "", result.missing).append(entry)
    registry.entries[provider.name] = entries
    registry.save()
    return result


def submit(settings, provider) -> SyncResult:
    """File every text the provider does not have yet (after a sync, so nothing is filed twice)."""
    result = sync(settings, provider)
    for entry in result.missing:
        remark = "groupdesk (集体投诉处置) notification: " + ", ".join(entry.used_by)
        if entry.links:  # declared with the template: the complainant's status page, our own domain
            remark += "; link variables (链接变量): " + ", ".join(entry.links)
        entry.code = provider.submit_template(entry.name, entry.text, remark)
        entry.status = "reviewing"
        result.filed.append(entry)
        result.registry.save()  # after each: a failure halfway loses nothing that was filed
    return result
