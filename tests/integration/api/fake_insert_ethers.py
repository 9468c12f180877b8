"""A stand-in for ``ksserver insert ethers`` in a discovery job: it prints the JSON lines the
real one prints for two machines (it registers them first, through the real CLI, so their
marks come from the database), then waits to be closed, as a session does."""

import json
import signal
import sys
import time

from ksserver.cli import main

args = dict(a.split("=", 1) for a in sys.argv[3:] if "=" in a)
appliance, rack = args.get("appliance", "compute"), args.get("rack", "0")
print(json.dumps({"event": "open", "appliance": appliance, "network": "private"}), flush=True)
signal.signal(signal.SIGTERM, lambda *_: (print(json.dumps({"event": "closed", "found": found}), flush=True),
                                          sys.exit(0)))
found = []
for rank, mac in enumerate(("52:54:00:aa:00:01", "52:54:00:aa:00:02")):
    name, ip = f"{appliance}-{rack}-{rank}", f"10.1.255.{254 - rank}"
    main(["add", "host", name, f"rack={rack}", f"rank={rank}"], power=None)
    main(["add", "host", "interface", name, "eth0", f"mac={mac}", f"ip={ip}", "subnet=private"], power=None)
    found.append(name)
    print(json.dumps({"event": "discovered", "mac": mac, "host": name, "ip": ip}), flush=True)
while True:
    time.sleep(0.1)
