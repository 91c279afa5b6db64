"""The incident page's finding section (有效投诉的认定): what it shows, and the form for whoever may record it."""

from __future__ import annotations

from groupdesk.people.permissions import Viewer


def panel(settings, directory, viewer: Viewer, state, playbook, lang: str) -> dict:
    """What the incident page's finding section shows and offers (the form: the owner, the hall lead or the
    director, while the finding may still change)."""
    from groupdesk.core.finding import REVIEW_STEP, close_step
    from groupdesk.playbooks.causes import cause_label, load_causes
    from groupdesk.web.labels import hall_name, person_name

    causes = load_causes(settings.playbooks_dir)
    f = state.finding
    review = state.steps.get(REVIEW_STEP)
    may_record = (state.status == "open" and state.follow_up is None and viewer.id != state.registration.person_involved
                  and not (review and review.status == "active") and viewer.may_tell(state))
    units = [{"id": h.id, "name": hall_name(directory, h.id, lang)} for h in directory.halls] + \
        [{"id": u.id, "name": (u.name_en or u.name) if lang == "en" else u.name} for u in directory.units]
    hall_staff = {s.id for role, staff in directory.roster(state.hall_id).items() if role != "ops" for s in staff}
    unit_name = next((u["name"] for u in units if f and u["id"] == f.responsible_unit), f.responsible_unit if f else "")
    return {"finding": {
        "required": close_step(playbook) is not None and not state.drill, "may_record": may_record,
        "causes": [{"id": c, "label": labels.get(lang) or labels["zh-CN"]} for c, labels in causes.items()],
        "cause_label": cause_label(causes, f.cause, lang) if f else "",
        "people": ", ".join(person_name(directory, p, lang) or p for p in f.responsible_people) if f else "",
        "unit_name": unit_name,
        "recorded_by": person_name(directory, f.recorded_by, lang) if f else "",
        "confirmed_by": person_name(directory, f.confirmed_by, lang) if f and f.confirmed_by else "",
        "staff": [{"id": p.id, "name": p.name} for p in directory.people if p.id in hall_staff],
        "units": units,
    }}
