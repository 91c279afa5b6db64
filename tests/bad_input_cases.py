"""The bad-input corpus: what an attacker or a careless user sends, and how each must be refused.

Every case names its channel, what is sent, the status or exit code that counts as a clear
refusal, and a piece of text the one-line answer must contain (usually the field's name).
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

MB = 1024 * 1024
PHONE = "13800138000"
START = ["start", "--hall", "xicheng", "--headcount", "20", "--lead-name", "张建国", "--lead-phone", PHONE,
         "--summary", "电量异常"]


@dataclass
class Case:
    channel: str  # cli, api, yaml, webhook
    name: str
    send: object  # CLI args, or (method, path, kwargs) for HTTP
    expect: tuple[int, ...]  # exit codes / statuses that count as a clear refusal
    says: str = ""  # the one-line answer names this (a field, a flag, the fix)
    who: str = "sun.li"  # API: signed in as
    result: dict = field(default_factory=dict)
    location: str | None = None  # a redirect: exactly where it must send the browser


def with_option(flag: str, value: str) -> list[str]:
    args = list(START)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    return args


def cli_cases(incident: str) -> list[Case]:
    c = lambda name, args, says, codes=(2,): Case("cli", name, args, codes, says)  # noqa: E731
    out = [
        c("headcount 1 for a group playbook", with_option("--headcount", "1") + ["--playbook", "smart-meter-group-complaint"],
          "--headcount"),
        c("headcount 0", with_option("--headcount", "0"), "--headcount"),
        c("no playbook for the category", with_option("--category", "grid_construction"), "--playbook"),
        c("headcount 2^40", with_option("--headcount", str(2 ** 40)), "--headcount"),
        c("headcount negative", with_option("--headcount", "-5"), "--headcount"),
        c("headcount not a number", with_option("--headcount", "many"), "--headcount"),
        c("summary 501 chars", with_option("--summary", "电" * 501), "--summary"),
        c("summary 2 MB", with_option("--summary", "x" * (2 * MB)), "--summary"),
        c("summary empty", with_option("--summary", " "), "--summary"),
        c("summary control char", with_option("--summary", "a\x07b"), "--summary"),
        c("lead name 65 chars", with_option("--lead-name", "张" * 65), "--lead-name"),
        c("lead name two lines", with_option("--lead-name", "张\n三"), "--lead-name"),
        c("lead phone short", with_option("--lead-phone", "12"), "--lead-phone"),
        c("lead phone 10k digits", with_option("--lead-phone", "1" * 10_000), "--lead-phone"),
        c("hall unknown", with_option("--hall", "nowhere"), "--hall"),
        c("hall with quote", with_option("--hall", 'x" OR "1"="1'), "--hall"),
        c("hall 100 kB", with_option("--hall", "h" * 100_000), "--hall"),
        c("playbook path", with_option("--playbook", "../../etc/passwd"), "--playbook"),
        c("playbook unknown", with_option("--playbook", "nope"), "--playbook"),
        c("incident id traversal", with_option("--incident-id", '../../x y"z'), "--incident-id"),
        c("incident id too short", with_option("--incident-id", "ab"), "--incident-id"),
        c("incident id 200 chars", with_option("--incident-id", "a" * 200), "--incident-id"),
        c("started by a technician", with_option("--as", "feng.tao"), "--as"),
        c("started by another hall", with_option("--as", "zhou.jie"), "--as"),
        c("channel unknown", with_option("--channel", "fax"), "--channel"),
        c("12345 ticket too short", with_option("--channel", "gov_12345") + ["--ticket-no", "1234"], "--ticket-no"),
        c("list ticket with spaces", ["list", "--ticket-no", "a b"], "--ticket-no"),
        c("time scale without drill", with_option("--time-scale", "60"), "--time-scale"),
        c("time scale nan", with_option("--time-scale", "nan") + ["--drill"], "--time-scale"),
        c("time scale 1e300", with_option("--time-scale", "1e300") + ["--drill"], "--time-scale"),
        c("lead lang", with_option("--lead-lang", "fr"), "--lead-lang"),
        c("category unknown", with_option("--category", "metering"), "--category"),
        c("complainant type unknown", with_option("--complainant-type", "angry"), "--complainant-type"),
        c("address two lines", with_option("--address", "幸福小区\n3号楼"), "--address"),
        c("address 201 chars", with_option("--address", "址" * 201), "--address"),
        c("account no letters", with_option("--account-no", "abc; drop"), "--account-no"),
        c("account no 33 digits", with_option("--account-no", "1" * 33), "--account-no"),
        c("demands 1001 chars", with_option("--demands", "求" * 1001), "--demands"),
        c("demands control char", with_option("--demands", "a\x07b"), "--demands"),
        c("person involved unknown", with_option("--person-involved", "nobody.here"), "--person-involved"),
        c("person involved is the starter", with_option("--person-involved", "sun.li"), "--person-involved"),
        c("person involved of another hall", with_option("--person-involved", "zhou.jie"), "--person-involved"),
        c("person involved not an id", with_option("--person-involved", "赵敏 '; drop"), "--person-involved"),
        c("person involved missing (service attitude)",
          with_option("--playbook", "service-attitude-complaint"), "--person-involved"),
    ]
    outcome = ["outcome", incident, "move_to_vip_room", "done", "--as", "zhao.min"]
    out += [
        c("note 2001 chars", outcome + ["--note", "注" * 2001], "--note"),
        c("note 1 MB", outcome + ["--note", "n" * MB], "--note"),
        c("data value 201 chars", outcome + ["--data", "room=" + "v" * 201], "--data room"),
        c("data 11 keys", outcome + sum([["--data", f"k{i}=v"] for i in range(11)], []), "--data"),
        c("data bad key", outcome + ["--data", "BAD KEY=1"], "--data"),
        c("data without =", outcome + ["--data", "noequals"], "--data"),
        c("data time garbage", outcome + ["--data", "calibration_at=next tuesday"], "--data calibration_at"),
        c("step unknown", ["outcome", incident, "step2", "done", "--as", "zhao.min"], "unknown step"),
        c("step 10 kB", ["outcome", incident, "s" * 10_000, "done", "--as", "zhao.min"], "STEP"),
        c("outcome unknown", ["outcome", incident, "keep_order", "exploded", "--as", "qian.lei"], "no outcome"),
        c("outcome wrong role", ["outcome", incident, "move_to_vip_room", "done", "--as", "qian.lei"], "may not"),
        c("actor with quote", ["outcome", incident, "move_to_vip_room", "done", "--as", 'x"y'], "--as"),
        c("incident id traversal", ["outcome", "../x", "move_to_vip_room", "done", "--as", "zhao.min"], "ID"),
        c("incident unknown", ["outcome", "no-such-incident", "keep_order", "done", "--as", "qian.lei"],
          "no such incident"),
        c("reject without reason", ["approve", incident, "--as", "wang.jun", "--reject"], "--reason"),
        c("reject reason 3000", ["approve", incident, "--as", "wang.jun", "--reject", "--reason", "r" * 3000],
          "--reason"),
        c("approve nothing waiting", ["approve", incident, "--as", "wang.jun"], "no approval waiting"),
        # --as is held to the console's permission rules (groupdesk.people.permissions) before anything is sent
        c("approve by a hall lead", ["approve", incident, "--as", "sun.li"], "--as: sun.li is not the centre director"),
        c("note by someone unknown", ["note", incident, "hello", "--as", "no.body"], "--as: no.body may not see"),
        c("note empty", ["note", incident, " ", "--as", "sun.li"], "TEXT"),
        c("note 5000 chars", ["note", incident, "x" * 5000, "--as", "sun.li"], "TEXT"),
        c("note control char", ["note", incident, "a\x1bb", "--as", "sun.li"], "TEXT"),
        c("follow-up score 9", ["follow-up", incident, "--score", "9", "--as", "sun.li"], "--score"),
        c("follow-up comment 2001", ["follow-up", incident, "--score", "5", "--as", "sun.li",
                                     "--comment", "c" * 2001], "--comment"),
        c("list hall quote", ["list", "--hall", 'x"'], "--hall"),
        c("list tier text", ["list", "--tier", "high"], "--tier"),
        c("show traversal", ["show", "../../etc"], "ID"),
        c("ops failed hall quote", ["ops", "failed", "--hall", 'x" OR 1=1'], "--hall"),
        c("ops failed since 3000000d", ["ops", "failed", "--since", "3000000d"], "--since"),
        c("ops failed since garbage", ["ops", "failed", "--since", "yesterday"], "--since"),
        c("ops skip empty reason", ["ops", "skip", incident, "keep_order", "--reason", " ", "--as", "ma.ning"],
          "--reason"),
        c("ops retry not ops", ["ops", "retry", incident, "keep_order", "--as", "sun.li"], "--as"),
    ]
    promise = ["promise", "add", incident, "--as", "sun.li"]
    good = {"--what": "一小时内回电", "--due": "1h", "--owner": "sun.li"}

    def add(**bad: str) -> list[str]:
        return promise + sum(([k, v] for k, v in {**good, **{f"--{k}": v for k, v in bad.items()}}.items()), [])
    out += [  # promises: nothing is recorded by any of these
        c("promise what empty", add(what=" "), "--what"),
        c("promise what 501 chars", add(what="诺" * 501), "--what"),
        c("promise what 1 MB", add(what="w" * MB), "--what"),
        c("promise due garbage", add(due="next tuesday"), "--due"),
        c("promise due 91 days", add(due="91d"), "--due"),
        c("promise due in the past", add(due="2020-01-01 09:00"), "--due"),
        c("promise due a clock time 120 days ahead",
          add(due=(datetime.now(timezone.utc) + timedelta(days=120)).strftime("%Y-%m-%d %H:%M")), "--due"),
        c("promise due 10 kB", add(due="1" * 10_000), "--due"),
        c("promise owner unknown", add(owner="no.body"), "--owner"),
        c("promise owner of another hall", add(owner="zhou.jie"), "--owner"),
        c("promise owner quote", add(owner='x" OR 1=1'), "--owner"),
        c("promise by someone unknown", add()[:4] + ["no.body"] + add()[5:], "--as"),
        c("promise kept bad id", ["promise", "kept", incident, "x;1", "--as", "sun.li"], "PROMISE_ID"),
        c("promise kept unknown", ["promise", "kept", incident, "p9", "--as", "sun.li"], "no promise 'p9'"),
        c("promise kept note 2001", ["promise", "kept", incident, "p1", "--as", "sun.li", "--note", "n" * 2001],
          "--note"),
        c("promise change no reason", ["promise", "change", incident, "p1", "--due", "1h", "--reason", " ",
                                       "--as", "sun.li"], "--reason"),
        c("promise change due garbage", ["promise", "change", incident, "p1", "--due", "soon", "--reason", "r",
                                         "--as", "sun.li"], "--due"),
        c("promise waive by a hall lead", ["promise", "waive", incident, "--reason", "r", "--as", "sun.li"],
          "--as: sun.li is not the centre director"),
        c("promise waive nothing open", ["promise", "waive", incident, "--reason", "r", "--as", "wang.jun"],
          "no promise left to waive"),
        c("promises due-before garbage", ["promises", "--due-before", "tomorrow"], "--due-before"),
        c("promises hall quote", ["promises", "--hall", 'x"'], "--hall"),
    ]
    return out


def yaml_cases(corpus: Path, scratch: Path) -> list[Case]:
    """Bad playbooks through `groupdesk playbooks validate` (exit 1: invalid, one line each)."""
    from bad_input_round_two import DEEP, LAUGHS

    mini = (corpus / "_valid_mini.yaml").read_text(encoding="utf-8")
    made = {
        "deadline 3000000d": (mini.replace("deadline: 5m", "deadline: 3000000d"), "step 'greet', deadline"),
        "deadline 5000 digits": (mini.replace("deadline: 5m", "deadline: " + "9" * 5000 + "d"), "does not parse"),
        "deadline as huge seconds": (mini.replace("deadline: 5m", "deadline: {seconds: 99999999999}"),
                                     "out of range"),
        "grace 400d": (mini.replace("grace: 10m", "grace: 400d"), "escalation.grace"),
        "step id with spaces": (mini.replace("  greet:", "  Greet Them:").replace("[greet]", "[Greet Them]"),
                                "not a step id"),
        "a list, not a mapping": ("- id: x\n- steps: []\n", "YAML mapping"),
        "empty file": ("", "YAML mapping"),
        "tabs and broken brackets": ("id: x\n\tsteps: [\n", "not valid YAML at line 2"),
        "huge file": ("# " + "x" * (300 * 1024) + "\n" + mini, "too large"),
        "scripts for an unknown complainant type": (mini.replace("    template: started\n", "    template: started\n"
                                                                 "    scripts_by_complainant_type: {angry: {zh-CN: [x]}}\n", 1),
                                                    "scripts_by_complainant_type: unknown type 'angry'"),
        "scripts by type not a mapping": (mini.replace("    template: started\n", "    template: started\n"
                                                       "    scripts_by_complainant_type: [venting]\n", 1),
                                          "scripts_by_complainant_type"),
        "registration requires a field that cannot be": (mini.replace("start: [greet]", "registration_requires: [phone]\n"
                                                                      "start: [greet]"), "registration_requires"),
        "nested 2,000 deep": (mini + DEEP, "nested more than 32 levels"),
        "a billion laughs": (mini + LAUGHS, "once its aliases"),
        "id with a path": (mini.replace("id: mini", "id: ../../mini"), "not a playbook id"),
    }
    shutil.copytree(corpus / "templates", scratch / "templates", dirs_exist_ok=True)
    cases = []
    for n, (name, (text, says)) in enumerate(made.items()):
        path = scratch / f"made{n}.yaml"
        path.write_text(text, encoding="utf-8")
        cases.append(Case("yaml", name, ["playbooks", "validate", str(path)], (1,), says))
    latin = scratch / "gbk.yaml"
    latin.write_bytes(mini.replace("迷你预案", "迷你预案").encode("gbk"))
    cases.append(Case("yaml", "not UTF-8", ["playbooks", "validate", str(latin)], (1,), "not UTF-8"))
    binary = scratch / "binary.yaml"
    binary.write_bytes(bytes(range(256)) * 4)
    cases.append(Case("yaml", "binary garbage", ["playbooks", "validate", str(binary)], (1,), str(binary)))
    for path in sorted(corpus.glob("*.yaml")):
        if not path.name.startswith("_"):
            expect = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ").strip()
            cases.append(Case("yaml", f"corpus {path.stem}", ["playbooks", "validate", str(path)], (1,), expect))
    return cases


def api_cases(incident: str) -> list[Case]:
    def body(**over) -> dict:
        b = {"hall": "xicheng", "headcount": 15, "lead_name": "张建国", "summary": "电量异常",
             "lead_phone": f"1380013{uuid.uuid4().int % 10000:04d}", "drill": True}
        b.update(over)
        return b

    def start(name, says, status=(422,), who="sun.li", **over):
        return Case("api", f"start: {name}", ("POST", "/api/incidents", {"json": body(**over)}), status, says, who)

    async def chunks():  # no Content-Length: the limit must hold while reading
        for _ in range(200):
            yield b"x" * 1024

    path = f"/api/incidents/{incident}"
    return [
        start("summary 501", "summary", summary="电" * 501),
        start("headcount 2^40", "headcount", headcount=2 ** 40),
        start("headcount text", "headcount", headcount="many"),
        start("headcount 1 for a group playbook", "headcount", headcount=1, playbook="smart-meter-group-complaint"),
        start("no playbook for the category", "playbook", category="grid_construction"),
        start("lead name 65", "lead_name", lead_name="张" * 65),
        start("lead name newline", "lead_name", lead_name="张\n三"),
        start("hall quote", "hall", hall='x"'),
        start("hall unknown", "hall", hall="nowhere"),
        start("playbook path", "playbook", playbook="../../etc/passwd"),
        start("phone 10k", "lead_phone", lead_phone="1" * 10_000),
        start("time scale huge", "time_scale", time_scale=1e300),
        start("drill not a bool", "drill", drill="maybe"),
        start("submit token 1000", "submit_token", submit_token="t" * 1000),
        start("category unknown", "category", category="metering"),
        start("complainant type unknown", "complainant_type", complainant_type="angry"),
        start("address newline", "address", address="幸福小区\n3号楼"),
        start("account no letters", "account_no", account_no="abc"),
        start("demands 1001", "demands", demands="求" * 1001),
        start("media not a bool", "media_present", media_present="maybe"),
        start("person involved unknown", "person_involved", person_involved="nobody.here"),
        start("person involved is the starter", "person_involved", person_involved="sun.li"),
        start("person involved 10k", "person_involved", person_involved="p" * 10_000),
        start("channel unknown", "channel", channel="fax"),
        start("95598 ticket with letters", "ticket_no", channel="hotline_95598", ticket_no="WO-123"),
        start("by a clerk, a group", "it is started by guide", status=(403,), who="li.qiang"),
        start("by a technician", "forbidden", status=(403,), who="feng.tao"),
        Case("api", "start: missing fields", ("POST", "/api/incidents", {"json": {"hall": "xicheng"}}), (422,),
             "headcount: required"),
        Case("api", "start: not JSON", ("POST", "/api/incidents", {"content": b"{oops",
                                                                   "headers": {"content-type": "application/json"}}),
             (422,), "JSON"),
        Case("api", "start: a list", ("POST", "/api/incidents", {"json": [1, 2]}), (422,), "body"),
        Case("api", "start: 2 MB summary", ("POST", "/api/incidents", {"json": body(summary="x" * 2 * MB)}), (413,),
             "request body"),
        Case("api", "start: 20 MB declared", ("POST", "/api/incidents", {
            "content": b"{}", "headers": {"content-length": str(20 * MB), "content-type": "application/json"}}),
             (413,), "request body"),
        Case("api", "start: 200 kB chunked", ("POST", "/api/incidents", {
            "content": chunks(), "headers": {"content-type": "application/json"}}), (413,), "request body"),
        Case("api", "board hall quote", ("GET", "/api/incidents", {"params": {"hall": '" OR 1=1'}}), (400,), "hall"),
        Case("api", "board tier text", ("GET", "/api/incidents", {"params": {"tier": "high"}}), (422,), "tier"),
        Case("api", "board tier 99", ("GET", "/api/incidents", {"params": {"tier": "99"}}), (400,), "tier"),
        Case("api", "board stage quote", ("GET", "/api/incidents", {"params": {"stage": 'a"b'}}), (400,), "stage"),
        Case("api", "list ticket with spaces", ("GET", "/api/incidents", {"params": {"ticket_no": "a b"}}), (422,),
             "ticket_no"),
        Case("api", "list channel without ticket", ("GET", "/api/incidents", {"params": {"channel": "wechat"}}), (422,),
             "channel"),
        Case("api", "incident id traversal", ("GET", "/api/incidents/..%2F..%2Fx", {}), (404, 422), ""),
        Case("api", "incident id 300 chars", ("GET", "/api/incidents/" + "a" * 300, {}), (422,), "incident_id"),
        Case("api", "outcome note 2001", ("POST", f"{path}/outcomes", {"json": {
            "step": "move_to_vip_room", "outcome": "done", "note": "注" * 2001}}), (422,), "note", "zhao.min"),
        Case("api", "outcome 11 data keys", ("POST", f"{path}/outcomes", {"json": {
            "step": "move_to_vip_room", "outcome": "done", "data": {f"k{i}": "v" for i in range(11)}}}), (422,),
             "data", "zhao.min"),
        Case("api", "outcome data value 201", ("POST", f"{path}/outcomes", {"json": {
            "step": "move_to_vip_room", "outcome": "done", "data": {"room": "v" * 201}}}), (422,), "data.room",
             "zhao.min"),
        Case("api", "outcome step 10 kB", ("POST", f"{path}/outcomes", {"json": {
            "step": "s" * 10_000, "outcome": "done"}}), (422,), "step", "zhao.min"),
        Case("api", "outcome unknown", ("POST", f"{path}/outcomes", {"json": {
            "step": "move_to_vip_room", "outcome": "exploded"}}), (409,), "no outcome", "zhao.min"),
        Case("api", "outcome data not a map", ("POST", f"{path}/outcomes", {"json": {
            "step": "move_to_vip_room", "outcome": "done", "data": ["x"]}}), (422,), "data", "zhao.min"),
        Case("api", "reject reason 3000", ("POST", f"{path}/approval", {"json": {"approve": False,
                                                                              "reason": "r" * 3000}}),
             (422,), "reason", "wang.jun"),
        Case("api", "follow-up score 99", ("POST", f"{path}/follow-up", {"json": {"score": 99}}), (422,), "score"),
        Case("api", "follow-up comment 3000", ("POST", f"{path}/follow-up", {"json": {
            "score": 5, "comment": "c" * 3000}}), (422,), "comment"),
        Case("api", "note 2001", ("POST", f"{path}/notes", {"json": {"text": "x" * 2001}}), (422,), "text"),
        Case("api", "note empty", ("POST", f"{path}/notes", {"json": {"text": "  "}}), (422,), "text"),
        Case("api", "note 1 MB", ("POST", f"{path}/notes", {"json": {"text": "x" * MB}}), (413,), "request body"),
        Case("api", "promise what 501", ("POST", f"{path}/promises", {"json": {
            "what": "诺" * 501, "due": "1h", "owner": "sun.li"}}), (422,), "what"),
        Case("api", "promise due garbage", ("POST", f"{path}/promises", {"json": {
            "what": "回电", "due": "tomorrow", "owner": "sun.li"}}), (422,), "due"),
        Case("api", "promise due in the past", ("POST", f"{path}/promises", {"json": {
            "what": "回电", "due": "2020-01-01 09:00", "owner": "sun.li"}}), (422,), "due: 2020-01-01 09:00 has passed"),
        Case("api", "promise due 120 days ahead", ("POST", f"{path}/promises", {"json": {
            "what": "回电", "due": (datetime.now(timezone.utc) + timedelta(days=120)).isoformat(), "owner": "sun.li"}}),
             (422,), "more than 90 days ahead"),
        Case("api", "promise owner unknown", ("POST", f"{path}/promises", {"json": {
            "what": "回电", "due": "1h", "owner": "no.body"}}), (422,), "owner"),
        Case("api", "promise what a list", ("POST", f"{path}/promises", {"json": {
            "what": ["x"], "due": "1h", "owner": "sun.li"}}), (422,), "what"),
        Case("api", "promise kept unknown", ("POST", f"{path}/promises/p9/kept", {"json": {}}), (409,), "no promise"),
        Case("api", "promise kept bad id", ("POST", f"{path}/promises/x;1/kept", {"json": {}}), (422,), "promise"),
        Case("api", "promise waive by a hall lead", ("POST", f"{path}/promises/waive", {"json": {"reason": "r"}}),
             (403,), "centre director"),
        Case("api", "promises due_before garbage", ("GET", "/api/promises", {"params": {"due_before": "x"}}), (400,),
             "due_before"),
        Case("api", "skip reason 3000", ("POST", f"{path}/failed/keep_order/skip", {"json": {"reason": "r" * 3000}}),
             (422,), "reason", "ma.ning"),
        Case("api", "skip step quote", ("POST", f'{path}/failed/a"b/skip', {"json": {"reason": "r"}}), (422,),
             "step", "ma.ning"),
        Case("api", "sign-in password 100 kB", ("POST", "/api/session", {"json": {
            "person": "sun.li", "password": "p" * 100_000}}), (413,), "request body", ""),
        Case("api", "sign-in person quote", ("POST", "/api/session", {"json": {
            "person": 'x" OR 1=1', "password": "p"}}), (401,), "wrong staff id", ""),
        Case("api", "start page form summary 501", ("POST", "/incidents", {"data": {
            "hall": "xicheng", "headcount": "15", "lead_name": "张建国", "lead_phone": PHONE,
            "summary": "电" * 501, "drill": "on"}}), (422,), "keep it within 500"),
        Case("api", "board page hall quote", ("GET", "/", {"params": {"hall": '"'}}), (400,), "hall"),
        Case("api", "board stream stage quote", ("GET", "/events/board", {"params": {"stage": 'x" OR "1"="1'}}),
             (400,), "stage"),
        Case("api", "board stream unknown hall", ("GET", "/events/board", {"params": {"hall": "nowhere"}}),
             (400,), "hall"),
    ]


CALENDAR = """\
periods:
  - name: 全国两会
    from: 2027-03-03
    to: 2027-03-15
    halls: all
    deadline_factor: 0.5
    responsible: {xicheng: sun.li, dongcheng: wu.fang}
