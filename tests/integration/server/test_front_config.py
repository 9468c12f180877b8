"""The front's nginx configuration (``web/front.py``), whole, against its golden files, and
accepted by nginx itself (``nginx -t``): plain HTTP with the API's listener, and HTTPS."""

from __future__ import annotations

import subprocess
from pathlib import Path

from goldens import expect
from ksserver.web.front import Front

SECRET = "0123456789abcdef" * 4  # a fixed stand-in for the run's secret


def _config(front: Front) -> str:
    """The rendered text, its ``user`` line (there as root only) checked and left out."""
    lines = front.config().splitlines(keepends=True)
    users = [line for line in lines if line.startswith("user ")]
    assert users in ([], ["user nobody nogroup;\n"])
    return "".join(line for line in lines if not line.startswith("user "))


def test_the_front_with_the_api_listener(tmp_path):
    front = Front("0.0.0.0:80", "unix:/run/ksserver/gunicorn.sock", SECRET, Path("/run/ksserver/front"),
                  api_listen="127.0.0.1:8081")
    expect("server/front-nginx.conf", _config(front))
    front.run_dir = tmp_path / "front"
    front.listen, front.api_listen = "127.0.0.1:18080", "127.0.0.1:18081"
    front.check()  # nginx -t: raises a one-line KsError with nginx's words if it refuses


def test_the_front_over_https_without_the_api(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=frontend"], check=True, capture_output=True)
    front = Front("0.0.0.0:443", "127.0.0.1:8000", SECRET, Path("/run/ksserver/front"),
                  tls={"certfile": "/etc/ksserver/cert.pem", "keyfile": "/etc/ksserver/key.pem"})
    expect("server/front-nginx-https.conf", _config(front))
    checked = Front("127.0.0.1:18443", "127.0.0.1:8000", SECRET, tmp_path / "front",
                    tls={"certfile": str(cert), "keyfile": str(key)})
    checked.check()
