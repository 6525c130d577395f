"""The parts of bench_oneshot.py (one message per request, meshcare against LXMF): the worker protocol,
the worker processes, the nodes of each system, the workloads, and the figures. See that script."""
