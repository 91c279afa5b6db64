"""The report as a spreadsheet (openpyxl): a sheet per table of the report, Chinese headers, the numbers of the
JSON report unchanged, and a bar chart on each sheet whose table the report page draws as a chart."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Callable

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from groupdesk.core.intake import CHANNEL_IDS, channel_label

# Each sheet: (title, headers, rows from the report, the columns charted (1-based) or ()). A section a later phase
# adds to the report (counts by channel, findings, referrals, corrective actions, frequent-outage lines) is one
# more entry, drawn only when the report carries it.
Rows = Callable[[dict[str, Any], dict[str, str]], list[list[Any]]]
TOTALS = {"incidents": "已办结事件", "sla_breached": "超时事件", "sla_breach_rate": "超时率", "deadlines_missed": "超时环节次数",
          "escalations": "升级次数", "escalated_incidents": "升级事件", "repeat_complaints": "重复投诉",
          "warning_tier_3": "三级及以上预警"}
PROMISES = {"made": "承诺", "kept": "已兑现", "kept_late": "逾期兑现", "missed": "未按时兑现", "waived": "已豁免",
            "incidents_with_missed": "有未按时兑现承诺的事件"}
KINDS = {"province": "省公司", "city": "市公司", "county": "县公司", "centre": "客户服务中心", "hall": "营业厅"}
ROLLUP = ("incidents", "sla_breached", "escalations", "repeat_complaints", "warning_tier_3", "dissatisfied",
          "founded", "partly", "not_founded", "founded_rate", "went_to_government", "referrals",
          "correctives_open", "correctives_awaiting", "correctives_overdue", "correctives_verified",
          "correctives_verified_late", "lines_warning", "lines_study")
# 整改 opened in the period (running ones empty when Temporal did not answer) and 频繁停电 lines
CORRECTIVES = {"correctives_open": "整改中", "correctives_awaiting": "整改待验收", "correctives_overdue": "整改逾期",
               "correctives_verified": "整改已验收", "correctives_verified_late": "整改逾期后完成"}
LINE_STATUS = {"warning": "预警", "study": "专项治理", "none": "—"}
# 有效投诉的认定 (findings at close) and what went up the line: 信访, 上级转办
FINDINGS = {"founded": "有效投诉", "partly": "部分有效投诉", "not_founded": "无效投诉", "with_finding": "已认定事件",
            "without_finding": "未认定事件", "founded_rate": "有效投诉率"}
UPWARD = {"went_to_government": "信访", "referrals": "上级转办"}
CAUSES = ("founded", "partly", "not_founded", "incidents", "founded_rate")


def _totals(report: dict, names: dict) -> list[list[Any]]:
    rows = [[label, report["totals"][key]] for key, label in TOTALS.items()]
    rows += [[f"承诺:{label}", report["promises"][key]] for key, label in PROMISES.items()]
    rows += [["不满意回访(2分及以下)次数", report["dissatisfied"]["answers"]],
             ["不满意回访事件", report["dissatisfied"]["incidents"]]]
    if told := report.get("told"):  # 进度告知 (groupdesk tell)
        rows += [["进度告知(条)", told["messages"]], ["告知过客户的事件", told["incidents"]]]
    rows += [[label, report["findings"][key]] for key, label in FINDINGS.items() if "findings" in report]
    rows += [[label, report["upward"][key]] for key, label in UPWARD.items() if "upward" in report]
    rows += [[label, report["correctives"][key]] for key, label in CORRECTIVES.items() if "correctives" in report]
    if report.get("open") is not None:
        rows.append(["处理中事件", report["open"]["incidents"]])
    return rows


SHEETS: list[tuple[str, list[str], Rows, tuple[int, ...]]] = [
    ("汇总", ["指标", "数值"], _totals, ()),
    ("各级汇总", ["单位编号", "单位", "类型", "层级", "集体投诉", "超时事件", "升级次数", "重复投诉", "三级及以上预警", "不满意事件",
              "有效投诉", "部分有效", "无效投诉", "有效投诉率", "信访", "上级转办", *CORRECTIVES.values(), "预警线路",
              "专项治理线路", *(f"渠道:{channel_label(c)}" for c in CHANNEL_IDS)],
     lambda r, n: [[x["unit"], x["name"], KINDS[x["kind"]], x["level"], *(x[k] for k in ROLLUP),
                    *(x["by_channel"][c] for c in CHANNEL_IDS)] for x in r.get("rollup") or []], (5,)),
    ("按营业厅", ["营业厅编号", "营业厅", "集体投诉"],
     lambda r, n: [[x["hall_id"], n.get(x["hall_id"], x["hall_id"]), x["incidents"]] for x in r["by_hall"]], (3,)),
    ("按周", ["周", "集体投诉"], lambda r, n: [[x["week"], x["incidents"]] for x in r["by_week"]], (2,)),
    ("按投诉类别", ["类别", "集体投诉"], lambda r, n: [[x["category"], x["incidents"]] for x in r["by_category"]], (2,)),
    ("按受理渠道", ["渠道", "渠道名称", "集体投诉"],
     lambda r, n: [[x["channel"], channel_label(x["channel"]), x["incidents"]] for x in r.get("by_channel") or []], (3,)),
    ("类别×周", ["类别", "周", "集体投诉"],
     lambda r, n: [[x["category"], x["week"], x["incidents"]] for x in r["by_category_week"]], ()),
    ("按预案", ["预案", "版本", "集体投诉"],
     lambda r, n: [[x["playbook"], x["playbook_version"], x["incidents"]] for x in r["by_playbook"]], ()),
    ("各环节", ["预案", "环节", "次数", "平均用时(秒)", "最长用时(秒)", "超时次数", "超时率", "升级次数"],
     lambda r, n: [[x["playbook"], x["step"], x["visits"], x["avg_seconds"], x["max_seconds"], x["deadline_missed"],
                    x["breach_rate"], x["escalations"]] for x in r["steps"]], (4, 7)),
    ("满意度", ["回访结果", "事件"], lambda r, n: [[k, v] for k, v in r["satisfaction"].items()], (2,)),
    ("投诉原因", ["原因编号", "投诉原因", "有效", "部分有效", "无效", "已认定", "有效投诉率"],
     lambda r, n: [[x["cause"], x["label"], *(x[k] for k in CAUSES)] for x in r["findings"]["by_cause"]], (6,)),
    ("频繁停电线路", ["线路", "12个月停电次数", "状态", "营业厅", "相关事件"],
     lambda r, n: [[x["feeder"], x["outages_12m"], LINE_STATUS[x["status"]], "、".join(n.get(h, h) for h in x["halls"]),
                    "; ".join(x["incidents"])] for x in r["lines"]], ()),
    ("处理中", ["营业厅编号", "营业厅", "处理中事件"],
     lambda r, n: [[x["hall_id"], n.get(x["hall_id"], x["hall_id"]), x["incidents"]]
                   for x in (r.get("open") or {}).get("by_hall", [])], ()),
    ("责任台账", ["营业厅编号", "岗位", "超时环节", "引起升级", "重复投诉", "不满意回访", "未按时兑现承诺", "相关事件"],
     lambda r, n: [[x["hall"], x["role"], x["overdue_steps"], x["escalations_caused"], x["repeat_complaints"],
                    x["dissatisfied_follow_ups"], x["broken_promises"],
                    "; ".join(sorted({i for ids in x["incidents"].values() for i in ids}))]
                   for x in r.get("ledger") or []], ()),
]
OPTIONAL = {"各级汇总": "rollup", "处理中": "open", "责任台账": "ledger", "投诉原因": "findings",
            "频繁停电线路": "lines"}  # sheets only when the report has them


def workbook(report: dict[str, Any], names: dict[str, str] | None = None) -> Workbook:
    book = Workbook()
    book.remove(book.active)
    period = report["period"]
    for title, headers, rows_of, charted in SHEETS:
        if title in OPTIONAL and report.get(OPTIONAL[title]) is None:
            continue
        sheet = book.create_sheet(title)
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        rows = rows_of(report, names or {})
        for row in rows:
            sheet.append(row)
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = max(10, min(60, 2 + max(
                len(str(c.value or "")) * (2 if any(ord(ch) > 127 for ch in str(c.value or "")) else 1)
                for c in column)))
        for col in charted:
            if rows:
                chart = BarChart()
                chart.type, chart.title, chart.legend = "bar", f"{title}:{headers[col - 1]}", None
                chart.add_data(Reference(sheet, min_col=col, min_row=1, max_row=len(rows) + 1), titles_from_data=True)
                chart.set_categories(Reference(sheet, min_col=2 if title in ("各级汇总", "按营业厅", "各环节", "投诉原因") else 1,
                                               min_row=2, max_row=len(rows) + 1))
                chart.height, chart.width = max(6, 0.6 * len(rows) + 3), 16
                sheet.add_chart(chart, f"{chr(ord('A') + len(headers) + 1)}{2 + 16 * charted.index(col)}")
    book.properties.title = f"集体投诉统计 {period['from']} 至 {period['to']}"
    return book


def save_workbook(report: dict[str, Any], path: Path, names: dict[str, str] | None = None) -> None:
    """Write the workbook whole (a draft renamed over the file)."""
    import os
    import secrets

    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        workbook(report, names).save(draft)
        os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def workbook_bytes(report: dict[str, Any], names: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    workbook(report, names).save(out)
    return out.getvalue()
