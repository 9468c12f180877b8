"""The inventory: hosts, appliances, OSes, networks, interfaces and attributes at each level."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
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
