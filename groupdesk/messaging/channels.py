"""The configured providers behind one interface: each recipient's number picks its provider by
GROUPDESK_SMS_ROUTES, and a missing or inconsistent setting of any provider in use is named at start."""

from __future__ import annotations

from dataclasses import dataclass, field

from groupdesk.messaging.routes import Routes, RoutesError, parse_routes

WEBHOOK_TOKEN_MIN = 32


@dataclass
class Channels:
    """The providers in use, by name, and the routes that choose among them."""
    routes: Routes
    providers: dict[str, object] = field(default_factory=dict)

    @classmethod
    def single(cls, provider) -> "Channels":
        """One provider for every number (tests, and GROUPDESK_SMS_PROVIDER without routes)."""
        return cls(Routes(default=provider.name), {provider.name: provider})

    def for_number(self, number: str):
        return self.providers[self.routes.provider_for(number)]

    def named(self, name: str):
        """The provider a stored message names (its route when it was stored), or None if no longer in use."""
        return self.providers.get(name)


def routes_of(settings) -> Routes:
    return parse_routes(settings.sms_routes, settings.sms_provider)


def build(settings, name: str):
    """One provider from the settings (ProviderSettingsError / TwilioSettingsError naming the variable)."""
    from groupdesk.messaging.provider import make_provider

    return make_provider(settings, name)


def make_channels(settings) -> Channels:
    """Every provider the routes use, built (the first bad setting raises, naming its variable)."""
    routes = routes_of(settings)
    return Channels(routes, {name: build(settings, name) for name in routes.providers()})


def settings_problems(settings) -> list[str]:
    """One line per missing or inconsistent setting of the providers in use (every process checks these)."""
    from groupdesk.messaging.domestic import ProviderSettingsError
    from groupdesk.messaging.twilio import TwilioSettingsError

    try:
        routes = routes_of(settings)
    except RoutesError as exc:
        return [str(exc)]
    found = []
    for name in routes.providers():
        try:
            build(settings, name)
        except (ProviderSettingsError, TwilioSettingsError) as exc:
            found.append(str(exc))
    token = settings.webhook_token
    if token and (len(token) < WEBHOOK_TOKEN_MIN or not token.replace("-", "").replace("_", "").isalnum()):
        found.append(f"GROUPDESK_WEBHOOK_TOKEN must be at least {WEBHOOK_TOKEN_MIN} letters, digits, - or _ (it is"
                     " part of the addresses Aliyun and Tencent Cloud post to); make one with"
                     " python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return found


def production_problems(settings) -> list[str]:
    """What production (not `groupdesk dev`) needs beyond that: the push addresses' secret token."""
    try:
        domestic = routes_of(settings).template_providers()
    except RoutesError:
        return []
    if domestic and not settings.webhook_token:
        return [f"GROUPDESK_WEBHOOK_TOKEN is not set: with {' and '.join(domestic)} sending, delivery reports and"
                " replies arrive at /aliyun/<token>/... and /tencent/<token>/..., unsigned; set it to a random"
                " value of 32+ characters (python -c 'import secrets; print(secrets.token_urlsafe(32))')"]
    return []


def template_problems(settings) -> list[str]:
    """Every current playbook, and groupdesk's own messages, against the template registry, for each
    domestic provider the routes use: a text that cannot be a template, or has no approved code."""
    from groupdesk.messaging.sms_templates import (
        RegistryError, cached_registry, coverage_problems, expressibility_problems, own_sources, playbook_sources,
    )
    from groupdesk.playbooks.loader import PlaybookError, load_playbook, playbook_files

    try:
        providers = routes_of(settings).template_providers()
    except RoutesError:
        return []
    if not providers:
        return []
    sources = own_sources()
    for path in playbook_files(settings.playbooks_dir):
        try:
            sources.update(playbook_sources(load_playbook(path)))
        except PlaybookError:
            continue  # `groupdesk playbooks validate` names it; it cannot be started anyway
    try:
        registry = cached_registry(settings.playbooks_dir)
    except RegistryError as exc:
        return [str(exc)]
    return expressibility_problems(sources)[:5] + coverage_problems(sources, registry, providers)


def sms_refusal(settings, playbook) -> str | None:
    """Why this playbook may not start: a template of it that a domestic provider its messages may go to
    cannot take, or has not approved (one line naming the template and the provider), else None."""
    from groupdesk.messaging.sms_templates import (
        RegistryError, cached_registry, coverage_problems, expressibility_problems, playbook_sources,
    )

    try:
        providers = routes_of(settings).template_providers()
    except RoutesError as exc:
        return str(exc)
    if not providers:
        return None
    sources = playbook_sources(playbook)
    try:
        problems = expressibility_problems(sources) or coverage_problems(
            sources, cached_registry(settings.playbooks_dir), providers, limit=1)
    except RegistryError as exc:
        return str(exc)
    return f"playbook {playbook.id} cannot start: {problems[0]}" if problems else None
