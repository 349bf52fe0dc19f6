"""Shared by the fake servers in this folder: runs an HTTP server on its
own thread, announces "PID PORT" in the port file (written atomically),
and serves until SIGTERM, SIGINT or max_seconds, whichever comes first."""
import os
import signal
import threading
import time


def serve(srv, port_file, max_seconds):
    """Serves srv (already bound) until a signal or the deadline; then closes it."""
    stop = threading.Event()

    def on_signal(_sig, _frm):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                          daemon=True)
    th.start()
    tmp = "%s.tmp.%d" % (port_file, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d %d\n" % (os.getpid(), srv.server_address[1]))
    os.replace(tmp, port_file)
    deadline = time.monotonic() + max_seconds
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        stop.wait(min(left, 0.5))
    srv.shutdown()
    srv.server_close()
