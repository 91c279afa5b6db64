"""The bad-input corpus, second round (issue 24): text that is not what it looks like (C1 controls, bidi
overrides and isolates, zero-width characters), bytes that are not text, booleans as numbers, YAML that nests or
expands without end, the codec's body, unknown playbooks, redirects off the site, backwards periods, CLI
filters, and Twilio's webhooks with fields outside Twilio's formats. Each case is refused with one line naming the field; test_bad_input_corpus.py runs them with the rest.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote

from bad_input_cases import PHONE, Case, with_option

# Characters that are not what they look like: C1 controls, a bidi override, an isolate, zero-width
NEL, CSI, RLO, LRI, ZWSP, BOM = "\u0085", "\u009b", "\u202e", "\u2066", "\u200b", "\ufeff"
# YAML a parser would recurse into, or expand to a billion values
DEEP = "x: " + "[" * 2000 + "]" * 2000 + "\n"
LAUGHS = "".join(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}" if n else "lol"] * 10) + "]\n" for n in range(9))


def directory_cases(scratch: Path) -> list[Case]:
    """Bad staff directories through `groupdesk directory` (exit 2, one line naming the file and the field)."""
    import yaml

    from groupdesk.runtime.config import EXAMPLE_DIRECTORY

    def variant(change) -> str:
        staff = yaml.safe_load(EXAMPLE_DIRECTORY.read_text(encoding="utf-8"))
        change(staff)
        return yaml.safe_dump(staff, allow_unicode=True)

    made = {
        "person id with a path": (variant(lambda d: d["people"][0].update(id="../../Root Admin")), "people.0.id"),
        "person name 5,000 characters": (variant(lambda d: d["people"][0].update(name="张" * 5000)), "people.0.name"),
        "person name with a bidi override": (variant(lambda d: d["people"][1].update(name=f"钱{RLO}磊")),
                                             "people.1.name"),
        "person name with a C1 control": (variant(lambda d: d["people"][1].update(name=f"钱{CSI}磊")),
                                          "people.1.name"),
        "hall id with spaces": (variant(lambda d: d["halls"][0].update(id="West Hall")), "halls.0.id"),
        "hall name two lines": (variant(lambda d: d["halls"][0].update(name="西城\n营业厅")), "halls.0.name"),
        "nested 2,000 deep": (DEEP, "nested more than 32 levels"),
        "a billion laughs": (LAUGHS, "once its aliases"),
        "a list": ("- people\n", "YAML mapping"),
    }
    cases = []
    for n, (name, (text, says)) in enumerate(made.items()):
        path = scratch / f"directory{n}.yaml"
        path.write_text(text, encoding="utf-8")
        cases.append(Case("yaml", f"directory: {name}", {"args": ["directory"], "env": {"GROUPDESK_DIRECTORY":
                                                                                        str(path)}}, (2,), says))
    return cases


def cli_cases(incident: str) -> list[Case]:
    """The text rule and the filters on the command line (exit 2, one line naming the flag)."""
    c = lambda name, args, says, codes=(2,): Case("cli", name, args, codes, says)  # noqa: E731
    outcome = ["outcome", incident, "move_to_vip_room", "done", "--as", "zhao.min"]
    promise = ["promise", "add", incident, "--as", "sun.li", "--due", "1h", "--owner", "sun.li"]
    return [
        # the one text rule (NFC, then no C0/C1, bidi, isolates or zero-width characters)
        c("lead name with a C1 NEL", with_option("--lead-name", f"赵{NEL}敏"), "--lead-name"),
        c("lead name with a C1 CSI", with_option("--lead-name", f"赵{CSI}31m敏"), "--lead-name"),
        c("summary with a bidi override", with_option("--summary", f"电量{RLO}常异"), "--summary"),
        c("summary with a zero-width space", with_option("--summary", f"电量{ZWSP}异常"), "--summary"),
        c("address with an isolate", with_option("--address", f"幸福小区{LRI}3号楼"), "--address"),
        c("demands with a BOM", with_option("--demands", f"{BOM}退还电费"), "--demands"),
        c("list tier 99", ["list", "--tier", "99"], "--tier"),
        c("list tier -1", ["list", "--tier", "-1"], "--tier"),
        c("sms list incident injection", ["sms", "list", "--incident", "x' OR 1=1 --"], "--incident"),
        c("sms list incident 300 chars", ["sms", "list", "--incident", "a" * 300], "--incident"),
        c("report hall unknown", ["report", "--from", "2026-11-01", "--to", "2026-11-30", "--hall", "nowhere"],
          "--hall"),
        c("report period backwards", ["report", "--from", "2026-11-30", "--to", "2026-11-01"], "--to"),
        c("accountability hall quote", ["accountability", "--from", "2026-11-01", "--to", "2026-11-30", "--hall",
                                        "x' OR 1=1"], "--hall"),
        c("archive export hall unknown", ["archive", "export", "--from", "2026-11-01", "--to", "2026-11-30",
                                          "--hall", "nowhere"], "--hall"),
        c("ops retry all hall unknown", ["ops", "retry", "--all-failed", "--hall", "nowhere", "--as", "ma.ning"],
          "--hall"),
        c("note with a bidi override", ["note", incident, f"客户{RLO}同意", "--as", "sun.li"], "TEXT"),
        c("note with a C1 CSI", ["note", incident, f"a{CSI}2Jb", "--as", "sun.li"], "TEXT"),
        c("outcome note zero-width", outcome + ["--note", f"已{ZWSP}引导"], "--note"),
        c("outcome data with an isolate", outcome + ["--data", f"room=A{LRI}1"], "--data room"),
        c("follow-up comment with an isolate", ["follow-up", incident, "--score", "5", "--as", "sun.li",
                                                "--comment", f"满意{LRI}"], "--comment"),
        c("handover reason with a BOM", ["handover", incident, "--to", "zhao.min", "--as", "sun.li", "--reason",
                                         f"{BOM}交接"], "--reason"),
        c("promise what with a bidi override", promise + ["--what", f"一小时内{RLO}回电"], "--what"),
    ]


def raw_json(text: str) -> dict:
    """A JSON body sent as written (a lone surrogate escape such as \\ud800 cannot go through json.dumps)."""
    return {"content": text.encode("ascii"), "headers": {"content-type": "application/json"}}


def api_cases(incident: str) -> list[Case]:
    """Issue 24: lone surrogates and bytes that are not UTF-8, hidden characters, numbers that are booleans, the
    codec endpoint's body, unknown playbooks, redirects off the site, periods that run backwards."""
    path = f"/api/incidents/{incident}"
    start = {"hall": "xicheng", "headcount": 15, "lead_name": "张建国", "summary": "电量异常", "drill": True,
             "lead_phone": PHONE}

    def api(name, method, url, kwargs, status, says, who="sun.li", location=None):
        return Case("api", name, (method, url, kwargs), status, says, who, location=location)

    def start_with(name, says, **over):
        return api(f"start: {name}", "POST", "/api/incidents", {"json": {**start, **over}}, (422,), says)

    lone = "\\ud800"
    return [
        # lone surrogates in JSON: 422 naming the field (5 endpoints answered 500 before, /api/session among them)
        api("sign-in person surrogate", "POST", "/api/session", raw_json(f'{{"person": "{lone}", "password": "x"}}'),
            (422,), "person", ""),
        api("sign-in password surrogate", "POST", "/api/session",
            raw_json(f'{{"person": "sun.li", "password": "a{lone}"}}'), (422,), "password", ""),
        api("start lead name surrogate", "POST", "/api/incidents", raw_json(
            '{"hall": "xicheng", "headcount": 15, "lead_name": "' + lone + '", "summary": "x", "lead_phone": "'
            + PHONE + '", "drill": true}'), (422,), "lead_name"),
        api("note surrogate", "POST", f"{path}/notes", raw_json(f'{{"text": "{lone}"}}'), (422,), "text"),
        api("outcome note surrogate", "POST", f"{path}/outcomes", raw_json(
            '{"step": "move_to_vip_room", "outcome": "done", "note": "' + lone + '"}'), (422,), "note", "zhao.min"),
        api("outcome data key surrogate", "POST", f"{path}/outcomes", raw_json(
            '{"step": "move_to_vip_room", "outcome": "done", "data": {"' + lone + '": "x"}}'), (422,), "data",
            "zhao.min"),
        api("follow-up comment surrogate", "POST", f"{path}/follow-up", raw_json(
            f'{{"score": 5, "comment": "{lone}"}}'), (422,), "comment"),
        api("promise what surrogate", "POST", f"{path}/promises", raw_json(
            f'{{"what": "{lone}", "due": "1h", "owner": "sun.li"}}'), (422,), "what"),
        # bytes that are not UTF-8: 400
        api("note not UTF-8", "POST", f"{path}/notes", {"content": b'{"text": "\xff\xfe"}',
                                                        "headers": {"content-type": "application/json"}},
            (400,), "not UTF-8"),
        api("board query not UTF-8", "GET", "/api/incidents?hall=%FF%FE", {}, (400,), "hall"),
        api("incident path not UTF-8", "GET", "/api/incidents/%FF%FE", {}, (400,), "path"),
        api("start form not UTF-8", "POST", "/incidents", {"content": b"hall=xicheng&summary=%FF",
                                                           "headers": {"content-type":
                                                                       "application/x-www-form-urlencoded"}},
            (400,), "summary"),
        api("note nested 10,000 deep", "POST", f"{path}/notes", raw_json("[" * 10_000 + "]" * 10_000), (400,),
            "nested too deeply"),
        # characters that are not what they look like: 422 naming the field
        start_with("lead name with a C1 NEL", "lead_name", lead_name=f"张{NEL}三"),
        start_with("lead name with a C1 CSI", "lead_name", lead_name=f"张{CSI}三"),
        start_with("summary with a bidi override", "summary", summary=f"电量{RLO}常异"),
        start_with("summary with a zero-width space", "summary", summary=f"电量{ZWSP}异常"),
        start_with("address with an isolate", "address", address=f"幸福小区{LRI}3号楼"),
        start_with("demands with a BOM", "demands", demands=f"{BOM}退费"),
        api("note with a bidi override", "POST", f"{path}/notes", {"json": {"text": f"客户{RLO}同意"}}, (422,),
            "text"),
        api("note with a C1 control", "POST", f"{path}/notes", {"json": {"text": f"a{NEL}b"}}, (422,), "text"),
        api("outcome note zero-width", "POST", f"{path}/outcomes", {"json": {
            "step": "move_to_vip_room", "outcome": "done", "note": f"已{ZWSP}引导"}}, (422,), "note", "zhao.min"),
        api("handover reason with a BOM", "POST", f"{path}/handover", {"json": {"to": "zhao.min", "reason":
                                                                                f"{BOM}交接"}},
            (422,), "reason"),
        api("reject reason with an isolate", "POST", f"{path}/approval", {"json": {"approve": False, "reason":
                                                                                   f"不同意{LRI}"}},
            (422,), "reason", "wang.jun"),
        api("promise what with a bidi override", "POST", f"{path}/promises", {"json": {
            "what": f"回电{RLO}", "due": "1h", "owner": "sun.li"}}, (422,), "what"),
        api("start form summary with a bidi override", "POST", "/incidents", {"data": {
            "hall": "xicheng", "headcount": "15", "lead_name": "张建国", "lead_phone": PHONE,
            "summary": f"电量{RLO}常异", "drill": "on"}}, (422,), "RIGHT-TO-LEFT OVERRIDE"),
        # booleans are not numbers, numbers are not text
        start_with("headcount true", "headcount", headcount=True),
        start_with("headcount as text", "headcount", headcount="15"),
        start_with("headcount 15.0", "headcount", headcount=15.0),
        start_with("drill 1", "drill", drill=1),
        start_with("media present 1", "media_present", media_present=1),
        api("approve yes", "POST", f"{path}/approval", {"json": {"approve": "yes"}}, (422,), "approve", "wang.jun"),
        api("follow-up score true", "POST", f"{path}/follow-up", {"json": {"score": True}}, (422,), "score"),
        # the codec endpoint checks its body (it answered 500 to malformed ones)
        api("codec not JSON", "POST", "/codec/decode", {"content": b"{oops",
                                                        "headers": {"content-type": "application/json"}},
            (422,), "JSON", "ma.ning"),
        api("codec payloads not a list", "POST", "/codec/decode", {"json": {"payloads": "x"}}, (422,), "payloads",
            "ma.ning"),
        api("codec data not base64", "POST", "/codec/decode", {"json": {"payloads": [{"data": "!!!"}]}}, (422,),
            "payloads.0.data", "ma.ning"),
        api("codec metadata a number", "POST", "/codec/encode", {"json": {"payloads": [
            {"metadata": {"encoding": 5}, "data": ""}]}}, (422,), "payloads.0.metadata", "ma.ning"),
        api("codec a list", "POST", "/codec/decode", {"json": [1, 2]}, (422,), "body", "ma.ning"),
        api("codec 1,001 payloads", "POST", "/codec/decode", {"json": {"payloads": [{}] * 1001}}, (422,),
            "payloads", "ma.ning"),
        api("codec unsigned", "POST", "/codec/decode", {"json": {"payloads": "x"}}, (401,), "sign in", ""),
        # an unknown playbook is 404, not 500
        api("playbook unknown", "GET", "/playbooks/nope", {}, (404,), "no such playbook"),
        api("playbook path", "GET", "/playbooks/..%2F..%2Fetc", {}, (404,), ""),
        api("playbook 10 kB id", "GET", "/playbooks/" + "p" * 10_000, {}, (404,), "no such playbook"),
        # a redirect goes only to a path on this site
        api("language switch back to another site", "GET", "/lang/en",
            {"headers": {"referer": "https://evil.example/phish?x=1"}}, (303,), "", location="/phish?x=1"),
        api("language switch protocol-relative", "GET", "/lang/zh-CN",
            {"headers": {"referer": "//evil.example/x"}}, (303,), "", location="/x"),
        api("language switch backslash", "GET", "/lang/en", {"headers": {"referer": "/\\evil.example"}},
            (303,), "", location="/"),
        api("language switch javascript", "GET", "/lang/en", {"headers": {"referer": "javascript:alert(1)"}},
            (303,), "", location="/"),
        # a report period runs forward
        api("report period backwards", "GET", "/reports", {"params": {"start": "2026-11-30", "end": "2026-11-01"}},
            (400,), "is before start", "wang.jun"),
        api("report hall unknown", "GET", "/reports", {"params": {"hall": "nowhere"}}, (400,), "unknown hall",
            "lin.yue"),
        # the shipped example password opens nothing outside `groupdesk dev`
        api("sign-in with the README's password", "POST", "/api/session", {"json": {
            "person": "ma.ning", "password": "groupdesk-demo"}}, (401,), "wrong staff id", ""),
    ]


