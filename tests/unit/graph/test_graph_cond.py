"""The cond language: coercion, precedence, unknown names, malformed input — never eval."""

import pytest

from ksserver.errors import KsError
from ksserver.nodes.cond import CondSyntaxError, coerce, compile_cond, make_cond


@pytest.mark.parametrize(
    "raw, value",
    [
        ("on", True), ("TRUE", True), ("Yes", True), ("y", True),
        ("off", False), ("False", False), ("NO", False), ("n", False),
        ("6", 6), ("-3", -3), ("6.1", 6.1), (" 7 ", 7), ("1e3", 1000.0),
        ("compute", "compute"), ("10.1.1.1", "10.1.1.1"), ("", ""), ("nan", "nan"),
        (5, 5), (None, None), (True, True),
    ],
)
def test_coercion(raw, value):
    got = coerce(raw)
    assert got == value and type(got) is type(value)


def ev(text, **attrs):
    return compile_cond(text)(attrs)


def test_names_literals_and_comparisons():
    assert ev("x11", x11="yes") is True
    assert ev("x11", x11="off") is False
    assert ev("x11") is False  # unknown attribute is None, i.e. false
    assert ev("not x11") is True
    assert ev('appliance == "compute"', appliance="compute")
    assert ev("appliance == 'compute'", appliance="compute")
    assert ev('appliance != "compute"', appliance="nas")
    assert ev("rocks_version >= 6", rocks_version="6.1")
    assert not ev("rocks_version >= 6", rocks_version="5.2")
    assert ev("rank < 10", rank=3) and ev("rank <= 3", rank="3") and ev("rank > 2", rank="3")
    assert ev("1 < rank < 5", rank="3") and not ev("1 < rank < 2", rank="3")
    assert ev("True") and not ev("False") and not ev("None")


def test_is_none_and_is_not_none_as_rocks_graphs_write_them():
    assert ev("Kickstart_PublicInterface is None") and not ev("x is None", x="eth1")
    assert ev("x is not None", x="eth1") and not ev("x is not None")
    assert ev("x is not None and x == 'eth1'", x="eth1")
    assert ev("not x is None", x="") is True  # an empty value is set: it is not None
    assert ev("x is True", x="yes") and not ev("x is True", x="1")  # "1" is the number 1
    assert compile_cond("a is not None or b is None").names == frozenset({"a", "b"})


def test_precedence_not_over_and_over_or():
    # not binds tighter than and, which binds tighter than or
    assert ev("a or b and c", a="yes", b="no", c="no")
    assert not ev("(a or b) and c", a="yes", b="no", c="no")
    assert ev("not a and b", a="no", b="yes")
    assert not ev("not (a and b)", a="yes", b="yes")
    assert ev("not not a", a="y")


def test_mixed_types_compare_false_not_crash():
    assert not ev("x < 5")  # None < 5
    assert not ev('x > "a"', x=3)
    assert ev("x == 5", x="5") and not ev('x == "5"', x="5")


@pytest.mark.parametrize(
    "text",
    ["a ==", "(a", "a)", "a = b", "a is", "a is not", "is None", "a not None", "__import__('os')", "a + b", "a.b(", "'unterminated", "and", "x11 x11", "1abc"],
)
def test_malformed_raises(text):
    with pytest.raises(CondSyntaxError):
        compile_cond(text)


def test_make_cond_names_file_and_line():
    with pytest.raises(KsError, match=r'^nodes/x\.xml:7: bad cond "a ==".*column'):
        make_cond("nodes/x.xml:7", cond="a ==")


def test_legacy_lists_and_cond_are_anded():
    c = make_cond("f:1", arch="x86_64, aarch64", os="linux", cond="x11")
    assert c({"arch": "aarch64", "os": "linux", "x11": "true"})
    assert not c({"arch": "i386", "os": "linux", "x11": "true"})
    assert not c({"arch": "x86_64", "os": "linux"})
    assert make_cond("f:1").always


def test_no_eval_side_effects():
    # anything that would be a call in Python is a syntax error, not an execution
    with pytest.raises(CondSyntaxError):
        compile_cond("open('/etc/passwd')")
