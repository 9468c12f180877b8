#!/usr/bin/env bash
# Set up everything, build a demo cluster on the embedded SQLite database, and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export KSSERVER_HOME=${KSSERVER_HOME:-$PWD/.ksserver}
ks=.venv/bin/ksserver
$ks init
# The demo cluster: two VM containers and four compute nodes on the private network.
add() { $ks list host "$1" >/dev/null 2>&1 || { $ks add host "$1" cpus=2 arch=x86_64 && $ks add host interface "$1" eth0 ip="$2" mac="$3" subnet=private name="$1"; }; }
add vm-container-0-0 10.1.255.254 00:16:3e:00:00:10
add vm-container-0-1 10.1.255.253 00:16:3e:00:00:11
add compute-0-0 10.1.255.252 00:16:3e:00:00:20
add compute-0-1 10.1.255.251 00:16:3e:00:00:21
add compute-1-0 10.1.255.250 00:16:3e:00:00:22
add compute-1-1 10.1.255.249 00:16:3e:00:00:23
$ks list host
echo
# curl from this machine comes from 127.0.0.1, which is no cluster address: it proves which
# host it speaks for with the install token minted when the host is set to install.
$ks set host boot compute-0-0 action=install
$ks sync host bootfile >/dev/null
token=$($ks list host boot compute-0-0 showtoken=yes --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)[0]["token"])')
port=${KSSERVER_PORT:-8080}
echo "The demo database is in $KSSERVER_HOME; PXE files in $KSSERVER_HOME/tftpboot."
echo "compute-0-0's PXE file (its install token in inst.ks=…):"
$ks report host bootfile compute-0-0
echo
echo "Serving on port $port. Fetch compute-0-0's kickstart with:"
echo "  curl 'http://127.0.0.1:$port/install/sbin/kickstart.cgi?token=$token'"
echo "and its install status with: KSSERVER_HOME=$KSSERVER_HOME $PWD/$ks list host status"
# the REST API and the web console, on their own address: a console user and an API token
# (each shown once: kept in $KSSERVER_HOME/demo-credentials, owner only)
api_port=${KSSERVER_API_PORT:-8081}
creds=$KSSERVER_HOME/demo-credentials
if [ ! -s "$creds" ]; then
  password=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')
  $ks remove user admin >/dev/null 2>&1 || true
  printf '%s\n' "$password" | $ks add user admin role=admin >/dev/null
  $ks remove api token demo >/dev/null 2>&1 || true
  api_token=$($ks add api token demo role=admin | tail -1)
  (umask 077; printf 'console user: admin\nconsole password: %s\nAPI token: %s\n' "$password" "$api_token" > "$creds")
fi
echo
echo "The web console: http://127.0.0.1:$api_port/ (from another machine: ssh -L $api_port:127.0.0.1:$api_port)"
echo "The API: http://127.0.0.1:$api_port/api/v1/ (its pages: /api/v1/docs); the login and token:"
sed 's/^/  /' "$creds"
echo "  curl -H \"Authorization: Bearer \$TOKEN\" 'http://127.0.0.1:$api_port/api/v1/hosts?include=attrs'"
# the demo's cluster addresses are not this machine's: serve on loopback, where curl asks
exec $ks serve bind=127.0.0.1:$port api=127.0.0.1:$api_port workers=2
