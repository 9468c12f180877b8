"""The inventory: hosts, appliances, OSes, networks, interfaces and attributes at each level."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class OS(Base):
    __tablename__ = "oses"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class Appliance(Base):
    """A kind of machine; ``node`` is the root of its graph walk (none: not kickstartable)."""

    __tablename__ = "appliances"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    membership: Mapped[str] = mapped_column(String(64), unique=True)
    node: Mapped[str | None] = mapped_column(String(64))
    graph: Mapped[str] = mapped_column(String(64), default="default")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    kickstartable: Mapped[bool] = mapped_column(Boolean, default=False)


class Host(Base):
    __tablename__ = "hosts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    appliance_id: Mapped[int] = mapped_column(ForeignKey("appliances.id"), index=True)
    os_id: Mapped[int] = mapped_column(ForeignKey("oses.id"))
    rack: Mapped[int] = mapped_column(Integer, default=0)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    cpus: Mapped[int] = mapped_column(Integer, default=1)
    arch: Mapped[str | None] = mapped_column(String(32))
    runaction: Mapped[str | None] = mapped_column(String(256), default="os")
    installaction: Mapped[str | None] = mapped_column(String(256), default="install")
    #: what the next boot does: ``install`` (the install action) or ``os`` (the run action)
    boot_action: Mapped[str | None] = mapped_column(String(16))
    #: minted when the host is set to install; proves an installer's identity behind NAT
    install_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    appliance: Mapped[Appliance] = relationship(lazy="joined")
    os: Mapped[OS] = relationship(lazy="joined")
    interfaces: Mapped[list["Interface"]] = relationship(
        back_populates="host", cascade="all, delete-orphan", passive_deletes=True
    )


class Network(Base):
    """A subnet (the original's ``subnets`` table): ``private``, ``public`` and site ones."""

    __tablename__ = "networks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    subnet: Mapped[str] = mapped_column(String(64))
    netmask: Mapped[str] = mapped_column(String(64))
    dnszone: Mapped[str] = mapped_column(String(255), unique=True)
    mtu: Mapped[int] = mapped_column(Integer, default=1500)
    servedns: Mapped[bool] = mapped_column(Boolean, default=False)


class Interface(Base):
    __tablename__ = "interfaces"
    __table_args__ = (UniqueConstraint("host_id", "device", name="uq_interfaces_host_device"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    device: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), index=True)
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("networks.id"), index=True)
    module: Mapped[str | None] = mapped_column(String(128))
    vlan: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(255), index=True)
    options: Mapped[str | None] = mapped_column(String(255))
    channel: Mapped[str | None] = mapped_column(String(128))

    host: Mapped[Host] = relationship(back_populates="interfaces")
    network: Mapped[Network | None] = relationship(lazy="joined")


class GlobalAttr(Base):
    __tablename__ = "global_attributes"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    value: Mapped[str] = mapped_column(Text)


