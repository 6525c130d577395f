#!/bin/sh
# Debian packages some tests need (iproute2 + nftables for network namespaces, tmux for the terminal test,
# python3-nacl/-msgpack/-cffi/-venv for the Debian-packages venv of a 32-bit Raspberry Pi: tests/test_debian_venv.py,
# strace for the power-cut test, systemd-container to boot systemd in a container: tests/test_service_systemd.py,
# tor (it brings tor-gencert) for the private Tor network of tests/tor).
# Installed only when missing and when we are root; otherwise those tests skip with a visible reason.
missing=""
command -v ip   >/dev/null 2>&1 || missing="$missing iproute2"
command -v nft  >/dev/null 2>&1 || missing="$missing nftables"
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
[ -f /usr/lib/python3/dist-packages/nacl/__init__.py ] || missing="$missing python3-nacl"
[ -f /usr/lib/python3/dist-packages/msgpack/__init__.py ] || missing="$missing python3-msgpack"
[ -f /usr/lib/python3/dist-packages/cffi/__init__.py ] || missing="$missing python3-cffi"
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import ensurepip" 2>/dev/null || missing="$missing python3-venv"
command -v strace >/dev/null 2>&1 || missing="$missing strace"   # the power-cut test traces fsyncs
command -v systemd-nspawn >/dev/null 2>&1 || missing="$missing systemd-container"   # tests/test_service_systemd.py boots systemd
had_tor=yes
command -v tor >/dev/null 2>&1 && command -v tor-gencert >/dev/null 2>&1 || { missing="$missing tor"; had_tor=no; }
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test dependencies:$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
    echo "warning: could not install$missing; tests that need them will skip"
    # Debian's tor package enables and starts tor.service, a tor for the PUBLIC network. The test bed never
    # uses it (every tor of tests/tor is a TestingTorNetwork tor in its own namespace), and on a machine
    # without internet it would keep trying the public authorities. So where systemd runs (PID 1) and this
    # script just installed tor, stop and disable it again; a tor the machine had before is left alone.
    if [ "$had_tor" = no ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now tor.service >/dev/null 2>&1 || true
    fi
else
    echo "note:$missing missing and not root; tests that need them will skip"
fi
exit 0