"""


def calendar_cases(scratch: Path) -> list[Case]:
    """Bad sensitive-period calendars through `groupdesk periods list --file` (exit 2, one line naming the field)."""
    from bad_input_round_two import DEEP, LAUGHS, RLO

    made = {
        "factor 1.5": (CALENDAR.replace("0.5", "1.5"), "periods[0] (全国两会).deadline_factor"),
        "factor 0": (CALENDAR.replace("0.5", "0"), ".deadline_factor"),
        "factor text": (CALENDAR.replace("0.5", "half"), ".deadline_factor"),
        "to before from": (CALENDAR.replace("2027-03-15", "2027-03-01"), ".to: 2027-03-01 is before from"),
        "from not a date": (CALENDAR.replace("2027-03-03", "next monday"), ".from"),
        "from 30 February": (CALENDAR.replace("2027-03-03", "2027-02-30"), ".from"),
        "to missing": (CALENDAR.replace("    to: 2027-03-15\n", ""), ".to: required"),
        "a year long": (CALENDAR.replace("2027-03-15", "2028-03-15"), "keep it within 92"),
        "unknown hall": (CALENDAR.replace("halls: all", "halls: [xicheng, dongcheng, nowhere]"), ".halls: unknown hall"),
        "halls not a list": (CALENDAR.replace("halls: all", "halls: some"), ".halls"),
        "responsible unknown": (CALENDAR.replace("sun.li", "no.body"), ".responsible.xicheng"),
        "responsible outside halls": (CALENDAR.replace("halls: all", "halls: [dongcheng]"), ".responsible"),
        "unknown field": (CALENDAR.replace("halls: all", "halls: all\n    deadline: 5m"), "unknown field"),
        "unknown top key": (CALENDAR + "extra: 1\n", "'extra': unknown key"),
        "name empty": (CALENDAR.replace("全国两会", "' '"), ".name"),
        "name two lines": (CALENDAR.replace("全国两会", '"两会\\n期间"'), ".name"),
        "overlap": (CALENDAR + CALENDAR.replace("periods:\n", "").replace("全国两会", "重叠"), "overlaps 全国两会"),
        "a list": ("- name: x\n", "YAML mapping `periods:`"),
        "broken YAML": ("periods: [\n\t- x", "not valid YAML at line"),
        "100 kB": ("# " + "x" * 100_000 + "\n" + CALENDAR, "too large"),
        "nested 2,000 deep": (CALENDAR + DEEP, "nested more than 32 levels"),
        "a billion laughs": (CALENDAR + LAUGHS, "once its aliases"),
        "name with a bidi override": (CALENDAR.replace("全国两会", f"全国{RLO}两会"), ".name"),
    }
    cases = []
    for n, (name, (text, says)) in enumerate(made.items()):
        path = scratch / f"periods{n}.yaml"
        path.write_text(text, encoding="utf-8")
        cases.append(Case("yaml", f"calendar: {name}", ["periods", "list", "--file", str(path)], (2,), says))
    gbk = scratch / "periods-gbk.yaml"
    gbk.write_bytes(CALENDAR.encode("gbk"))
    cases.append(Case("yaml", "calendar: not UTF-8", ["periods", "list", "--file", str(gbk)], (2,), "not UTF-8"))
    cases.append(Case("yaml", "calendar: missing file", ["periods", "list", "--file", str(scratch / "none.yaml")],
                      (2,), "no such calendar file"))
    return cases
