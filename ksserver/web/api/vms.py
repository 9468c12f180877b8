"""Virtual clusters with their nodes, VMs and their power, jobs, and discovery sessions.

A move is long (a save image and disks copied): it is a job, answered 202 with the job's
URL, whose ``percent`` follows the copy. A discovery session is ``insert ethers`` in a
process of its own, also a job, whose log is its events; one runs at a time.
"""

from __future__ import annotations

import os

import marshmallow as ma
from flask import current_app, url_for

from ksserver.errors import KsError
from ksserver.services import discovery, jobs, transaction, views, vms
from ksserver.web.api.base import Done, Paging, blueprint, page_slice, page_of, power, read, schema, write

blp = blueprint("vms", "Virtual clusters, VMs and their power, jobs, discovery")

S, I, B = ma.fields.String, ma.fields.Integer, ma.fields.Boolean
Node = ma.Schema.from_dict({"name": S(required=True), "type": S(required=True), "status": S(allow_none=True)},
                           name="ClusterNode")
Cluster = ma.Schema.from_dict({"frontend": S(required=True), "type": S(required=True), "status": S(allow_none=True),
                               "nodes": ma.fields.List(ma.fields.Nested(Node), required=True)}, name="Cluster")
Vm = schema(views.VM, "Vm")
VmPage = page_of(Vm, "VmPage")
Job = ma.Schema.from_dict({
    "id": I(required=True), "kind": S(required=True), "target": S(required=True),
    "state": S(required=True, metadata={"description": "running, done or failed"}),
    "done": I(required=True), "total": I(required=True), "percent": I(required=True),
    "message": S(required=True), "log": ma.fields.List(S(), required=True),
    "started": S(allow_none=True), "ended": S(allow_none=True)}, name="Job")
Discovery = ma.Schema.from_dict({
    "open": B(required=True), "appliance": S(allow_none=True), "rack": I(allow_none=True),
    "job": ma.fields.Nested(Job, allow_none=True),
    "found": ma.fields.List(ma.fields.Dict(), required=True,
                            metadata={"description": "each machine registered: mac, host, ip, and its mark "
                                                     "( ) until its kickstart is served, (*) once it is"})},
    name="Discovery")


class StatusQuery(ma.Schema):
    status = B(load_default=False, metadata={"description": "add each node's libvirt state"})


class VmQuery(Paging):
    select = ma.fields.List(S(validate=ma.validate.Length(min=1, max=255)), load_default=list)
    status = B(load_default=False)
    showdisks = B(load_default=False)


class NewCluster(ma.Schema):
    fqdn, ip = S(required=True), S(required=True)
    num_computes = I(required=True, data_key="num-computes", validate=ma.validate.Range(min=0, max=4096))
    container_hosts = S(data_key="container-hosts")
    cpus_per_compute = I(data_key="cpus-per-compute", validate=ma.validate.Range(min=1))
    disk_per_compute = I(data_key="disk-per-compute", validate=ma.validate.Range(min=1))
    disk_per_frontend = I(data_key="disk-per-frontend", validate=ma.validate.Range(min=1))
    mem_per_compute = I(data_key="mem-per-compute", validate=ma.validate.Range(min=1))
    vlan = I(validate=ma.validate.Range(min=1, max=4094))


class SaveFile(ma.Schema):
    file = S(metadata={"description": "the save image on the container (default: the VM's disk directory)"})


class Move(SaveFile):
    container = S(required=True)


class NewDiscovery(ma.Schema):
    appliance = S(load_default="compute")
    rack = I(validate=ma.validate.Range(min=0))
    rank = I(validate=ma.validate.Range(min=0))
    basename = S()
    count = I(validate=ma.validate.Range(min=1))


@blp.get("/clusters")
@blp.arguments(StatusQuery, location="query", as_kwargs=True)
@blp.response(200, Cluster(many=True))
def clusters(status):
    """Each frontend with its client nodes, nested (``list cluster --json`` gives the same)."""
    return read(vms.cluster_tree, (), power() if status else None)


@blp.post("/clusters")
@blp.arguments(NewCluster)
@blp.response(201, Done)
def add_cluster(data):
    """``add cluster``: a VM frontend here and compute VMs on the containers."""
    return write(vms.add_cluster, data["fqdn"], data["ip"], str(data["num_computes"]),
                 **{k: str(v) for k, v in data.items() if k not in ("fqdn", "ip", "num_computes")})


