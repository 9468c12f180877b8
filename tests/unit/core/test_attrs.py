import pytest

from ksserver.attrs import (
    Level,
    check_settable,
    check_value,
    explain,
    format_site_attrs,
    parse_site_attrs,
    resolve,
)
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


# --- the bulk path (what list host attr, the warmer and the install server use) -----------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ksserver.attrs import BulkResolver, Level  # noqa: E402

_NAMES = st.sampled_from(["a", "b", "c", "hostname", "x11"])
_LAYER = st.dictionaries(_NAMES, st.text(max_size=3), max_size=4)


def _by_hand(intrinsic, glob, os_layer, app, own):
    """The precedence as the README states it, written out: host > appliance > OS > global
    > intrinsic."""
    out = {}
    for name in set(intrinsic) | set(glob) | set(os_layer) | set(app) | set(own):
        for layer, letter in ((own, "H"), (app, "A"), (os_layer, "O"), (glob, "G"), (intrinsic, "I")):
            if name in layer and layer[name] is not None:
                out[name] = (layer[name], letter)
                break
    return out


@settings(max_examples=300, deadline=None)
@given(glob=_LAYER, oses=st.lists(_LAYER, min_size=1, max_size=3), apps=st.lists(_LAYER, min_size=1, max_size=3),
       hosts=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), _LAYER, st.one_of(st.none(), st.text(max_size=2))),
                      min_size=1, max_size=6))
def test_bulk_resolution_is_the_precedence_for_every_host(glob, oses, apps, hosts):
    resolver = BulkResolver(glob)  # one resolver for many hosts, sharing the merged levels
    for os_i, app_i, own, hostname in hosts:
        os_layer, app = oses[os_i % len(oses)], apps[app_i % len(apps)]
        intrinsic = {"hostname": hostname}
        shared = resolver.shared((os_i % len(oses), app_i % len(apps)), os_layer, app)
        got = {k: (v.value, v.source.value) for k, v in resolver.host(intrinsic, shared, own).items()}
        assert got == _by_hand(intrinsic, glob, os_layer, app, own)
        single = resolve(intrinsic, {Level.GLOBAL: glob, Level.OS: os_layer, Level.APPLIANCE: app, Level.HOST: own})
        assert {k: (v.value, v.source.value) for k, v in single.items()} == got
