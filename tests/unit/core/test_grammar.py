"""The verb-noun grammar, independent of any database."""

import pytest

from ksserver.cli import GRAMMAR
from ksserver.cli.grammar import bind as bind_line
from ksserver.errors import KsError


def split(*argv):
    spec, _words, rest = GRAMMAR.split(list(argv))
    return (spec.name if spec else None), rest


def test_longest_prefix_and_hyphenated_forms():
    assert split("list", "host", "attr", "c-0-0") == ("list host attr", ["c-0-0"])
    assert split("list-host-attr", "c-0-0") == ("list host attr", ["c-0-0"])
    assert split("list", "host-attr", "c-0-0") == ("list host attr", ["c-0-0"])
    assert split("set-attr", "x", "y") == ("set attr", ["x", "y"])
    assert split("list", "host") == ("list host", [])


def test_hyphenated_arguments_are_not_command_words():
    assert split("list", "host", "vm-container-0-0") == ("list host", ["vm-container-0-0"])
    assert split("set", "host", "attr", "vm-container", "x", "1") == ("set host attr", ["vm-container", "x", "1"])


def bind(name, *words):
    spec = GRAMMAR.commands[tuple(name.split())]
    return {k: v for k, v in bind_line(spec, list(words)).kwargs.items() if k not in dict(spec.fixed)}


def test_positional_and_key_value_binding():
    assert bind("set host attr", "h1", "h2", "foo", "bar") == {"host": ["h1", "h2"], "attr": "foo", "value": "bar"}
    assert bind("set host attr", "h1", "attr=foo", "value=a b") == {"host": ["h1"], "attr": "foo", "value": "a b"}
    got = bind("add host", "compute-0-0", "cpus=4", "rack=1")
    assert got["name"] == "compute-0-0" and got["cpus"] == "4" and got["rack"] == "1"


def test_missing_and_unknown_are_named():
    with pytest.raises(KsError, match="missing value"):
        bind("set host attr", "h1", "foo")
    with pytest.raises(KsError, match='unknown parameter "colour"'):
        bind("add host", "x", "colour=red")
    with pytest.raises(KsError, match='unexpected argument "extra"'):
        bind("set attr", "a", "b", "extra")
