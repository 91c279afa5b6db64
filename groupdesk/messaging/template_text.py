"""A Jinja2 SMS template as a domestic provider takes it: fixed text, variables in the provider's syntax.

Aliyun and Tencent Cloud send only an approved template with parameters. A groupdesk template can be
one when it is fixed text and plain variables: `{{ name }}`, or `{{ name or "default" }}` for a value
that may be empty. Branches, loops and computed text cannot be, and are named with the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment

DRILL_MARK = "（演练）"  # 【】 is the signature's: a drill through a domestic provider says so in the text
ELLIPSIS = "…"
_env = SandboxedEnvironment()
_SYNTAX_CLASH = re.compile(r"\$\{|\{\d+\}")
_BLOCKS = {nodes.If: "{% if %}", nodes.For: "{% for %}", nodes.Assign: "{% set %}", nodes.AssignBlock: "{% set %}",
           nodes.Macro: "{% macro %}", nodes.CallBlock: "{% call %}", nodes.FilterBlock: "{% filter %}",
           nodes.With: "{% with %}", nodes.Include: "{% include %}", nodes.Block: "{% block %}"}
FIX_BRANCH = ("give each case its own template (a step's `audiences:`, an outcome's `template:`), or write"
              " `{{ name or \"...\" }}` for a value that may be empty")


@dataclass(frozen=True)
class Limits:
    """The provider's published limits, in characters (汉字, letters, digits, punctuation: one each)."""
    per_variable: int | None  # None: no limit on one value
    message: int  # the whole SMS: 【signature】, fixed text and every value


# Aliyun: 35 per variable unless the account had it lifted (GROUPDESK_ALIYUN_VARIABLE_LIMIT), 500 in all.
# Tencent Cloud (enterprise-verified accounts, the only ones that may send to mainland numbers): no limit
# on one value, 500 in all with the signature.
LIMITS = {"aliyun": Limits(35, 500), "tencent": Limits(None, 500)}
# Variables of kind link (the complainant's status link): declared so with the template, never cut with "…".
LINK_VARIABLE = "status_link"
LINK_VARIABLES = frozenset({LINK_VARIABLE})


class NotExpressible(ValueError):
    """The template cannot be a provider template; the message says why and what to write instead."""


@dataclass(frozen=True)
class Slot:
    name: str
    default: str | None = None  # `{{ name or "default" }}`: said when the value is empty


