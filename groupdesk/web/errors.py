"""What the console answers when a request is refused: by the workflow's validator, or as malformed input."""

from __future__ import annotations


class Rejected(Exception):
    """The workflow refused the request (its validator said why)."""


class Invalid(Rejected):
    """What was sent is out of bounds or malformed (422); the message starts with the field's name."""

    def __init__(self, field: str, message: str, status: int = 422):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.status = status  # 400 for a bad filter, 422 for a bad body


def check(problems: dict[str, str]) -> None:
    """Raise Invalid for the first problem, if any."""
    for field, message in problems.items():
        raise Invalid(field, message)


def refuse(field: str, problem: str | None) -> None:
    """Raise Invalid naming `field` if there is a problem."""
    if problem:
        raise Invalid(field, problem)
