"""Multi-node tests in Linux network namespaces (real sockets, real mDNS, never the host's own LAN)."""
