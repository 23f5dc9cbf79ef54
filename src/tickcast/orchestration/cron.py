"""KFP recurring-run cron: six fields (seconds first), evaluated in UTC."""

from __future__ import annotations

from tickcast.orchestration.packages import OrchestrationError

# Field name and allowed range, in KFP's order.
_FIELDS = [
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 6),
]
_NAMES = {
    "month": ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    "day of week": ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
}


def kfp_cron(expression: str) -> str:
    """A six-field KFP cron from a five-field (standard, seconds = 0) or six-field expression;
    OrchestrationError names the field that is wrong."""
    fields = expression.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise OrchestrationError(
            f"cron {expression!r}: expected 5 fields (minute hour day month weekday) or 6 "
            f"(KFP's, seconds first), got {len(fields)}"
        )
    for value, (name, low, high) in zip(fields, _FIELDS, strict=True):
        _check_field(expression, value, name, low, high)
    return " ".join(fields)


def _check_field(expression: str, value: str, name: str, low: int, high: int) -> None:
    for part in value.split(","):
        span, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            raise OrchestrationError(f"cron {expression!r}: bad step {step!r} in the {name} field")
        if span in ("*", "?"):
            continue
        for bound in span.split("-", 1):
            number = _number(bound, name)
            if number is None or not low <= number <= high:
                raise OrchestrationError(
                    f"cron {expression!r}: {bound!r} in the {name} field is not in {low}-{high}"
                )


def _number(text: str, name: str) -> int | None:
    if text.isdigit():
        return int(text)
    names = _NAMES.get(name, [])
    upper = text.upper()
    offset = 1 if name == "month" else 0
    return names.index(upper) + offset if upper in names else None
