"""meshcare's Tor client: a small control-port client and a SOCKS5 dialler, thin trio shells over pure
parsers (control_protocol.py). docs/architecture.md ("Tor: the client library") says why not stem."""
