"""Load playbook YAML files with their templates and reject every mistake with its fix."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from groupdesk.core.durations import MAX_DAYS, MAX_WORKING_DAYS
from groupdesk.core.finding import REVIEW_STEP, close_step, with_review
from groupdesk.core.playbook import Playbook
from groupdesk.core.roles import LANGUAGES, RECIPIENT_IDS, ROLE_IDS, STEP_ROLE_IDS
from groupdesk.playbooks import textfiles
from groupdesk.playbooks.templating import TemplateProblem, check_template
from groupdesk.core.validation import IDENTIFIER, PLAYBOOK_ID
from groupdesk.playbooks.plan_checks import warning_plan_problems
from groupdesk.playbooks.link_checks import link_problems, missing_targets


class PlaybookError(ValueError):
    """A playbook that must not be used; the message names the file, the step and the fix."""


MAX_FILE_BYTES = 256 * 1024  # a playbook or a template; the shipped ones are a few KiB
MAX_TEMPLATE_CHARS = 2000  # an SMS template: every message carries it to the activity


def read_text(path: Path) -> str:
    """A playbook or template file as text, or PlaybookError naming the file and the fix."""
    return textfiles.read_text(path, limit=MAX_FILE_BYTES, error=PlaybookError,
                               too_large="keep a playbook file within", missing="no such playbook file")


def read_yaml(path: Path) -> object:
    return textfiles.parse_yaml(path, read_text(path), error=PlaybookError)


NOT_PLAYBOOKS = {"sms_templates.yaml", "finding_causes.yaml"}  # the SMS template registry lives beside the playbooks


def playbook_files(directory: Path) -> list[Path]:
    return sorted(p for p in Path(directory).glob("*.yaml") if p.is_file() and p.name not in NOT_PLAYBOOKS)


# Each loaded playbook with the stamps of its file and its templates' files: a start (console, CLI) picks among
# every playbook, and reading and checking them all again took ~0.16 s of CPU each time.
_loaded: dict[tuple[Path, Path], tuple[tuple, Playbook]] = {}


def _stamp(path: Path, folder: Path | None) -> tuple:
    """What a change to the playbook file or to a template in its folder changes (empty: the file is gone)."""
    own = textfiles.stamp(path)
    if own is None:
        return ()
    templates = sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in os.scandir(folder)
                       if e.name.endswith(".j2")) if folder is not None and folder.is_dir() else []
    return (own, tuple(templates))


def load_playbook(path: Path, templates_root: Path | None = None) -> Playbook:
    """The playbook in `path` with its templates, checked; loaded again only when a file of it changed."""
    path = Path(path)
    templates_root = templates_root or path.parent / "templates"
    hit = _loaded.get((path, templates_root))
    if hit is not None and hit[0] and hit[0] == _stamp(path, templates_root / hit[1].id):
        return hit[1].model_copy(deep=True)  # a copy: a caller may change what it was given
    before = _stamp(path, None), _every_template(templates_root)
    playbook = _load_playbook(path, templates_root)
    if (_stamp(path, None), _every_template(templates_root)) == before:  # nothing rewritten while it was read
        _loaded[(path, templates_root)] = (_stamp(path, templates_root / playbook.id), playbook.model_copy(deep=True))
    return playbook


def _every_template(root: Path) -> list:
    """Every template under the templates folder, with its stamp (a load compares them before and after)."""
    return sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in root.rglob("*.j2")) if root.is_dir() else []


def _load_playbook(path: Path, templates_root: Path) -> Playbook:
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise PlaybookError(f"{path}: a playbook is a YAML mapping with id, version, title, start, escalation and steps")
    try:
        playbook = Playbook.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _describe_location(err["loc"])
        raise PlaybookError(f"{path}: {loc}: {' '.join(err['msg'].removeprefix('Value error, ').split())}") from None
    playbook.templates = _read_templates(templates_root / playbook.id)
    for step_id, step in playbook.steps.items():
        if step.template is None and (step.notify or step.kind != "close"):
            step.template = step_id  # `template:` defaults to the step id
    problems = list(semantic_problems(playbook))
    if problems:
        raise PlaybookError(f"{path}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return with_review(playbook)  # finding: required adds the director's finding_review step


def load_playbooks(directory: Path) -> dict[str, Playbook]:
    found: dict[str, Playbook] = {}
    for path in playbook_files(directory):
        playbook = load_playbook(path)
        if playbook.id in found:
            raise PlaybookError(f"{path}: playbook id {playbook.id!r} is used by another file too")
        defaults = [p.id for p in found.values() if p.applies.default]
        if playbook.applies.default and defaults:
            raise PlaybookError(f"{path}: applies.default: {defaults[0]} is the default already; keep one default")
        found[playbook.id] = playbook
    for playbook in found.values():
        if missing := missing_targets(playbook, set(found)):
            raise PlaybookError(f"{directory}: playbook {playbook.id!r} hands over to {', '.join(missing)}, which is"
                                " not in this folder; add that playbook or change hand_over.playbook")
    return found


def find_playbook(directory: Path, playbook_id: str, version: int | None = None) -> Playbook:
    """The current playbook of that id, or a given version (older ones live in archive/)."""
    found: dict[int, Path] = {}
    for path in playbook_files(directory) + playbook_files(Path(directory) / "archive"):
        try:
            raw = read_yaml(path) or {}
        except PlaybookError:
            continue
        if isinstance(raw, dict) and raw.get("id") == playbook_id and isinstance(raw.get("version"), int):
            if version is None and path.parent != Path(directory):
                continue  # without a version, only the current file counts
            found[raw["version"]] = path
    if version is None and found:
        return load_playbook(found[max(found)])
    if version is not None and version in found:
        return load_playbook(found[version])
    if found or version is not None and playbook_id in set(_ids(directory)):
        raise PlaybookError(f"playbook {playbook_id!r} has no version {version}; versions: "
                            f"{', '.join(map(str, sorted(found))) or 'none'} (older ones belong in archive/)")
    known = ", ".join(sorted(_ids(directory))) or "none"
    raise PlaybookError(f"unknown playbook {playbook_id!r}; known playbooks: {known}")


def _ids(directory: Path) -> Iterator[str]:
    for path in playbook_files(directory):
        try:
            raw = read_yaml(path) or {}
        except PlaybookError:
            continue
        if isinstance(raw, dict) and "id" in raw:
            yield str(raw["id"])[:64]


def _describe_location(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if len(parts) >= 2 and parts[0] == "steps":
        return f"step {parts[1]!r}" + (f", {'.'.join(parts[2:])}" if parts[2:] else "")
    return ".".join(parts) or "playbook"


def _read_templates(folder: Path) -> dict[str, dict[str, str]]:
    templates: dict[str, dict[str, str]] = {}
    if folder.is_dir():
        for file in sorted(folder.glob("*.j2")):
            name, _, lang = file.name.removesuffix(".j2").rpartition(".")
            if name and lang in LANGUAGES:
                templates.setdefault(name, {})[lang] = read_text(file)
    return templates


def semantic_problems(pb: Playbook) -> Iterator[str]:
    """Every reference checked: steps, roles, templates (and the variables they use)."""
    steps = pb.steps

    def role(where: str, value: str, recipients: bool = False) -> Iterator[str]:
        allowed = RECIPIENT_IDS if recipients else STEP_ROLE_IDS
        if value not in allowed:
            yield f"{where}: unknown role {value!r}; use one of {', '.join(allowed)}"

    def template(where: str, name: str | None, use: str) -> Iterator[str]:
        if not name:
            yield f"{where}: no template named; add `template:` with a file in templates/{pb.id}/"
            return
        variants = pb.templates.get(name)
        if not variants:
            yield f"{where}: unknown template {name!r}; create templates/{pb.id}/{name}.zh-CN.j2 (and .en.j2)"
            return
        for lang in LANGUAGES:
            if lang not in variants:
                yield f"{where}: template {name!r} has no {lang} variant; add templates/{pb.id}/{name}.{lang}.j2"
                continue
            try:
                check_template(variants[lang], use)
            except TemplateProblem as exc:
                yield f"{where}: template {name}.{lang}.j2 {exc}"

    def audiences(where: str, chosen: dict[str, str], notify: list[str], use: str) -> Iterator[str]:
        for audience, name in chosen.items():
            if audience not in notify:
                yield (f"{where}, audiences: {audience!r} is not notified here; add it to notify or remove"
                       " its template")
            yield from template(f"{where}, audiences.{audience}", name, use)

    if not PLAYBOOK_ID.match(pb.id):
        yield f"id: {pb.id[:40]!r} is not a playbook id; use lower-case letters, digits and '-' (at most 64)"
    for sid, step in steps.items():
        if not IDENTIFIER.match(sid):
            yield f"step {sid[:40]!r}: not a step id; use lower-case letters, digits and '_' (at most 64)"
        for name in step.outcomes:
            if not IDENTIFIER.match(name):
                yield f"step {sid[:40]!r}, outcome {name[:40]!r}: not an outcome id; use lower-case letters, digits and '_'"
    for name, variants in pb.templates.items():
        for lang, source in variants.items():
            if len(source) > MAX_TEMPLATE_CHARS:
                yield (f"template {name}.{lang}.j2: {len(source):,} characters is too long for an SMS template;"
                       f" keep it within {MAX_TEMPLATE_CHARS:,}")
    yield from _span_problems(pb)
    if not pb.start:
        yield "start: name at least one step to start with"
    for sid in pb.start:
        if sid not in steps:
            yield f"start: unknown step {sid!r}; steps are {', '.join(steps)}"
    if not pb.started_by:
        yield "started_by: name the roles that may start it, e.g. [hall_lead]"
    for r in pb.started_by:
        if r not in ROLE_IDS:
            yield f"started_by: unknown role {r!r}; use one of {', '.join(ROLE_IDS)}"
    for low, high in pb.escalation.chain.items():
        yield from role("escalation.chain", low)
        yield from role("escalation.chain", high)
    if pb.escalation.grace.working_days:
        yield "escalation.grace: use clock time (e.g. 10m), not working days"
    yield from template("escalation.reminder_template", pb.escalation.reminder_template, "reminder")
    yield from template("escalation.escalation_template", pb.escalation.escalation_template, "escalation")
    if pb.progress_reports:
        for r in pb.progress_reports.notify:
            yield from role("progress_reports.notify", r, recipients=True)
        yield from template("progress_reports.template", pb.progress_reports.template, "progress_report")
        if not 1 <= pb.progress_reports.at_or_above <= 4:
            yield "progress_reports.at_or_above: give a tier from 1 (the most severe) to 4"
    yield from warning_plan_problems(pb, role, template)

    close_steps = [sid for sid, s in steps.items() if s.kind == "close"]
    if not close_steps:
        yield "steps: no step of kind close; add one so incidents can end"
    for sid, step in steps.items():
        where = f"step {sid!r}"
        yield from role(f"{where}, owner", step.owner)
        for r in step.recorded_by:
            yield from role(f"{where}, recorded_by", r)
        for r in step.notify:
            yield from role(f"{where}, notify", r, recipients=True)
        if step.notify or step.kind != "close":
            use = "approval_request" if step.kind == "approval" else ("close_notice" if step.kind == "close" else "step_started")
            yield from template(f"{where}, template", step.template, use)
            yield from audiences(where, step.audiences, step.notify, use)
        for dep in step.wait_for:
            if dep not in steps:
                yield f"{where}, wait_for: unknown step {dep!r}"
            elif not any(o.next == sid for o in steps[dep].outcomes.values()):
                yield f"{where}, wait_for: step {dep!r} has no outcome leading here; give it `next: {sid}` or drop it from wait_for"
        if step.kind == "close":
            if step.outcomes:
                yield f"{where}: a close step ends the incident and takes no outcomes; remove them"
            if step.follow_up and step.follow_up.expires_after.working_days:
                yield f"{where}, follow_up.expires_after: use clock time (e.g. 3d), not working days"
            if step.follow_up:
                yield from template(f"{where}, follow_up.template", step.follow_up.template, "follow_up")
            continue
        if step.deadline is None:
            yield f"{where}: no deadline; every step needs one, e.g. `deadline: 15m`"
        if not step.outcomes:
            yield f"{where}: no outcomes; add at least one with its `next` step"
        if step.kind == "approval" and set(step.outcomes) != {"approved", "rejected"}:
            yield f"{where}: an approval step has exactly the outcomes approved and rejected"
        yield from _refusal_reason_problems(where, step)
        for name, outcome in step.outcomes.items():
            owhere = f"{where}, outcome {name!r}"
            if outcome.stay:
                if outcome.next:
                    yield f"{owhere}: stay and next contradict each other; keep one"
            elif not outcome.next and not (outcome.hand_over and outcome.hand_over.parent == "close"):
                yield f"{owhere}: no next step; add `next: <step id>` (e.g. next: {close_steps[0] if close_steps else 'close'})"
            elif outcome.next not in steps:
                yield f"{owhere}: unknown next step {outcome.next!r}; steps are {', '.join(steps)}"
            if outcome.next_deadline is not None and (outcome.stay or steps.get(outcome.next or "") is None
                                                      or steps[outcome.next].kind == "close"):
                yield f"{owhere}, next_deadline: only an outcome that leads to a task or approval step sets its deadline"
            for r in outcome.notify:
                yield from role(f"{owhere}, notify", r, recipients=True)
            if outcome.notify:
                yield from template(f"{owhere}, template", outcome.template,
                                    "appointment_notice" if outcome.appointment else "outcome_notice")
            if outcome.set_warning_tier is not None and not 0 <= outcome.set_warning_tier <= 4:
                yield f"{owhere}: set_warning_tier must be between 0 and 4"
            if outcome.appointment:
                appt = outcome.appointment
                if appt.remind_before.working_days:
                    yield f"{owhere}, appointment.remind_before: use clock time (e.g. 1d), not working days"
                if appt.field not in outcome.requires_data:
                    yield f"{owhere}, appointment: add {appt.field!r} to requires_data so the time is always given"
                for r in appt.notify:
                    yield from role(f"{owhere}, appointment.notify", r, recipients=True)
                yield from template(f"{owhere}, appointment.template", appt.template, "appointment_reminder")
                yield from audiences(f"{owhere}, appointment", appt.audiences, appt.notify, "appointment_reminder")
    yield from _finding_problems(pb)
    yield from link_problems(pb)
    reachable = _reachable(pb)
    for sid in steps:
        if sid not in reachable:
            yield f"step {sid!r}: no path from start reaches it; link it with an outcome's next or remove it"
    yield from _registration_problems(pb)


def _finding_problems(pb: Playbook) -> Iterator[str]:
    """`finding: required` on close steps only (one of them); `finding_review` and `back` are groupdesk's own."""
    for sid, step in pb.steps.items():
        if step.finding and step.kind != "close":
            yield f"step {sid!r}, finding: only a close step requires a finding; remove it here"
        for name, outcome in step.outcomes.items():
            if outcome.back:
                yield f"step {sid!r}, outcome {name!r}, back: groupdesk's own (the finding review); remove it"
    if len([s for s in pb.steps.values() if s.finding]) > 1:
        yield "steps: only one close step may require a finding"
    if close_step(pb) and REVIEW_STEP in pb.steps:
        yield f"step {REVIEW_STEP!r}: the name is the director's finding review (added by groupdesk); rename the step"


