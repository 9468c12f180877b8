"""The web console: server-rendered pages (Jinja2) with htmx (vendored in ``web/static``).

Rule: like the API, no logic of its own: every page reads the service functions the CLI
calls, every action is one unit of work (``services.work``). Sign-in is a console user
(``ksserver add user``, argon2) in a signed session cookie (HttpOnly, SameSite=Lax, Secure
under HTTPS) whose key is the site's (``users.site_secret``: every web node alike); every
POST carries the session's CSRF token (a form field, or htmx's header); failed logins are
limited per address and per name (``users.throttled``). A ``read`` user sees everything but
secrets (a kickstart's are masked) and can change nothing. Pages send a strict
Content-Security-Policy: scripts only from this server, none inline.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import (Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, session,
                   url_for)

from flask.sessions import SecureCookieSessionInterface

from ksserver import outputs
from ksserver.attrs import Level
from ksserver.errors import KsError
from ksserver.services import (attributes, boot, discovery, install, jobs, profile, settings, transaction, users, views,
                               vms, work)

bp = Blueprint("console", "ksserver.console")
PUBLIC_ENDPOINTS = ("console.login", "static")
PER_PAGE = 100
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


class _Cookies(SecureCookieSessionInterface):
    """The session cookie is ``Secure`` whenever the request came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure or super().get_cookie_secure(app)


def configure(app) -> None:
    with transaction() as s:
        app.secret_key = users.site_secret(s, "console-cookie")
    app.session_interface = _Cookies()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_NAME="ksserver",
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=12))
    app.register_blueprint(bp)


def client_address() -> str:
    return current_app.extensions["ksserver.client"]()


@bp.before_app_request
def signed_in():
    if request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    name = session.get("user")
    role = None
    if name:
        with transaction() as s:
            role = users.role_of(s, name)
    if role is None:
        session.clear()
        if request.headers.get("HX-Request"):
            return Response("signed out", 401, {"HX-Redirect": url_for("console.login")})
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    g.user, g.role = name, role
    if request.method == "POST":
        sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(sent, session.get("csrf", "")):
            abort(403, "the form's security token is missing or stale: reload the page")
    return None


@bp.after_app_request
def headers(resp: Response) -> Response:
    if not request.path.startswith("/api/"):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers.setdefault("Cache-Control", "no-store")
    return resp


@bp.app_context_processor
def context():
    return {"user": g.get("user"), "role": g.get("role"), "csrf": session.get("csrf", ""),
            "shown_to_reader": outputs.shown_to_reader}


def admin(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.role != "admin":
            abort(403, f"{g.user} may read, not change (role read)")
        return view(*args, **kwargs)
    return wrapper


def _back(default: str):
    target = request.form.get("next") or request.referrer or default
    parts = urlsplit(target)
    return redirect(parts.path + (f"?{parts.query}" if parts.query else "") if parts.path.startswith("/") else default)


def _change(action, *args, done: str = "", **kwargs) -> bool:
    """Run one change; its outcome is flashed (an error as the CLI's line)."""
    try:
        with work.change() as (s, warnings):
            action(s, *args, **kwargs)
    except KsError as err:
        flash(err.message, "error")
        return False
    for w in warnings:
        flash(w, "warning")
    if done:
        flash(done, "ok")
    return True


@bp.app_errorhandler(KsError)
def ks_error(err: KsError):
    if request.path.startswith("/api/"):
        from ksserver.web.api.base import ks_error as api_error

        return api_error(err)
    return render_template("error.html", message=err.message), 404 if type(err).__name__ == "NotFound" else 400


# --- signing in ---------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    target = request.values.get("next") or "/"
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    if request.method == "GET":
        return render_template("login.html", next=target)
    name, password = request.form.get("name", "")[:64], request.form.get("password", "")
    address = client_address()
    with transaction() as s:
        wait = users.throttled(s, address, name)
        role = None if wait else users.authenticate(s, name, password)
        if not wait and role is None:
            users.failed(s, address, name)
    if wait:
        return render_template("login.html", next=target, error=f"too many failed logins: try again in {wait} s"), \
            429, {"Retry-After": str(wait)}
    if role is None:
        return render_template("login.html", next=target, error="wrong user name or password"), 401
    session.clear()
    session.permanent = True
    session["user"], session["csrf"] = name, secrets.token_urlsafe(32)
    return redirect(target)


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("console.login"))


# --- the dashboard --------------------------------------------------------------------------------

@bp.get("/")
def dashboard():
    with transaction() as s:
        data = install.dashboard(s)
    return render_template("dashboard.html", d=data)


@bp.get("/live")
def live():
    """The dashboard's live part, which htmx asks for every two seconds."""
    with transaction() as s:
        data = install.dashboard(s)
    return render_template("_live.html", d=data)


# --- hosts ----------------------------------------------------------------------------------------

