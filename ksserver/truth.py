"""What counts as yes and as no in a value a user typed: one set of words for every command
parameter, attribute (``trust_mac_headers``, ``x11``…) and graph condition."""

YES = frozenset({"on", "yes", "y", "true", "1"})
NO = frozenset({"off", "no", "n", "false", "0"})


def is_yes(value: object) -> bool:
    return str(value or "").strip().lower() in YES
