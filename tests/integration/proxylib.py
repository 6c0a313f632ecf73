"""What the test proxies (blackhole.py, turns.py) share."""
import selectors
import socket


def listen(port):
    """A socket listening on 127.0.0.1:port, and a selector watching it."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', port))
    ls.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    return ls, sel
