"""One error type for everything a user can get wrong.

Its message is a single line naming the thing that is wrong; the CLI prints it as
``error - <message>`` and exits 1, the web app turns it into a one-line HTTP error.
"""


class KsError(Exception):
    """A user-facing failure: bad input, an unknown name, a broken file."""

    def __init__(self, message: str):
        message = " ".join(str(message).split("\n")).strip()
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class NotFound(KsError):
    """A named thing (host, appliance, OS, network, roll…) does not exist."""


class Forbidden(KsError):
    """The requester may not see what it asked for (HTTP 403)."""


class Unreachable(KsError):
    """A server ksserver drives (Kea's control socket, Kea's hosts database) does not
    answer: an inventory change stands, with a warning, and a later ``sync`` applies it."""


class Problems(KsError):
    """Several one-line errors at once (``check graph``, a host sheet's every bad line): the
    CLI prints each as its own ``error - …`` line."""

    def __init__(self, lines: list[str]):
        super().__init__(lines[0] if lines else "")
        self.lines = [" ".join(str(line).split("\n")).strip() for line in lines]
