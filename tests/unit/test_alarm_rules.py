"""Composite alarms' AlarmRule language: parsing, children, evaluation, errors."""

from __future__ import annotations

import pytest

from dynastore.errors import ValidationException
from dynastore.services.cloudwatch import rules

STATES = {"up": "ALARM", "down": "OK", "new": "INSUFFICIENT_DATA"}


def _value(text: str) -> bool:
    return rules.evaluate(rules.parse(text), lambda name: STATES.get(name, "INSUFFICIENT_DATA"))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("TRUE", True),
        ("FALSE", False),
        ("ALARM(up)", True),
        ('ALARM("up")', True),
        ("OK(up)", False),
        ("INSUFFICIENT_DATA(new)", True),
        ("NOT ALARM(up)", False),
        ("NOT NOT ALARM(up)", True),
        ("ALARM(up) AND OK(down)", True),
        ("ALARM(down) OR OK(down) AND ALARM(new)", False),  # AND binds tighter than OR
        ("(ALARM(down) OR OK(down)) AND NOT ALARM(new)", True),
        ("ALARM(arn:aws:cloudwatch:us-east-1:000000000000:alarm:up)", False),  # by name only
        ("AT_LEAST(1, ALARM, (up, down, new))", True),
        ("AT_LEAST(2, ALARM, (up, down, new))", False),
        ("AT_LEAST(2, NOT OK, (up, down, new))", True),
        ("AT_LEAST(34%, ALARM, (up, down, new))", False),
        ("AT_LEAST(33%, ALARM, (up, down, new))", True),
    ],
)
def test_evaluation(text: str, value: bool) -> None:
    assert _value(text) is value


def test_children_in_order_of_mention() -> None:
    node = rules.parse('OK(b) AND (ALARM("a c") OR AT_LEAST(1, OK, (b, d))) OR ALARM("a c")')
    assert rules.children(node) == ["b", "a c", "d"]


def test_alarm_names_from_arns() -> None:
    arn = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:name:with:colons"
    assert rules.alarm_name(arn, "000000000000", "us-east-1") == "name:with:colons"
    assert rules.alarm_name(arn, "111111111111", "us-east-1") is None
    assert rules.alarm_name(arn, "000000000000", "eu-west-1") is None
    assert rules.alarm_name("plain", "000000000000", "us-east-1") == "plain"


OPERAND = "'(', 'NOT', AT_LEAST, TRUE or FALSE, ALARM, OK, or INSUFFICIENT_DATA"


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("()", f"Unsupported token ')' at char 1, must be: {OPERAND}"),
        ("ALARM(my alarm)", "Unsupported token 'alarm' at char 9, must be: ')'"),
        ("ALARM(a", "Unsupported token '<EOF>' at char 7, must be: ')'"),
        ("ALARM a", "Unsupported token 'a' at char 6, must be: '('"),
        ("ALARM()", "Unsupported token ')' at char 6, must be: an alarm name or ARN"),
        ("TRUE FALSE", "Unsupported token 'FALSE' at char 5, must be: AND or OR"),
        ("(TRUE", "Unsupported token '<EOF>' at char 5, must be: AND, OR, or ')'"),
        ("true", f"Unsupported token 'true' at char 0, must be: {OPERAND}"),
        ('"a"', f"Unsupported token '\"a\"' at char 0, must be: {OPERAND}"),
        ("AT_LEAST(x, ALARM, (a))", "Unsupported token 'x' at char 9, must be: a number or a "
         "percentage"),
        ("AT_LEAST(1, FOO, (a))", "Unsupported token 'FOO' at char 12, must be: ALARM, OK, "
         "INSUFFICIENT_DATA, NOT ALARM, NOT OK, or NOT INSUFFICIENT_DATA"),
        ('ALARM("a)', "Unsupported token '\"a)' at char 6"),
    ],
)  # fmt: skip
def test_errors(text: str, detail: str) -> None:
    with pytest.raises(ValidationException) as raised:
        rules.parse(text)
    assert raised.value.message == f"Error in AlarmRule [{detail}]"
