#!/bin/sh
# /init of the ksserver end-to-end "installer" (busybox sh, PID 1).
#
# A stand-in for the Rocks installer in lights-out mode: bring up eth0 with
# DHCP, read ks= (or inst.ks=) from the kernel command line, fetch site.attrs, rolls.xml and
# the kickstart (every request carrying the Anaconda MAC header), check the
# kickstart minimally, report completion with a POST to .../installed, then
# power off so the libvirt domain ends.  Every step is printed on the serial
# console with the prefix "ks-installer: ".
PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
umask 022

log() { echo "ks-installer: $*"; }

finish() {
    log "done ($1); powering off"
    sync
    poweroff -f
    # Should not be reached; fall back to the magic SysRq power-off.
    sleep 5
    echo o > /proc/sysrq-trigger
    while :; do sleep 60; done
}

mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
log "start: kernel $(uname -r), $(cat /etc/ks-installer/build-id 2>/dev/null)"
log "mounted proc, sys, dev"

# 1. virtio network driver -------------------------------------------------
KVER=$(uname -r)
for m in $(cat /etc/ks-installer/modules); do
    f=/lib/modules/$KVER/$m.ko
    if [ -f "$f" ]; then
        if insmod "$f" 2>/tmp/insmod.err; then
            log "loaded module $m"
        else
            log "module $m failed to load: $(cat /tmp/insmod.err)"
        fi
    elif grep -q "/$m\.ko" "/lib/modules/$KVER/modules.builtin" 2>/dev/null; then
        log "module $m is built in"
    else
        log "module $m not available"
    fi
done

i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 20 ]; do
    sleep 0.5
    i=$((i + 1))
done
if [ ! -e /sys/class/net/eth0 ]; then
    log "ERROR: no eth0 (interfaces: $(ls /sys/class/net | tr '\n' ' '))"
    finish "failed: no network interface"
fi
MAC=$(cat /sys/class/net/eth0/address)
log "eth0 mac $MAC"
ifconfig lo 127.0.0.1 up
ifconfig eth0 up
if udhcpc -i eth0 -f -q -n -t 5 -T 3 -s /etc/ks-installer/udhcpc.script >/tmp/udhcpc.log 2>&1; then
    log "dhcp ok: $(ifconfig eth0 | sed -n 's/.*inet addr:\([0-9.]*\).*/\1/p')"
else
    log "ERROR: dhcp failed: $(tail -n 3 /tmp/udhcpc.log | tr '\n' ' ')"
    finish "failed: dhcp"
fi

# 2. the kickstart and its siblings ----------------------------------------
KS=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ks=*) KS=${arg#ks=} ;;
        inst.ks=*) KS=${arg#inst.ks=} ;;  # RHEL 7 and later
    esac
done
if [ -z "$KS" ]; then
    log "ERROR: no ks= on the kernel command line: $(cat /proc/cmdline)"
    finish "failed: no ks="
fi
case "$KS" in
    *kickstart.cgi*) ;;
    *) log "ERROR: ks= URL does not name kickstart.cgi: $KS"; finish "failed: bad ks=" ;;
esac
log "ks url $KS"
sibling() { echo "$KS" | sed "s#kickstart\.cgi#$1#"; }

MACHDR="X-RHN-Provisioning-MAC-0: eth0 $MAC virtio_net ks"

# fetch URL DEST [POSTDATA]: up to 3 tries, each bounded by timeout (busybox
# wget -T is broken).
fetch() {
    n=1
    while [ $n -le 3 ]; do
        rm -f "$2"
        if [ -n "$3" ]; then
            timeout 10 wget -q --header "$MACHDR" --post-data "$3" -O "$2" "$1" 2>/tmp/wget.err
        else
            timeout 10 wget -q --header "$MACHDR" -O "$2" "$1" 2>/tmp/wget.err
        fi
        rc=$?
        if [ $rc -eq 0 ]; then
            log "fetched $1 -> $2 ($(wc -c < "$2") bytes)"
            return 0
        fi
        log "fetch $1 failed (try $n, rc $rc): $(cat /tmp/wget.err 2>/dev/null | tr '\n' ' ')"
        n=$((n + 1))
        sleep 2
    done
    log "ERROR: giving up on $1"
    return 1
}

STATUS=ok
fetch "$(sibling site.attrs)" /tmp/site.attrs || STATUS=failed
fetch "$(sibling rolls.xml)" /tmp/rolls.xml || STATUS=failed
if fetch "$KS" /tmp/ks.cfg; then
    if grep -q '^%packages' /tmp/ks.cfg && grep -q '^%end' /tmp/ks.cfg; then
        log "kickstart ok"
        log "kickstart sha256 $(sha256sum /tmp/ks.cfg | cut -d' ' -f1)"
    else
        log "kickstart BAD (no %packages or %end line); first lines:"
        head -n 5 /tmp/ks.cfg | sed 's/^/ks-installer: | /'
        STATUS=failed
    fi
else
    log "kickstart BAD (not fetched)"
    STATUS=failed
fi

# 3. report completion -----------------------------------------------------
if fetch "$(sibling installed)" /tmp/installed.out "status=$STATUS"; then
    log "reported status=$STATUS: $(head -c 200 /tmp/installed.out | tr '\n' ' ')"
else
    log "ERROR: could not report status=$STATUS"
fi

# 4. power off (after ks.hold=SECONDS, so that a test can pause, save and
#    restore a running guest) ------------------------------------------------
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        ks.hold=*) log "holding for ${arg#ks.hold=} s"; sleep "${arg#ks.hold=}" ;;
    esac
done
finish "status=$STATUS"