@bp.get("/hosts")
def hosts():
    q = request.args.get("q", "").strip()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    error = None
    try:
        with transaction() as s:
            total, items = views.hosts(s, q.split(), offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    except KsError as err:
        total, items, error = 0, [], err.message
    pages = max(1, -(-total // PER_PAGE))
    return render_template("hosts.html", q=q, items=items, total=total, page=page, pages=pages, error=error)


@bp.get("/hosts/<name>")
def host(name):
    with transaction() as s:
        total, items = views.hosts(s, [name], attrs=True)
        if total != 1:
            raise KsError(f'cannot resolve host "{name}"')
        item = items[0]
        events = install.host_events(s, name, 20)
        boot_row = boot.list_host_boot(s, [name])
        try:
            kickstart, ks_error_ = profile.host_kickstart(s, name, reveal=g.role == "admin"), None
        except KsError as err:
            kickstart, ks_error_ = None, err.message
    return render_template("host.html", h=item, events=events, boot=boot_row[0] if boot_row else None,
                           kickstart=kickstart, ks_error=ks_error_, explain=None, masked=g.role != "admin")


@bp.get("/hosts/<name>/explain")
def explain(name):
    attr = request.args.get("attr", "").strip()
    try:
        with transaction() as s:
            rows = views.EXPLAIN.records(attributes.explain_host_attr(s, name, attr))
        error = None
    except KsError as err:
        rows, error = [], err.message
    return render_template("_explain.html", attr=attr, rows=rows, error=error, host=name, masked=g.role != "admin")


@bp.post("/hosts/<name>/attr")
@admin
def set_host_attr(name):
    attr, value = request.form.get("attr", "").strip(), request.form.get("value", "")
    if request.form.get("remove"):
        _change(settings.remove_attr, Level.HOST, [name], attr, done=f"removed {attr} from {name}")
    else:
        _change(settings.set_attr, Level.HOST, [name], attr, value, done=f"set {attr} for {name}")
    return redirect(url_for("console.host", name=name, attr=attr) + "#attrs")


@bp.post("/hosts/<name>/boot")
@admin
def set_boot(name):
    action = request.form.get("action", "")
    _change(boot.set_hosts_boot, [name], action, done=f"{name} boots {action} next")
    return redirect(url_for("console.host", name=name))


@bp.get("/hosts/<name>/graph.svg")
def graph_svg(name):
    with transaction() as s:
        from ksserver.services import selection

        appliance = selection.one_host(s, name).appliance
        text = profile.svg(s, appliance)
    return Response(text, mimetype="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


# --- clusters and VMs -------------------------------------------------------------------------------

def _power():
    return current_app.extensions["ksserver.power"]


@bp.get("/clusters")
def clusters():
    with transaction() as s:
        tree = vms.cluster_tree(s, (), _power())
    return render_template("clusters.html", tree=tree, shown=PER_PAGE)


@bp.get("/vms")
def vm_list():
    with transaction() as s:
        rows = views.vm_view(True, False).records(vms.list_vms(s, (), _power()))
    return render_template("vms.html", rows=rows, actions=ACTIONS)


ACTIONS = {"start": vms.start_vms, "stop": vms.stop_vms, "pause": vms.pause_vms, "resume": vms.resume_vms,
           "save": vms.save_vms, "restore": vms.restore_vms}


@bp.route("/vms/<name>/<action>", methods=["GET", "POST"])
@admin
def vm_action(name, action):
    """GET: the confirmation; POST: the action."""
    if action not in ACTIONS:
        abort(404)
    if request.method == "GET":
        return render_template("confirm.html", name=name, action=action)
    _change(ACTIONS[action], [name], _power(), done=f"{action}: {name}")
    return redirect(url_for("console.vm_list"))


@bp.route("/vms/<name>/move", methods=["GET", "POST"])
@admin
def vm_move(name):
    if request.method == "GET":
        with transaction() as s:
            from ksserver.services import selection

            containers = [r.name for r in selection.select_hosts(s, [], change=False)
                          if r.appliance in ("vm-container", "frontend") and r.name != name]
        return render_template("move.html", name=name, containers=containers)
    container = request.form.get("container", "")
    hv = _power()
    try:
        with transaction() as s:
            vms.check_move(s, name, container)
    except KsError as err:
        flash(err.message, "error")
        return redirect(url_for("console.vm_move", name=name))

    def run(reporter):
        with transaction() as s:
            vms.move_vm(s, name, container, hv, progress=lambda p: reporter.progress(p.done, p.total, p.label))
        reporter.progress(1, 1, "moved", force=True)
        return f"{name} moved to {container}"

    return redirect(url_for("console.job", job_id=jobs.start("move", name, run)))


@bp.get("/jobs/<int:job_id>")
def job(job_id):
    with transaction() as s:
        record = jobs.get(s, job_id)
    return render_template("job.html", job=record)


@bp.get("/jobs/<int:job_id>/bar")
def job_bar(job_id):
    with transaction() as s:
        record = jobs.get(s, job_id)
    return render_template("_jobbar.html", job=record)


# --- discovery ----------------------------------------------------------------------------------------

@bp.get("/discovery")
def discovery_page():
    with transaction() as s:
        return render_template("discovery.html", d=discovery.session_state(s))


@bp.get("/discovery/found")
def discovery_found():
    with transaction() as s:
        return render_template("_found.html", d=discovery.session_state(s))


@bp.post("/discovery/open")
@admin
def discovery_open():
    from ksserver.web.api.vms import start_discovery

    data = {"appliance": request.form.get("appliance") or "compute"}
    for key in ("rack", "count"):
        if request.form.get(key, "").strip():
            data[key] = request.form[key].strip()
    try:
        start_discovery(data)
    except KsError as err:
        flash(err.message, "error")
    return redirect(url_for("console.discovery_page"))


@bp.post("/discovery/close")
@admin
def discovery_close():
    try:
        with transaction() as s:
            jobs.stop(s, int(request.form.get("job", "0")))
    except (KsError, ValueError) as err:
        flash(getattr(err, "message", str(err)), "error")
    return redirect(url_for("console.discovery_page"))
