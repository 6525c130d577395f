#!/bin/sh
# Debian packages some tests need (iproute2 + nftables for network namespaces, tmux for the terminal test,
# strace for the power-cut test).
# Installed only when missing and when we are root; otherwise those tests skip with a visible reason.
missing=""
command -v ip   >/dev/null 2>&1 || missing="$missing iproute2"
command -v nft  >/dev/null 2>&1 || missing="$missing nftables"
command -v tmux >/dev/null 2>&1 || missing="$missing tmux"
command -v strace >/dev/null 2>&1 || missing="$missing strace"   # the power-cut test traces fsyncs
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing test dependencies:$missing"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
    echo "warning: could not install$missing; tests that need them will skip"
else
    echo "note:$missing missing and not root; tests that need them will skip"
fi
exit 0
