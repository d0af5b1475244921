"""Free ports on the loopback interface."""

import socket

_KINDS = {"udp": (socket.SOCK_DGRAM,), "tcp": (socket.SOCK_STREAM,),
          "both": (socket.SOCK_DGRAM, socket.SOCK_STREAM)}


def _bindable(host, port, kinds):
    socks = []
    try:
        for kind in kinds:
            s = socket.socket(socket.AF_INET, kind)
            socks.append(s)
            s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(udp_and_tcp=True, pair=False, host="127.0.0.1", tries=200):
    """Return a port that is free on host right now.

    udp_and_tcp: free for both UDP and TCP (else TCP only).
    pair: port+1 is free as well (baresip binds its TLS listener there).
    The port is free when checked; another process may still take it.
    """
    kinds = _KINDS["both" if udp_and_tcp else "tcp"]
    for _ in range(tries):
        with socket.socket(socket.AF_INET, kinds[0]) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if pair and port >= 65535:
            continue
        if not _bindable(host, port, kinds):
            continue
        if pair and not _bindable(host, port + 1, kinds):
            continue
        return port
    raise RuntimeError("no free port found on %s" % host)