def _registration_problems(pb: Playbook) -> Iterator[str]:
    """Extra 话术 by complainant type, and the registration fields a playbook requires, name what exists."""
    from groupdesk.core.validation import COMPLAINANT_TYPES

    for sid, step in pb.steps.items():
        for kind, by_lang in step.scripts_by_complainant_type.items():
            if kind not in COMPLAINANT_TYPES:
                yield (f"step {sid!r}, scripts_by_complainant_type: unknown type {kind[:40]!r};"
                       f" use {', '.join(COMPLAINANT_TYPES)}")
            for lang in by_lang:
                if lang not in LANGUAGES:
                    yield f"step {sid!r}, scripts_by_complainant_type.{kind}: unknown language {lang[:16]!r}"
    for name in pb.registration_requires:
        if name != "person_involved":
            yield f"registration_requires: {name[:40]!r} cannot be required; only person_involved can"


def _refusal_reason_problems(where: str, step) -> Iterator[str]:
    """What a WeCom approval card can offer: at most 10 reasons, each short enough to read (16 characters)."""
    if step.refusal_reasons and step.kind != "approval":
        yield f"{where}, refusal_reasons: only an approval step has them (the director picks one to refuse)"
    if len(step.refusal_reasons) > 10:
        yield f"{where}, refusal_reasons: {len(step.refusal_reasons)} is too many; a WeCom card offers at most 10"
    for n, reason in enumerate(step.refusal_reasons, 1):
        if not reason.get("zh-CN", "").strip():
            yield f"{where}, refusal_reasons #{n}: give its zh-CN text"
        for lang, text in reason.items():
            if len(text) > 16 and lang == "zh-CN":
                yield f"{where}, refusal_reasons #{n}: {text[:20]!r} is over 16 characters; WeCom shows no more"


