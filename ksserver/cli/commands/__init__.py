"""Every command of the CLI, in one table: its words, the function that runs it (imported
only when it runs), its arguments and what ``ksserver help`` says of it.

A row's function gets the command's one transaction first (``session``) unless the row says
``session=False``, and ``power=`` (how to reach hypervisors) when it says ``power=True``.
Rows that share a function pass what tells them apart in ``fixed``.
"""

from ksserver.cli.grammar import Command as C

_IFACE_FIELDS = ("mac", "ip", "subnet", "vlan", "module", "name", "options", "channel")
_FIREWALL = ("network", "output-network", "service", "protocol", "action", "chain", "flags")

COMMANDS: tuple[C, ...] = (
    # --- setup -------------------------------------------------------------------------
    C("init", "setup:init", "Create or upgrade the database and set up this frontend from a site.attrs file "
      "(the demo site's when none is given). Safe to run again: it changes only what is new.",
      "site_attrs_file?", session=False),

    # --- attributes at four levels -----------------------------------------------------
    C("set attr", "attrs:set_attr", "Set an attribute at the global level (create or replace).",
      "attr value", fixed=(("level", "global"),)),
    C("add attr", "attrs:set_attr", "Add an attribute at the global level; fails if it exists.",
      "attr value", fixed=(("level", "global"), ("add", True))),
    C("remove attr", "attrs:remove_attr", "Remove an attribute from the global level.",
      "attr", fixed=(("level", "global"),)),
    C("list attr", "attrs:list_attr", "List the attributes set at the global level.",
      json=True, fixed=(("level", "global"),)),
    C("set os attr", "attrs:set_attr", "Set an attribute at the os level (create or replace).",
      "os+ attr value", fixed=(("level", "os"),)),
    C("add os attr", "attrs:set_attr", "Add an attribute at the os level; fails if it exists.",
      "os+ attr value", fixed=(("level", "os"), ("add", True))),
    C("remove os attr", "attrs:remove_attr", "Remove an attribute from the os level.",
      "os+ attr", fixed=(("level", "os"),)),
    C("list os attr", "attrs:list_attr", "List the attributes set at the os level.",
      "os*", json=True, fixed=(("level", "os"),)),
    C("set appliance attr", "attrs:set_attr", "Set an attribute at the appliance level (create or replace).",
      "appliance+ attr value", fixed=(("level", "appliance"),)),
    C("add appliance attr", "attrs:set_attr", "Add an attribute at the appliance level; fails if it exists.",
      "appliance+ attr value", fixed=(("level", "appliance"), ("add", True))),
    C("remove appliance attr", "attrs:remove_attr", "Remove an attribute from the appliance level.",
      "appliance+ attr", fixed=(("level", "appliance"),)),
    C("list appliance attr", "attrs:list_attr", "List the attributes set at the appliance level.",
      "appliance*", json=True, fixed=(("level", "appliance"),)),
    C("set host attr", "attrs:set_attr", "Set an attribute at the host level (create or replace).",
      "host+ attr value", fixed=(("level", "host"),)),
    C("add host attr", "attrs:set_attr", "Add an attribute at the host level; fails if it exists.",
      "host+ attr value", fixed=(("level", "host"), ("add", True))),
    C("remove host attr", "attrs:remove_attr", "Remove an attribute from the host level.",
      "host+ attr", fixed=(("level", "host"),)),
    C("list host attr", "attrs:list_host_attr", "Every resolved attribute of the hosts, with the level it came from "
      "(SOURCE: H host, A appliance, O OS, G global, I intrinsic).", "host*", ("attr",), json=True),
    C("report host attr", "attrs:report_host_attr", "The hosts' resolved attributes as a site.attrs file; "
      "attr=NAME prints one bare value.", "host+", ("attr",)),
    C("explain host attr", "attrs:explain_host_attr", "Every level's value of one attribute for a host, "
      "the winner marked with *.", "host attr", json=True),

    # --- API tokens ------------------------------------------------------------------------
    C("add api token", "tokens:add_api_token", "Make a bearer token for the REST API (role=read, the default, or "
      "admin); kept as its SHA-256 only, so it is shown this once, alone on the last line.", "name", ("role",)),
    C("list api token", "tokens:list_api_token", "API tokens: NAME ROLE CREATED LAST-USED (never the tokens).",
      json=True),
    C("remove api token", "tokens:remove_api_token", "Remove an API token: it stops working at once.", "name"),
    C("add user", "tokens:add_user", "Add a user of the web console (role=read, the default, or admin); the "
      "password is asked twice on a terminal, else read from stdin's first line; kept as its argon2 hash.",
      "name", ("role",), resident=False),
    C("set user password", "tokens:set_user_password", "Change a console user's password (asked as by add user).",
      "name", resident=False),
    C("set user role", "tokens:set_user_role", "Change a console user's role: read or admin.", "name role"),
    C("list user", "tokens:list_user", "Console users: NAME ROLE CREATED LAST-LOGIN.", json=True),
    C("remove user", "tokens:remove_user", "Remove a console user: their sessions end at their next request.",
      "name"),

    # --- static routes, at the same four levels ------------------------------------------
    C("add route", "routes:add_route", "Add a static route for every host: NETWORK GATEWAY (an address, or a "
      "network's name: the host's device on it); netmask= (default 255.255.255.255).",
      "network gateway", ("netmask",), fixed=(("level", "global"),)),
    C("add os route", "routes:add_route", "Add a static route for an OS's hosts.", "os+ network gateway",
      ("netmask",), fixed=(("level", "os"),)),
    C("add appliance route", "routes:add_route", "Add a static route for an appliance's hosts.",
      "appliance+ network gateway", ("netmask",), fixed=(("level", "appliance"),)),
    C("add host route", "routes:add_route", "Add a static route for hosts.", "host+ network gateway",
      ("netmask",), fixed=(("level", "host"),)),
    C("remove route", "routes:remove_route", "Remove a global static route.", "network",
      fixed=(("level", "global"),)),
    C("remove os route", "routes:remove_route", "Remove an OS's static route.", "os+ network",
      fixed=(("level", "os"),)),
    C("remove appliance route", "routes:remove_route", "Remove an appliance's static route.",
      "appliance+ network", fixed=(("level", "appliance"),)),
    C("remove host route", "routes:remove_route", "Remove hosts' static route.", "host+ network",
      fixed=(("level", "host"),)),
    C("list route", "routes:list_route", "The global static routes.", json=True, fixed=(("level", "global"),)),
    C("list host route", "routes:list_host_route", "Every route of the hosts, with the level it came from "
      "(SOURCE: H host, A appliance, O OS, G global).", "host*", json=True),
    C("report host route", "routes:report_host_route", "A host's /etc/sysconfig/static-routes (the original's "
      "format; the default route is report host network's GATEWAY).", "host"),

    # --- firewall rules, at the same four levels ------------------------------------------
    C("add firewall", "firewall:add_firewall", "Add an iptables rule for every host: service= (all, nat, a port, "
      "a:b, a name), protocol= (all, tcp, udp, icmp), action= (ACCEPT, REJECT, MASQUERADE), network= and "
      "output-network= (a network's name; default all), chain= (default INPUT), flags=, comment=.",
      params=(*_FIREWALL, "comment"), fixed=(("level", "global"),)),
    C("add os firewall", "firewall:add_firewall", "Add an iptables rule for an OS's hosts.", "os+",
      (*_FIREWALL, "comment"), fixed=(("level", "os"),)),
    C("add appliance firewall", "firewall:add_firewall", "Add an iptables rule for an appliance's hosts.",
      "appliance+", (*_FIREWALL, "comment"), fixed=(("level", "appliance"),)),
    C("add host firewall", "firewall:add_firewall", "Add an iptables rule for hosts.", "host+",
      (*_FIREWALL, "comment"), fixed=(("level", "host"),)),
    C("remove firewall", "firewall:remove_firewall", "Remove global iptables rules, named by the same parameters.",
      params=_FIREWALL, fixed=(("level", "global"),)),
    C("remove os firewall", "firewall:remove_firewall", "Remove an OS's iptables rules.", "os+", _FIREWALL,
      fixed=(("level", "os"),)),
    C("remove appliance firewall", "firewall:remove_firewall", "Remove an appliance's iptables rules.",
      "appliance+", _FIREWALL, fixed=(("level", "appliance"),)),
    C("remove host firewall", "firewall:remove_firewall", "Remove hosts' iptables rules.", "host+", _FIREWALL,
      fixed=(("level", "host"),)),
    C("list firewall", "firewall:list_firewall", "The global iptables rules.", json=True,
      fixed=(("level", "global"),)),
    C("list host firewall", "firewall:list_host_firewall", "Every iptables rule of the hosts, with the level it "
      "came from (SOURCE: H host, A appliance, O OS, G global).", "host*", json=True),
    C("report host firewall", "firewall:report_host_firewall", "A host's /etc/sysconfig/iptables as node-file XML "
      "(the original's format, for graphs' <eval mode=\"xml\">).", "host"),

    # --- hosts, interfaces, partitions, appliances, networks, OSes ----------------------
    C("add host", "inventory:add_host", "Add a host; a name <appliance>-<rack>-<rank> supplies those three.",
      "name", ("membership", "appliance", "rack", "rank", "cpus", "os", "arch")),
    C("list host", "inventory:list_host", "Hosts with their membership, CPUs, rack, rank and boot actions.",
      "host*", json=True),
    C("remove host", "inventory:remove_host", "Remove hosts with their interfaces and attributes, and a VM's "
      "libvirt domain; force=yes removes a VM's records even when its hypervisor cannot be reached.",
      "host+", ("force",), power=True),
    C("set host cpus", "inventory:set_host_field", "Set the number of CPUs of hosts.", "host+ value",
      fixed=(("field", "cpus"),)),
    C("set host rack", "inventory:set_host_field", "Set the rack of hosts.", "host+ value", fixed=(("field", "rack"),)),
    C("set host rank", "inventory:set_host_field", "Set the rank of hosts.", "host+ value", fixed=(("field", "rank"),)),
    C("set host appliance", "inventory:set_host_field", "Set the appliance of hosts.", "host+ value",
      fixed=(("field", "appliance"),)),
    C("set host membership", "inventory:set_host_field", "Set the membership (appliance) of hosts.", "host+ value",
      fixed=(("field", "membership"),)),
    C("add host interface", "inventory:add_host_interface", "Add a network interface to a host.",
      "host iface", _IFACE_FIELDS),
    C("list host interface", "inventory:list_host_interface", "Interfaces of hosts: subnet, device, MAC, IP, "
      "netmask, module, name, VLAN.", "host*", json=True),
    C("set host interface ip", "inventory:set_interface_field", "Set the IP address of one interface of a host.",
      "host iface ip", fixed=(("field", "ip"),)),
    C("set host interface mac", "inventory:set_interface_field", "Set the MAC address of one interface of a host.",
      "host iface mac", fixed=(("field", "mac"),)),
    C("set host interface subnet", "inventory:set_interface_field", "Set the network of one interface of a host.",
      "host iface subnet", fixed=(("field", "subnet"),)),
    C("set host interface vlan", "inventory:set_interface_field", "Set the VLAN of one interface of a host.",
      "host iface vlan", fixed=(("field", "vlan"),)),
    C("set host interface module", "inventory:set_interface_field", "Set the driver module of one interface of a host.",
      "host iface module", fixed=(("field", "module"),)),
    C("set host interface name", "inventory:set_interface_field", "Set the host name on one interface of a host.",
      "host iface name", fixed=(("field", "name"),)),
    C("remove host interface", "inventory:remove_host_interface", "Remove one interface of a host.", "host iface"),
    C("add host partition", "inventory:add_host_partition", "Record a disk partition of a host "
      "(VM disk images go on the largest one).", "host device", ("mountpoint", "size", "fstype")),
    C("list host partition", "inventory:list_host_partition", "Partitions of hosts: device, mount point, size, "
      "file system.", "host*", json=True),
    C("remove host partition", "inventory:remove_host_partition", "Remove one partition record of a host, or all "
      "of them.", "host device?"),
    C("add appliance", "inventory:add_appliance", "Add an appliance: a kind of machine, rooted at a node of the graph.",
      "name", ("membership", "node", "graph", "public", "kickstartable")),
    C("set appliance graph", "inventory:set_appliance_graph", "Render appliances from another graph (a site "
      "directory's graphs/NAME/, in place of the shipped default), and from another root node with node=.",
      "appliance+ graph", ("node",)),
    C("list appliance", "inventory:list_appliance", "Appliances with their membership, graph and root node.",
      json=True),
    C("remove appliance", "inventory:remove_appliance", "Remove an appliance that no host uses.", "name"),
    C("add network", "inventory:add_network", "Add a network (subnet): name, subnet address, netmask.",
      "name subnet netmask", ("dnszone", "mtu", "servedns")),
    C("list network", "inventory:list_network", "Networks with their subnet, netmask, MTU and DNS zone.", json=True),
    C("remove network", "inventory:remove_network", "Remove a network no interface uses.", "name"),
    C("add os", "inventory:add_os", "Add an OS, so that attributes can be set for it.", "name"),
    C("list os", "inventory:list_os", "Known OSes.", json=True),

    # --- the graph ---------------------------------------------------------------------
    C("list host xml", "graph:list_host_xml", "The merged XML profile of hosts (stage one: the graph walked, "
      "entities expanded).", "host+"),
    C("list host profile", "graph:list_host_profile", "The kickstart file of hosts (stage two), as an installer "
      "receives it.", "host+"),
    C("list node xml", "graph:list_node_xml", "Render a root node from a site.attrs file, with no host record and no "
      "database (how a frontend builds its own kickstart); format=kickstart gives stage two.",
      "root", ("attrs", "graph", "format"), session=False),
    C("check graph", "graph:check_graph", "Check the graph for every kickstartable appliance (or those named): "
      "well-formed files, edges, cycles, unreachable nodes, undefined entities, and pykickstart's verdict.",
      "appliance*"),
    C("report graph", "graph:report_graph", "The graph as Graphviz DOT (format=dot, the default) or SVG "
      "(format=svg); with an appliance, the nodes its hosts traverse are highlighted.", "appliance?", ("format",)),

    # --- bootactions, boot state, PXE files, install status -----------------------------
    C("add bootaction", "install:add_bootaction", "Add a bootaction (kernel, ramdisk, args), or update the columns "
      "given if it exists.", "action?", ("kernel", "ramdisk", "args")),
    C("list bootaction", "install:list_bootaction", "Bootactions: ACTION KERNEL RAMDISK ARGS, sorted by action.",
      json=True),
    C("remove bootaction", "install:remove_bootaction", "Remove a bootaction no host uses.", "action?"),
    C("set host installaction", "install:set_host_action", "Set the bootaction hosts install with (none clears it).",
      "host+ action", fixed=(("kind", "installaction"),), aliases=("set host installation",)),
    C("set host runaction", "install:set_host_action", "Set the bootaction hosts run with (none clears it).",
      "host+ action", fixed=(("kind", "runaction"),)),
    C("set host boot", "install:set_host_boot", "Set what hosts do at their next network boot: action=install "
      "(mints an install token) or action=os.", "host+", ("action",)),
    C("list host boot", "install:list_host_boot", "Hosts' next boot, install and run actions; showtoken=yes adds "
      "the install token.", "host*", ("showtoken",), json=True),
    C("report host bootfile", "install:report_host_bootfile", "Hosts' PXE files (pxelinux.cfg), as "
      "`sync host bootfile` writes them.", "host+"),
    C("sync host bootfile", "install:sync_host_bootfile", "Write pxelinux.cfg/<HEX-IP> files (all hosts when none "
      "is named), atomically.", "host*", ("tftpboot",)),
    C("list host status", "install:list_host_status", "Install progress: each host's next boot, last install stage, "
      "its time and address.", "host*", json=True),

    # --- network boot: DHCP -----------------------------------------------------------------
    C("report host dhcp", "netboot:report_host_dhcp", "Kea's DHCPv4 configuration from the inventory (JSON): a "
      "subnet per network this frontend serves, a reservation per interface with a MAC and an address, boot "
      "files by client (iPXE, UEFI, BIOS). What `sync dhcp` applies."),
    C("report host dhcpd", "netboot:report_host_dhcpd", "The same DHCP configuration in ISC dhcpd.conf form, for "
      "sites that keep ISC dhcpd."),
    C("report host ipxe", "netboot:report_host_ipxe", "The iPXE script a host gets at its next network boot "
      "(/install/boot/ipxe): its install action with its install token, or back to the local disk.", "host+"),
    C("add distro", "netboot:add_distro", "Register a Red Hat-family install tree (a directory with a .treeinfo, or "
      "a mounted ISO): served at /install/NAME/ARCH/; makes bootactions `install NAME`, `install NAME headless`, "
      "`rescue NAME` and sets Kickstart_Distribution for its OS (os=, default linux). The first tree, or "
      "default=yes, is also what `install`, `install headless` and `rescue` boot.", "name directory",
      ("os", "default")),
    C("list distro", "netboot:list_distro", "Registered install trees: NAME FAMILY VERSION ARCH PATH.", json=True),
    C("remove distro", "netboot:remove_distro", "Forget an install tree and its bootactions (its files stay); "
      "refused while a host boots with one of them.", "name"),
    C("sync config", "netboot:sync_config", "Regenerate everything network boot derives from the inventory: the "
      "TFTP root's loaders (from Debian's ipxe, pxelinux, syslinux-common), every PXE file, the hosts file's "
      "ksserver block (attribute hosts_file, default /etc/hosts) and DHCP (applied to Kea)."),
    C("report host", "netboot:report_host", "The hosts file (/etc/hosts form) of the inventory: the block "
      "`sync config` writes."),
    C("report host network", "netboot:report_host_network", "A host's /etc/sysconfig/network as node-file XML "
      "(the original's format, for graphs' <eval mode=\"xml\">).", "host"),
    C("report host interface", "netboot:report_host_interface", "A host's ifcfg files as node-file XML (the "
      "original's format); iface=DEV prints that interface's lines alone.", "host", ("iface",)),
    C("insert ethers", "discovery:insert_ethers", "Discover machines that boot from the network: each unknown MAC "
      "Kea sees while this runs is named <basename>-<rack>-<rank> (the next free name), given the next free "
      "private address (down from the top; baseip=, inc=), registered and set to install; its reservation is "
      "in Kea before its next DHCP request. count= machines, then it ends once they have fetched their "
      "kickstarts. hostname= or ipaddr=: one machine. replace=HOST: one machine takes HOST's place; remove=HOST; "
      "update=yes: as sync config. On a terminal the original's screen (F8 quits, F9 at once); elsewhere one "
      "JSON line per event.", "",
      ("appliance", "rack", "rank", "basename", "hostname", "ipaddr", "baseip", "inc", "count", "install", "replace",
       "remove", "update"), session=False, power=True, resident=False),
    C("load hostfile", "netboot:load_hostfile", "Add or update hosts from a spreadsheet (CSV, Stacki's columns: "
      "NAME, APPLIANCE, RACK, RANK, IP, MAC, INTERFACE, NETWORK required; one row per interface; IP=auto takes the "
      "next free address). Every error is reported with its line before anything is written; then all of it in "
      "one transaction. mode=replace (a listed host's interfaces are the sheet's) or merge; dry-run=yes only checks.",
      "file", ("dry-run", "mode")),
    C("report hostfile", "netboot:report_hostfile", "Every host (but this frontend) as a spreadsheet "
      "`load hostfile` reads back."),
    C("sync dhcp", "netboot:sync_dhcp", "Check the DHCP configuration with Kea (config-test) and apply it "
      "(config-set, config-write) through Kea's control socket (attribute Dhcp_ControlSocket, default "
      "/run/kea/kea4-ctrl-socket)."),

    # --- rolls -------------------------------------------------------------------------
    C("add roll", "install:add_roll", "Add a roll: name, version=, arch= [os=linux] [url=].",
      "name", ("version", "arch", "os", "url")),
    C("list roll", "install:list_roll", "Rolls: NAME VERSION ARCH OS ENABLED URL.", "name*", json=True),
    C("enable roll", "install:enable_roll", "Enable a roll (every version and arch unless given).",
      "name", ("version", "arch", "os"), fixed=(("enabled", True),)),
    C("disable roll", "install:enable_roll", "Disable a roll (every version and arch unless given).",
      "name", ("version", "arch", "os"), fixed=(("enabled", False),)),
    C("remove roll", "install:remove_roll", "Remove a roll (every version and arch unless given) and its host "
      "assignments.", "name", ("version", "arch", "os")),
    C("set host roll", "install:set_host_roll", "Give a frontend host a roll to install lights-out.",
      "host name version arch", ("os",)),
    C("remove host roll", "install:remove_host_roll", "Take a roll from a frontend host.",
      "host name version? arch?", ("os",)),
    C("list host roll", "install:list_host_roll", "Rolls of frontend hosts: HOST NAME VERSION ARCH OS.",
      "host*", json=True),
    C("report host roll", "install:report_host_roll", "rolls.xml of frontend hosts (what a lights-out install "
      "reads).", "host*"),

    # --- the install server ------------------------------------------------------------
    C("serve", "install:serve", "Serve kickstarts, site.attrs and rolls.xml to installers (gunicorn; dev=yes: "
      "Flask's server). bind=HOST:PORT (default: the frontend's private address, port 8080), workers=2, threads= (the worker's share of "
      "max_concurrent_profiles); certfile= and keyfile= serve HTTPS, as the original's installers expect: a "
      "kickstart holds a password hash and its URL an install token. warm=no: do not render the kickstarts of "
      "hosts set to install ahead of their requests. The REST API (/api/v1/) and the web console listen apart, "
      "on api=HOST:PORT (default 127.0.0.1:8081; api=no: not at all), with the same certfile= and keyfile=.", "",
      ("bind", "workers", "threads", "timeout", "dev", "certfile", "keyfile", "warm", "api"), session=False,
      resident=False, power=True),

    # --- virtual clusters and VMs ------------------------------------------------------
    C("add cluster", "vms:add_cluster", "Add a virtual cluster: a VM frontend on this frontend and compute VMs on "
      "the containers.", "fqdn ip num-computes",
      ("container-hosts", "cpus-per-compute", "disk-per-compute", "disk-per-frontend", "mem-per-compute", "vlan")),
    C("remove cluster", "vms:remove_cluster", "Remove virtual clusters (named by their VM frontends): VMs, VLANs and "
      "libvirt domains.", "frontend+", power=True),
    C("list cluster", "vms:list_cluster", "Each frontend with its client nodes, physical or VM (status=y adds the "
      "libvirt state).", "frontend*", ("status",), json=True, power=True),
    C("list host vm", "vms:list_host_vm", "VMs: slice, memory, CPUs, MACs, container (status=y, showdisks=y).",
      "host*", ("status", "showdisks"), json=True, power=True),
    C("set host vm", "vms:set_host_vm", "Change one VM's disks, memory, CPUs, container, slice or virtualisation "
      "type.", "host", ("disk", "disksize", "mem", "cpus", "physnode", "slice", "virt-type")),
    C("remove host vm", "vms:remove_host_vm", "Forget the VM records of hosts and undefine their libvirt domains "
      "(the hosts stay).", "host+", power=True),
    C("dump host vm", "vms:dump_host_vm", "Commands that recreate the VM records.", "host*"),
    C("report host vm", "vms:report_host_vm", "The VM's Xen boot configuration (bootKernel, installArgs, disk…).",
      "host"),
    C("report host vm config", "vms:report_host_vm_config", "The libvirt domain XML that `start host vm` defines.",
      "host"),
    C("start host vm", "vms:start_host_vm", "Define and boot VMs: a frontend VM from the install kernel while set to "
      "install, else its disk; other fully virtualised VMs the network, then their disk. Makes the bridges of the "
      "VLANs their NICs join first.", "host+", power=True, aliases=("create host vm",)),
    C("sync host vlan", "vms:sync_host_vlan", "Make the bridges (and 802.1Q links, unless vm_vlan_uplink=no) of the "
      "virtual-cluster VLANs the hosts carry (every such host when none is named).", "host*", power=True),
    C("stop host vm", "vms:stop_host_vm", "Destroy VMs: pull the power cord.", "host+", power=True),
    C("pause host vm", "vms:pause_host_vm", "Keep VMs in memory but stop scheduling them.", "host+", power=True),
    C("resume host vm", "vms:resume_host_vm", "Resume paused VMs.", "host+", power=True),
    C("save host vm", "vms:save_host_vm", "Write VMs' memory to a file on their container and release them.",
      "host+", ("file",), power=True),
    C("restore host vm", "vms:restore_host_vm", "Bring saved VMs back.", "host+", ("file",), power=True),
    C("move host vm", "vms:move_host_vm", "Move a VM to another container (save, copy its disks, restore), with "
      "progress on stderr.", "host container", ("file",), power=True),
)
