"""Role ids shared by playbooks, the staff directory and the CLI's --as."""

from __future__ import annotations

ROLE_LABELS: dict[str, dict[str, str]] = {
    "guide": {"zh-CN": "引导员", "en": "guide"},
    "security_guard": {"zh-CN": "营业厅保安", "en": "hall security guard"},
    "security_department": {"zh-CN": "安保部", "en": "security department"},
    "counter_clerk": {"zh-CN": "营业员(受理员)", "en": "counter clerk"},
    "hall_lead": {"zh-CN": "营业厅负责人", "en": "hall lead"},
    "centre_director": {"zh-CN": "客户中心主任", "en": "customer service centre director"},
    "metering_technician": {"zh-CN": "计量专业技术人员", "en": "metering technician"},
    "metrology_bureau": {"zh-CN": "市计量监督局", "en": "city metrology supervision bureau"},
    "city_emergency_office": {"zh-CN": "市局供电服务应急办公室", "en": "city power-supply-service emergency office"},
    "emergency_leadership_office": {"zh-CN": "应急处置领导小组办公室", "en": "emergency leadership group office"},
    "publicity_office": {"zh-CN": "宣传办公室", "en": "publicity office"},
    "repair_dispatch": {"zh-CN": "供电服务指挥中心抢修调度", "en": "repair dispatch, power-supply service command centre"},
    "repair_crew": {"zh-CN": "故障抢修班组", "en": "repair crew"},
    "grid_operations": {"zh-CN": "配网运维值班", "en": "grid operations duty desk"},
}

ROLE_IDS: tuple[str, ...] = tuple(ROLE_LABELS)

# Roles held at a unit above the halls (groupdesk/people/units.py), not at a hall: they read, they do not act.
UNIT_ROLE_LABELS: dict[str, dict[str, str]] = {
    "city_service_manager": {"zh-CN": "市公司客户服务管理人员", "en": "city company service manager"},
    "province_service_manager": {"zh-CN": "省公司客户服务管理人员", "en": "provincial company service manager"},
}
UNIT_KIND_LABELS: dict[str, dict[str, str]] = {
    "province": {"zh-CN": "省公司", "en": "provincial company"}, "city": {"zh-CN": "市公司", "en": "city company"},
    "county": {"zh-CN": "县公司", "en": "county company"}, "centre": {"zh-CN": "客户服务中心", "en": "service centre"},
}

# Not a staff role: messages can also go to the lead complainant of the incident.
LEAD_COMPLAINANT = "lead_complainant"
PERSON_PREFIX = "person:"  # a recipient that is one staff member (by id), not the holders of a role
# Not a directory role either: a step's `owner: incident_owner` is whoever owns the incident now (首问负责制),
# so a counter clerk who owns a case records its steps; the machine sends its messages to that one person.
INCIDENT_OWNER = "incident_owner"
RECIPIENT_IDS: tuple[str, ...] = ROLE_IDS + (LEAD_COMPLAINANT, INCIDENT_OWNER)
STEP_ROLE_IDS: tuple[str, ...] = ROLE_IDS + (INCIDENT_OWNER,)  # a step's owner, recorded_by, the escalation chain

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")


def role_label(role: str, lang: str = "zh-CN") -> str:
    if role == LEAD_COMPLAINANT:
        return "领头投诉人" if lang == "zh-CN" else "lead complainant"
    if role.startswith(PERSON_PREFIX) or role == INCIDENT_OWNER:  # one named person: the incident's owner (首问负责人)
        return "首问负责人" if lang == "zh-CN" else "incident owner"
    return (ROLE_LABELS.get(role) or UNIT_ROLE_LABELS.get(role, {})).get(lang, role)


def with_ownership(roles, actor: str, owner: str | None) -> set[str]:
    """The roles someone acts in, with `incident_owner` when they own the incident now."""
    return set(roles) | ({INCIDENT_OWNER} if actor and owner and actor == owner else set())
