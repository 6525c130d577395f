"""The private Tor network test bed (``-m tor``): real TestingTorNetwork tors in network namespaces."""