def _span_problems(pb: Playbook) -> Iterator[str]:
    """Every duration within bounds, however it was written (a string, or seconds as a mapping)."""
    spans = [("escalation.grace", pb.escalation.grace)]
    for sid, step in pb.steps.items():
        spans.append((f"step {sid!r}, deadline", step.deadline))
        if step.follow_up:
            spans += [(f"step {sid!r}, follow_up.after", step.follow_up.after),
                      (f"step {sid!r}, follow_up.expires_after", step.follow_up.expires_after)]
        for name, outcome in step.outcomes.items():
            spans.append((f"step {sid!r}, outcome {name!r}, next_deadline", outcome.next_deadline))
            if outcome.appointment:
                spans.append((f"step {sid!r}, outcome {name!r}, appointment.remind_before",
                              outcome.appointment.remind_before))
    for where, span in spans:
        if span is None:
            continue
        if span.seconds < 0 or span.working_days < 0 or span.seconds > MAX_DAYS * 86400 \
                or span.working_days > MAX_WORKING_DAYS:
            yield f"{where}: {span} is out of range; keep durations above zero and within {MAX_DAYS}d ({MAX_WORKING_DAYS}wd)"


def _reachable(pb: Playbook) -> set[str]:
    seen: set[str] = set()
    todo = [s for s in pb.start if s in pb.steps]
    while todo:
        sid = todo.pop()
        if sid in seen:
            continue
        seen.add(sid)
        todo.extend(o.next for o in pb.steps[sid].outcomes.values() if o.next in pb.steps)
    return seen
