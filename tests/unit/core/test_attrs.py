import pytest

from ksserver.attrs import Level, check_settable, check_value, explain, parse_site_attrs, resolve, format_site_attrs
from ksserver.errors import KsError

LAYERS = {
    Level.GLOBAL: {"a": "g", "b": "g", "c": "g", "d": "g"},
    Level.OS: {"b": "o", "c": "o", "d": "o"},
    Level.APPLIANCE: {"c": "a", "d": "a"},
    Level.HOST: {"d": "h"},
}


def test_precedence_host_appliance_os_global():
    got = {k: (v.value, v.source.value) for k, v in resolve({"hostname": "n1", "hostaddr": None}, LAYERS).items()}
    assert got == {"a": ("g", "G"), "b": ("o", "O"), "c": ("a", "A"), "d": ("h", "H"), "hostname": ("n1", "I")}


def test_explain_marks_the_winner_most_specific_first():
    rows = explain("c", {}, LAYERS)
    assert [(lvl.value, val, win) for lvl, val, win in rows] == [
        ("H", None, False), ("A", "a", True), ("O", "o", False), ("G", "g", False), ("I", None, False)
    ]


@pytest.mark.parametrize("name", ["hostname", "rack", "rank", "appliance", "membership", "hostaddr", "ksmac"])
def test_intrinsic_names_cannot_be_set(name):
    with pytest.raises(KsError, match="intrinsic"):
        check_settable(name, Level.HOST)


@pytest.mark.parametrize("name", ["1abc", "a b", "", "a/b", "x;y"])
def test_bad_names(name):
    with pytest.raises(KsError, match="invalid attribute name"):
        check_settable(name, Level.GLOBAL)


def test_value_line_starting_with_percent_is_refused_but_markup_is_data():
    with pytest.raises(KsError, match='starting with "%"'):
        check_value("x", "ok\n%end")
    assert check_value("x", "50% <b>&amp;]]>") == "50% <b>&amp;]]>"


def test_site_attrs_round_trip_and_errors():
    text = "b:2\nA: x:y \n\n# comment\n"
    attrs = parse_site_attrs(text)
    assert attrs == {"b": "2", "A": "x:y"}
    assert format_site_attrs(attrs) == "A:x:y\nb:2\n"
    with pytest.raises(KsError, match=r"f:2: expected"):
        parse_site_attrs("a:1\nnocolon\n", "f")
