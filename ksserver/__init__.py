"""ksserver: the brain of a cluster frontend that kickstarts every other machine.

Layers, innermost first: a pure core (``attrs``, ``nodes``, ``graph``, ``table``, ``vm``)
that knows the rules; the edges (``db`` for the inventory, ``power`` for hypervisors); one
service layer (``services``) that applies the rules to the inventory; and two faces that
only parse and print (``cli``, ``web``).
"""

__version__ = "0.1.0"
