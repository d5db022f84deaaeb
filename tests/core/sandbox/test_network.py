"""No network for the model's code: a server listening in this test process on 127.0.0.1, ::1 and
this machine's own address is never reached, nor is any other address, nor a name, nor a Unix
socket; in the namespace alone, in the forced seccomp fallback, and as shipped (both, and
Landlock). Each configuration runs the same probe; the listeners confirm nothing arrived.

Meaningful as root (the tests run as root here): root outside is nobody special inside a user
namespace's network, which has only a loopback that is down; the filter refuses socket() to root too.
"""

from __future__ import annotations

import ast
import contextlib
import os
import socket
import textwrap

import pytest

from tests.core.sandbox.conftest import linux_only

pytestmark = linux_only

CONFIGURATIONS = {
    "namespace alone": {"mode": "namespace", "seccomp": False, "landlock": False},
    "seccomp alone": {"mode": "seccomp", "landlock": False},
    "as shipped": {},
}
PROBE = textwrap.dedent("""
    import errno, socket, subprocess, sys
    def attempt(family, kind, address, send=False):
        try:
            s = socket.socket(family, kind)
            s.settimeout(3)
            if send:
                s.sendto(b"x", address)
                return "sent"
            s.connect(address)
            return "connected"
        except socket.gaierror as error:
            return "no name lookup"
        except OSError as error:
            return errno.errorcode.get(error.errno, str(error))
    results = {name: attempt(*how) for name, how in TARGETS.items()}
    try:
        socket.getaddrinfo("example.com", 443)
        results["name"] = "resolved"
    except OSError as error:
        results["name"] = "no name lookup"
    child = subprocess.run([sys.executable, "-c", "import socket; socket.create_connection(%r, 3)" % (TCP4,)],
                           capture_output=True, text=True)
    results["child"] = "connected" if child.returncode == 0 else child.stderr.strip().splitlines()[-1]
    print(repr(results))
""")


@contextlib.contextmanager
def listeners(tmp_path):
    """TCP on 127.0.0.1 and every IPv4 address, ::1 where there is IPv6, a Unix socket."""
    opened = []
    tcp = socket.create_server(("0.0.0.0", 0))
    opened.append(tcp)
    targets = {"127.0.0.1": (socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", tcp.getsockname()[1])),
               "192.0.2.1 (TEST-NET)": (socket.AF_INET, socket.SOCK_STREAM, ("192.0.2.1", 443)),
               "udp 192.0.2.1": (socket.AF_INET, socket.SOCK_DGRAM, ("192.0.2.1", 53), True)}
    own = _own_address()
    if own:
        targets["this machine's address"] = (socket.AF_INET, socket.SOCK_STREAM, (own, tcp.getsockname()[1]))
    with contextlib.suppress(OSError):
        tcp6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
        opened.append(tcp6)
        targets["::1"] = (socket.AF_INET6, socket.SOCK_STREAM, ("::1", tcp6.getsockname()[1]))
    unix_path = str(tmp_path / "hearth.sock")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(unix_path)
    unix.listen()
    opened.append(unix)
    targets["unix socket"] = (socket.AF_UNIX, socket.SOCK_STREAM, unix_path)
    try:
        yield targets, opened
    finally:
        for listener in opened:
            listener.close()


def _own_address() -> str | None:
    """This machine's outward IPv4 address (a UDP connect only looks up the route; nothing is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def _nothing_arrived(opened) -> bool:
    for listener in opened:
        listener.settimeout(0.2)
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        connection.close()
        return False
    return True


def _probe(tool, targets) -> dict[str, str]:
    plain = {name: (int(how[0]), int(how[1]), *how[2:]) for name, how in targets.items()}
    text = tool.call(f"TARGETS = {plain!r}\nTCP4 = {targets['127.0.0.1'][2]!r}\n" + PROBE)
    return ast.literal_eval(text.strip())


@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_no_address_is_reachable(open_tool, tmp_path, configuration):
    tool = open_tool(**CONFIGURATIONS[configuration])
    with listeners(tmp_path) as (targets, opened):
        results = _probe(tool, targets)
        reached = [name for name, outcome in results.items() if outcome in ("connected", "sent", "resolved")]
        if configuration == "namespace alone":
            # A Unix socket by path is not in the network: why the filter is on in the shipped setup.
            assert reached == ["unix socket"], results
            # No route anywhere; and no ::1, since the loopback that would carry it is down.
            assert all(results[name] in ("ENETUNREACH", "EADDRNOTAVAIL")
                       for name in targets if name != "unix socket"), results
        else:
            assert reached == [], results
            assert all(results[name] == "EPERM" for name in targets), results
        assert results["name"] == "no name lookup"
        assert "connected" not in results["child"]
        assert _nothing_arrived(opened[:-1] if configuration == "namespace alone" else opened)


def test_the_namespace_has_only_a_loopback_and_no_route(open_tool):
    tool = open_tool(mode="namespace", seccomp=False, landlock=False)
    assert tool.isolation.kind == "namespace"
    text = tool.call("import os\nnet = os.stat('/proc/self/ns/net').st_ino\n"
                     "devices = [l.split(':')[0].strip() for l in open('/proc/self/net/dev').readlines()[2:]]\n"
                     "routes = open('/proc/self/net/route').readlines()[1:]\n"
                     "net, devices, routes")
    inode, devices, routes = ast.literal_eval(text.strip())
    assert inode != os.stat("/proc/self/ns/net").st_ino
    assert devices == ["lo"] and routes == []


def test_forced_seccomp_is_reported_as_such(open_tool):
    tool = open_tool(mode="seccomp")
    assert tool.isolation.kind == "seccomp"
    assert "seccomp filter (no sockets)" in tool.isolation.layers
    assert tool.call("import os\nos.stat('/proc/self/ns/net').st_ino") == f"{os.stat('/proc/self/ns/net').st_ino}\n"


@pytest.mark.parametrize("mode", ["auto", "seccomp"])
def test_socketpair_works_and_io_uring_does_not(open_tool, mode):
    tool = open_tool(mode=mode)
    assert tool.call("import socket\na, b = socket.socketpair()\na.send(b'ok')\nb.recv(2)") == "b'ok'\n"
    text = tool.call("import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\n"
                     "params = ctypes.create_string_buffer(120)\n"
                     "libc.syscall(425, 8, params), errno.errorcode[ctypes.get_errno()]")
    assert text == "(-1, 'EPERM')\n"