class OSAttr(Base):
    __tablename__ = "os_attributes"
    __table_args__ = (UniqueConstraint("os_id", "name", name="uq_os_attributes_owner_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    os_id: Mapped[int] = mapped_column(ForeignKey("oses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text)


class ApplianceAttr(Base):
    __tablename__ = "appliance_attributes"
    __table_args__ = (
        UniqueConstraint("appliance_id", "name", name="uq_appliance_attributes_owner_name"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    appliance_id: Mapped[int] = mapped_column(ForeignKey("appliances.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text)


class HostAttr(Base):
    __tablename__ = "host_attributes"
    __table_args__ = (UniqueConstraint("host_id", "name", name="uq_host_attributes_owner_name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    value: Mapped[str] = mapped_column(Text)


class Route(Base):
    """A static route at one level (the original's global_routes, os_routes, appliance_routes
    and node_routes in one table): ``level`` is the SOURCE letter (G, O, A, H), ``owner_id``
    the OS, appliance or host (none for global). A host's routes fold like its attributes."""

    __tablename__ = "routes"
    __table_args__ = (UniqueConstraint("level", "owner_id", "network", name="uq_routes_level_owner_network"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(1))
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)
    network: Mapped[str] = mapped_column(String(64))
    netmask: Mapped[str] = mapped_column(String(64))
    gateway: Mapped[str] = mapped_column(String(255))


class FirewallRule(Base):
    """An iptables rule at one level (the original's global_firewall, os_firewall,
    appliance_firewall and node_firewall in one table; ``level`` and ``owner_id`` as routes')."""

    __tablename__ = "firewall_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(1))
    owner_id: Mapped[int | None] = mapped_column(Integer, index=True)
    network: Mapped[str | None] = mapped_column(String(64))  # in: a network's name, None for all
    output_network: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str] = mapped_column(String(64))
    protocol: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))
    chain: Mapped[str] = mapped_column(String(32))
    flags: Mapped[str | None] = mapped_column(String(255))
    comment: Mapped[str | None] = mapped_column(String(255))


class Distro(Base):
    """A Red Hat-family install tree on this frontend's disk (``ksserver add distro``),
    served at ``/install/<name>/<arch>/``: what its ``.treeinfo`` says it is."""

    __tablename__ = "distros"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(1024))
    family: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    arch: Mapped[str] = mapped_column(String(32))
    kernel: Mapped[str] = mapped_column(String(1024))  # relative to path
    initrd: Mapped[str] = mapped_column(String(1024))


class Bootaction(Base):
    """A named kernel/ramdisk/args triple; hosts name one to install and one to run."""

    __tablename__ = "bootactions"
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(256), unique=True)
    kernel: Mapped[str | None] = mapped_column(String(1024))
    ramdisk: Mapped[str | None] = mapped_column(String(1024))
    args: Mapped[str | None] = mapped_column(Text)


class Roll(Base):
    __tablename__ = "rolls"
    __table_args__ = (UniqueConstraint("name", "version", "arch", "os", name="uq_rolls_identity"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    version: Mapped[str] = mapped_column(String(64))
    arch: Mapped[str] = mapped_column(String(32))
    os: Mapped[str] = mapped_column(String(32), default="linux")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    url: Mapped[str | None] = mapped_column(String(1024))


class HostRoll(Base):
    __tablename__ = "host_rolls"
    __table_args__ = (UniqueConstraint("host_id", "roll_id", name="uq_host_rolls_pair"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    roll_id: Mapped[int] = mapped_column(ForeignKey("rolls.id", ondelete="CASCADE"), index=True)


class InstallEvent(Base):
    """One installer request or report: what stage a host reached, when, from where."""

    __tablename__ = "install_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A bearer token of the REST API: only its SHA-256 is kept (the token is shown once)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A console user: the password is kept as its argon2 hash only."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_login: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SiteSecret(Base):
    """A secret of the site's own (the console's cookie key), in the database so that every
    web node on it signs and checks alike; never an attribute (those reach kickstarts)."""

    __tablename__ = "site_secrets"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    value: Mapped[str] = mapped_column(String(255))


class LoginFailure(Base):
    """A failed console login, for its rate limit (by address and by user name)."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Job(Base):
    """A long action of the API or the console (a VM's move, a discovery session): its state
    and progress are rows, so that any web node answers for a job another one runs."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))  # running, done, failed
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    log: Mapped[str] = mapped_column(Text, default="")
    node: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    started: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Partition(Base):
    """A host's disk partition, as its installer reported it (or an administrator typed)."""

    __tablename__ = "partitions"
    __table_args__ = (UniqueConstraint("host_id", "device", name="uq_partitions_host_device"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), index=True)
    device: Mapped[str] = mapped_column(String(128))
    mountpoint: Mapped[str | None] = mapped_column(String(512))
    size: Mapped[str | None] = mapped_column(String(64))
    fstype: Mapped[str | None] = mapped_column(String(64))


class VMNode(Base):
    """A host that is a virtual machine, and the physical host (container) that holds it."""

    __tablename__ = "vm_nodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("hosts.id", ondelete="CASCADE"), unique=True)
    physnode_id: Mapped[int] = mapped_column(ForeignKey("hosts.id"), index=True)
    mem: Mapped[int] = mapped_column(Integer, default=1024)
    slice: Mapped[int] = mapped_column(Integer, default=0)
    virt_type: Mapped[str | None] = mapped_column(String(64))


class VMDisk(Base):
    __tablename__ = "vm_disks"
    id: Mapped[int] = mapped_column(primary_key=True)
    vm_node_id: Mapped[int] = mapped_column(ForeignKey("vm_nodes.id", ondelete="CASCADE"), index=True)
    vbd_type: Mapped[str] = mapped_column(String(32), default="file")
    prefix: Mapped[str] = mapped_column(String(1024), default="")
    name: Mapped[str] = mapped_column(String(1024))
    device: Mapped[str] = mapped_column(String(32), default="hda")
    mode: Mapped[str] = mapped_column(String(32), default="w")
    size: Mapped[int] = mapped_column(Integer, default=36)
    #: the image has existed (made by ``start host vm``, or seen there): if it is gone, a
    #: start refuses rather than make an empty one (migration 0005)
    made: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class InventoryRevision(Base):
    """One row whose value every change to the inventory bumps (database triggers keep it,
    migration 0003): a hot path compares one number instead of re-reading the rest."""

    __tablename__ = "inventory_revision"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    #: bumped instead of ``value`` by an UPDATE of only hosts.arch/cpus (migration 0004)
    params: Mapped[int] = mapped_column(BigInteger, server_default="0")
