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
$ks list host attr compute-0-0 attr=hostaddr
echo
echo "The demo database is in $KSSERVER_HOME; try: $ks list host attr compute-0-0"