@dataclass(frozen=True)
class Shape:
    """A template as fixed text and slots, in order; its ends stripped as a rendered message is."""
    parts: tuple[str | Slot, ...]

    def text(self, provider: str, drill: bool = False) -> str:
        """The text to register with `provider`: Aliyun `${name}`, Tencent `{1}`, `{2}`… by position."""
        out, number = [DRILL_MARK] if drill else [], 0
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif provider == "tencent":
                number += 1
                out.append(f"{{{number}}}")
            else:
                out.append(f"${{{part.name}}}")
        return "".join(out)

    @property
    def slots(self) -> list[Slot]:
        return [p for p in self.parts if isinstance(p, Slot)]

    def variables(self, provider: str) -> list[str]:
        """The variables the provider's template has: names (Aliyun, each once) or positions (Tencent)."""
        if provider == "tencent":
            return [str(n) for n in range(1, len(self.slots) + 1)]
        return list(dict.fromkeys(s.name for s in self.slots))

    def link_variables(self, provider: str) -> list[str]:
        """The variables of kind link (declared so with the provider): names (Aliyun) or positions (Tencent)."""
        slots = self.slots
        if provider == "tencent":
            return [str(n) for n, s in enumerate(slots, 1) if s.name in LINK_VARIABLES]
        return list(dict.fromkeys(s.name for s in slots if s.name in LINK_VARIABLES))

    def fill(self, provider: str, context: dict[str, Any], sign_name: str, drill: bool = False,
             limits: Limits | None = None) -> "Filled":
        """The parameters for `context`, each value cut with "…" to the provider's limits, and the text the
        phone shows (【signature】 and the template with the values in)."""
        limits = limits or LIMITS[provider]
        values: dict[str, str] = {}
        for slot in self.slots:
            if slot.name not in context:
                raise KeyError(f"the message has no value for {slot.name}")
            raw = context[slot.name]
            value = slot.default if raw in (None, "") and slot.default is not None else raw
            value = "" if value is None else str(value)
            values[slot.name] = value.replace("【", "「").replace("】", "」")  # 【】 is the signature's
        if limits.per_variable:
            values = {k: v if k in LINK_VARIABLES else _cut(v, limits.per_variable) for k, v in values.items()}
        counts = {name: sum(1 for s in self.slots if s.name == name) for name in values}
        fixed = sum(len(p) for p in self.parts if isinstance(p, str)) + (len(DRILL_MARK) if drill else 0)
        budget = limits.message - fixed - len(sign_name) - 2
        while sum(len(v) * counts[k] for k, v in values.items()) > budget:
            longest = max((k for k in values if k not in LINK_VARIABLES), key=lambda k: len(values[k]), default=None)
            if longest is None:
                break
            if len(values[longest]) <= 1:
                break
            excess = sum(len(v) * counts[k] for k, v in values.items()) - budget
            values[longest] = _cut(values[longest], max(1, len(values[longest]) - -(-excess // counts[longest])))
        shown = [DRILL_MARK] if drill else []
        shown += [p if isinstance(p, str) else values[p.name] for p in self.parts]
        if provider == "tencent":
            params: dict[str, str] | list[str] = [values[s.name] for s in self.slots]
        else:
            params = {name: values[name] for name in self.variables(provider)}
        return Filled(params=params, text=f"【{sign_name}】" + "".join(shown))


@dataclass(frozen=True)
class Filled:
    params: dict[str, str] | list[str]  # Aliyun: by name; Tencent: in order
    text: str  # what the phone shows


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:max(0, limit - 1)] + ELLIPSIS


@lru_cache(maxsize=1024)
def shape_of(source: str) -> Shape:
    """The template's fixed text and slots, or NotExpressible naming what stands in the way."""
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError as exc:
        raise NotExpressible(f"does not parse (line {exc.lineno}: {exc.message})") from None
    parts: list[str | Slot] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            kind = next((label for cls, label in _BLOCKS.items() if isinstance(node, cls)), type(node).__name__)
            raise NotExpressible(f"uses {kind}, which a provider template cannot hold: {FIX_BRANCH}")
        for child in node.nodes:
            parts.append(_part(child))
    merged: list[str | Slot] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    if merged and isinstance(merged[0], str):
        merged[0] = merged[0].lstrip()
    if merged and isinstance(merged[-1], str):
        merged[-1] = merged[-1].rstrip()
    merged = [p for p in merged if p != ""]
    fixed = "".join(p for p in merged if isinstance(p, str))
    if "【" in fixed or "】" in fixed:
        raise NotExpressible("has 【】, which only the signature may use: write 「」 or （） instead")
    if _SYNTAX_CLASH.search(fixed):
        raise NotExpressible("has text like ${...} or {1}, which providers read as a variable: reword it")
    names: dict[str, Slot] = {}
    for slot in (p for p in merged if isinstance(p, Slot)):
        if names.setdefault(slot.name, slot) != slot:
            raise NotExpressible(f"uses {slot.name} both with and without a default (or with two defaults):"
                                 f" write it the same way each time")
    return Shape(tuple(merged))


def _part(node: nodes.Node) -> str | Slot:
    if isinstance(node, nodes.TemplateData):
        return node.data
    if isinstance(node, nodes.Name):
        return Slot(node.name)
    if isinstance(node, nodes.Or) and isinstance(node.left, nodes.Name) and isinstance(node.right, nodes.Const) \
            and isinstance(node.right.value, str):
        return Slot(node.left.name, node.right.value)
    what = {nodes.CondExpr: "chooses text with if/else inside {{ }}", nodes.Filter: "applies a filter",
            nodes.Getattr: "reads an attribute", nodes.Getitem: "reads an item", nodes.Concat: "joins text with ~",
            nodes.Call: "calls a function"}
    kind = next((label for cls, label in what.items() if isinstance(node, cls)), "computes text")
    raise NotExpressible(f"{kind}, which a provider template cannot: use a plain {{{{ variable }}}} (or"
                         f" {{{{ variable or \"default\" }}}}) and let the message provide the value")