@blp.delete("/clusters/<string:frontend>")
@blp.response(200, Done)
def remove_cluster(frontend):
    return write(vms.remove_cluster, [frontend], power())


@blp.get("/vms")
@blp.arguments(VmQuery, location="query", as_kwargs=True)
@blp.response(200, VmPage)
def list_vms(select, status, showdisks, page, per_page):
    """VMs (``list host vm``): slice, memory, CPUs, MACs, container; ``status``, ``showdisks``."""
    rows = read(vms.list_vms, select, power() if status else None, showdisks=showdisks)
    return page_slice(views.vm_view(status, showdisks).records(rows), page, per_page)


def _power_route(action: str, function, doc: str, with_file: bool = False) -> None:
    if with_file:
        def act(data, name):
            return write(function, [name], power(), data.get("file"))
        wrapped = blp.arguments(SaveFile)(blp.response(200, Done)(act))
    else:
        def act(name):
            return write(function, [name], power())
        wrapped = blp.response(200, Done)(act)
    act.__name__, act.__doc__ = f"{action}_vm", doc
    blp.post(f"/vms/<string:name>/{action}")(wrapped)


_power_route("start", vms.start_vms, "Define and boot the VM (``start host vm``).")
_power_route("stop", vms.stop_vms, "Pull the VM's power cord (``stop host vm``).")
_power_route("pause", vms.pause_vms, "Keep the VM in memory, unscheduled.")
_power_route("resume", vms.resume_vms, "Resume a paused VM.")
_power_route("save", vms.save_vms, "Write the VM's memory to a file on its container and release it.", True)
_power_route("restore", vms.restore_vms, "Bring a saved VM back.", True)


@blp.post("/vms/<string:name>/move")
@blp.arguments(Move)
@blp.response(202, Job)
def move(data, name):
    """Move the VM to another container (save, copy, restore): a job; follow its ``percent``."""
    hv = power()
    with transaction() as s:
        vms.check_move(s, name, data["container"])

    def run(reporter: jobs.Reporter) -> str:
        def progress(p) -> None:
            reporter.progress(p.done, p.total, p.label)

        with transaction() as s:
            result = vms.move_vm(s, name, data["container"], hv, file=data.get("file"), progress=progress)
        reporter.progress(1, 1, "moved", force=True)
        return f"{name} moved to {data['container']}" + (f" ({result})" if isinstance(result, str) else "")

    job_id = jobs.start("move", name, run)
    return _job_answer(job_id)


def _job_answer(job_id: int):
    record = read(jobs.get, job_id)
    return record, 202, {"Location": url_for("vms.job", job_id=job_id)}


@blp.get("/jobs")
@blp.response(200, Job(many=True))
def list_jobs():
    """The newest jobs, newest first."""
    return read(jobs.recent)


@blp.get("/jobs/<int:job_id>")
@blp.response(200, Job)
def job(job_id):
    return read(jobs.get, job_id)


@blp.delete("/jobs/<int:job_id>")
@blp.response(200, Job)
def stop_job(job_id):
    """Stop a running command's job (a discovery session ends as F8 ends it)."""
    read(jobs.stop, job_id)
    return read(jobs.get, job_id)


@blp.get("/discovery")
@blp.response(200, Discovery)
def get_discovery():
    """The discovery session, if one is open, and the machines it has found."""
    return read(discovery.session_state)


@blp.post("/discovery")
@blp.arguments(NewDiscovery)
@blp.response(202, Job)
def open_discovery(data):
    """Open a discovery session (``insert ethers``): each unknown machine that boots from the
    network is named, registered and set to install; stop its job to close it."""
    return _job_answer(start_discovery(data))


def start_discovery(data: dict) -> int:
    if discovery.current() is not None:
        raise KsError("a discovery session is open already (insert-ethers); close it first")
    argv = [*current_app.extensions["ksserver.command"], "insert", "ethers"]
    argv += [f"{k}={v}" for k, v in data.items() if v is not None]
    return jobs.start_command("discovery", data.get("appliance") or "compute", argv, env=dict(os.environ))
