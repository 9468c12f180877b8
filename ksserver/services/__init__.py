"""The service layer: the one place where the rules meet the inventory.

Rule: the CLI and the web app call these functions and nothing below them; each command
runs inside one ``transaction()`` so that a failure anywhere changes nothing (the install
server's kickstart path uses ``hot_connection()``: no ORM session, autocommit, no ping). Functions
take the session first and return plain values (records, tables, text).
"""

from ksserver.db.session import Disconnected, hot_connection, transaction

__all__ = ["Disconnected", "hot_connection", "transaction"]