def webhook_cases(director: str, lead: str, status_key: str) -> list[Case]:
    """(method, path, {form, signed}) -> the app signs like Twilio when signed is true. `status_key` is a real
    message's outbox key: a delivery report refused for its fields must leave that row as it was."""
    def hook(name, path, form, expect, says="", signed=True, **extra):
        return Case("webhook", name, ("POST", path, {"form": form, "signed": signed, **extra}), expect, says)

    def sms(sender, text, sid=None, **more):
        return {"MessageSid": sid if sid is not None else "SM" + uuid.uuid4().hex, "From": sender,
                "To": "+15005550006", "Body": text, **more}

    def report(**fields):
        return {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", **fields}

    real = "/twilio/status?key=" + quote(status_key, safe="")
    return [
        hook("inbound unsigned", "/twilio/inbound", sms(director, "1 123456"), (403,), "invalid signature", False),
        hook("inbound forged", "/twilio/inbound", sms(director, "1 123456"), (403,), "invalid signature",
             token="forged"),
        hook("status unsigned", "/twilio/status?key=x", {"MessageStatus": "delivered"}, (403,), "invalid", False),
        hook("inbound 100 kB body", "/twilio/inbound", sms(director, "1 " + "9" * 100_000), (413,), "request body"),
        hook("inbound sid 1000 chars", "/twilio/inbound", sms(director, "hi", sid="S" * 1000), (400,), "MessageSid"),
        hook("inbound no sid", "/twilio/inbound", sms(director, "hi", sid=""), (400,), "MessageSid: missing"),
        hook("inbound sid not hex", "/twilio/inbound", sms(director, "hi", sid="SM" + "z" * 32), (400,),
             "MessageSid"),
        hook("inbound garbage from", "/twilio/inbound", sms("not a phone", "hello"), (200,), "<Message>"),
        hook("inbound from with a control", "/twilio/inbound", sms(f"+86{CSI}139", "hello"), (400,), "From"),
        hook("inbound account sid 500 chars", "/twilio/inbound", sms(lead, "5", AccountSid="AC" + "0" * 498),
             (400,), "AccountSid"),
        hook("inbound wrong code", "/twilio/inbound", sms(director, "1 000000"), (200,), "<Message>"),
        hook("inbound code with quote", "/twilio/inbound", sms(director, '1 12"34'), (200,), "<Message>"),
        hook("inbound survey comment 1500", "/twilio/inbound", sms(lead, "5 " + "好" * 1500), (200,), "<Message>"),
        hook("inbound body 3000 (Twilio sends 1,600 at most)", "/twilio/inbound", sms(lead, "5 " + "好" * 3000),
             (400,), "Body"),
        hook("status unknown key", "/twilio/status?key=nope", report(), (204,)),
        hook("status garbage state", real, report(MessageStatus="exploded" * 100), (400,), "MessageStatus"),
        # round two: a signed report with fields Twilio never sends is refused, the message row left alone
        hook("status sid 3,000 chars", real, report(MessageSid="SM" + "a" * 2998), (400,), "MessageSid"),
        hook("status error code 5,000 chars", real, report(MessageStatus="failed", ErrorCode="3" * 5000), (400,),
             "ErrorCode"),
        hook("status error code with SQL", real, report(MessageStatus="failed", ErrorCode="30003; DROP TABLE x"),
             (400,), "ErrorCode"),
        hook("status sid not Twilio's", real, report(MessageSid="XX" + "a" * 32), (400,), "MessageSid"),
        hook("status no sid", real, report(MessageSid=""), (400,), "MessageSid: missing"),
        hook("status key 1,000 chars", "/twilio/status?key=" + "k" * 1000, report(), (400,), "key"),
    ]
