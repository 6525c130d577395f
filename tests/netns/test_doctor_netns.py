"""`meshcare doctor`'s multicast and neighbour checks on real interfaces inside network namespaces
(``-m netns``; root, iproute2, nftables): the interface probe finds an interface with multicast off and
one that is down, and with two daemons discovering each other the self-probe hears the node's own mDNS
name. Nothing is sent outside the namespaces. Budget: about 15 s."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from .harness import Mesh, require_netns, run_command
from .test_mesh import Cluster

pytestmark = [pytest.mark.netns]


def doctor(mesh: Mesh, cluster: Cluster, i: int, *flags: str) -> dict[str, Any]:
    # --timeout 30: each check's own limit (10 s by default) is for a person's machine; here the suite runs
    # beside other tests on two cores, and a check that runs out of time shows as an error, not its finding
    done = subprocess.run(["ip", "netns", "exec", mesh.ns(i), sys.executable, "-m", "meshcare", "doctor", "--json",
                           "--timeout", "30", *flags], env=cluster.env(i), capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


def findings(data: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [f for f in data["findings"] if f["check"] == check]


def test_doctor_on_real_interfaces_in_namespaces():
    require_netns()
    with Mesh(2, prefix="doc") as mesh:
        cluster = Cluster(mesh)
        [ok] = findings(doctor(mesh, cluster, 1, "--only", "multicast"), "multicast")
        assert ok["level"] == "ok" and "eth0 (192.0.2.1)" in ok["what"]

        run_command(["ip", "-n", mesh.ns(1), "link", "set", "dev", "eth0", "multicast", "off"])
        [off] = findings(doctor(mesh, cluster, 1, "--only", "multicast"), "multicast")
        assert off["level"] == "problem" and off["fix"] == "`sudo ip link set dev eth0 multicast on`."
        run_command(["ip", "-n", mesh.ns(1), "link", "set", "dev", "eth0", "multicast", "on"])

        run_command(["ip", "-n", mesh.ns(1), "link", "set", "dev", "eth0", "down"])
        [down] = findings(doctor(mesh, cluster, 1, "--only", "multicast"), "multicast")
        assert down["level"] == "problem" and down["what"] == "interface eth0 is down."
        run_command(["ip", "-n", mesh.ns(1), "link", "set", "dev", "eth0", "up"])

        cluster.start()
        try:
            cluster.wait_ready()
            cluster.wait(lambda: cluster.linked(1) == {2}, 30, "h1 and h2 to find each other over mDNS")
            # h1 may link by finding h2 before its own name is registered (zeroconf probes first): the
            # self-probe runs only once it is, so wait for that too
            cluster.wait(lambda: cluster.request(1, "node.health")["discovery"]["registered"], 30,
                         "h1's mDNS name registered")
            data = doctor(mesh, cluster, 1, "--only", "neighbours", "--only", "multicast")
            [neighbours] = findings(data, "neighbours")
            assert neighbours["level"] == "ok" and neighbours["what"].startswith("linked to 1 node(s)")
            found = findings(data, "multicast")
            assert len(found) == 2, data       # the interfaces, then the self-probe
            interfaces, heard = found
            assert interfaces["level"] == "ok"
            assert heard["level"] == "ok" and "announcement is heard on 192.0.2.1" in heard["what"], data
        finally:
            cluster.stop()
