#!/usr/bin/env python3
"""Loopback HTTPS site for the fetcher's TLS tests: HTTP/2 and HTTP/1.1.

  tls_site.py CERT KEY [ALPN] [SECONDS]

Binds 127.0.0.1 on a free port, prints the port on stdout, and serves TLS
with CERT/KEY. ALPN (default "h2,http/1.1") is what the server offers; the
protocol the client and server agree on decides how the connection is
served: "h2" with the h2 package (Debian's python3-h2), anything else as
HTTP/1.1 (http.server). Every request is logged on stderr as
  req t=<unix time> alpn=<agreed protocol or -> proto=<h2|http/1.1> path=<path>
      enc=<content-encoding sent or identity> ae=<accept-encoding> ua=<user agent>
so a test can tell which protocol carried it. Paths:
  /robots.txt                  allows everything
  /ok, anything else           a small HTML page
  /enc/gzip, /enc/deflate, /enc/br
                               TEXT compressed with that encoding (deflate: the
                               zlib format of RFC 9110), sent only when the
                               request's Accept-Encoding lists it (else 406)
It stops by itself after SECONDS (default 300). Runs under Debian's python3
(/usr/bin/python3: python3-h2, python3-brotli), not a venv.
"""
import gzip
import http.server
import socket
import ssl
import sys
import threading
import time
import zlib

import brotli
import h2.config
import h2.connection
import h2.events
import h2.exceptions

PAGE = b"<html><head><title>tls ok</title></head><body><p>fine over tls</p></body></html>"
# Long and repetitive enough that every encoding shrinks it.
TEXT = ("<html><body>" + "<p>encoded body, the same bytes after decoding</p>" * 40 +
        "</body></html>").encode()
ENCODE = {
    "gzip": lambda b: gzip.compress(b),
    "deflate": lambda b: zlib.compress(b),
    "br": lambda b: brotli.compress(b),
}
log_lock = threading.Lock()


def log(alpn, proto, path, enc, ae, ua):
    with log_lock:
        sys.stderr.write("req t=%.3f alpn=%s proto=%s path=%s enc=%s ae=%s ua=%s\n" %
                         (time.time(), alpn or "-", proto, path, enc, ae.replace(" ", ""), ua))
        sys.stderr.flush()


def route(path, accept_encoding):
    """(status, headers, body) for a GET of path."""
    p = path.split("?")[0].strip("/").split("/")
    if p == ["robots.txt"]:
        return 200, [("content-type", "text/plain")], b"User-agent: *\nAllow: /\n"
    if len(p) == 2 and p[0] == "enc" and p[1] in ENCODE:
        offered = [t.split(";")[0].strip() for t in accept_encoding.split(",")]
        if p[1] not in offered:
            return 406, [("content-type", "text/plain")], b"encoding not accepted\n"
        return 200, [("content-type", "text/html; charset=utf-8"),
                     ("content-encoding", p[1])], ENCODE[p[1]](TEXT)
    return 200, [("content-type", "text/html; charset=utf-8")], PAGE


def enc_of(headers):
    for k, v in headers:
        if k == "content-encoding":
            return v
    return "identity"


class H1Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    alpn = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        ae = self.headers.get("Accept-Encoding", "")
        status, headers, body = route(self.path, ae)
        log(self.alpn, "http/1.1", self.path, enc_of(headers), ae, self.headers.get("User-Agent", ""))
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve_h2(sock, alpn):
    conn = h2.connection.H2Connection(
        config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    pending = {}  # stream id -> body bytes not yet sent (flow control)

    def pump():
        for sid in list(pending):
            body = pending[sid]
            while body:
                n = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size,
                        len(body))
                if n <= 0:
                    break
                conn.send_data(sid, body[:n])
                body = body[n:]
            if body:
                pending[sid] = body
            else:
                conn.end_stream(sid)
                del pending[sid]

    while True:
        data = sock.recv(65536)
        if not data:
            return
        for ev in conn.receive_data(data):
            if isinstance(ev, h2.events.RequestReceived):
                hdr = dict(ev.headers)
                path = hdr.get(":path", "/")
                ae = hdr.get("accept-encoding", "")
                status, headers, body = route(path, ae)
                log(alpn, "h2", path, enc_of(headers), ae, hdr.get("user-agent", ""))
                conn.send_headers(ev.stream_id, [(":status", str(status))] + headers +
                                  [("content-length", str(len(body)))])
                pending[ev.stream_id] = body
            elif isinstance(ev, h2.events.StreamReset):
                pending.pop(ev.stream_id, None)
            elif isinstance(ev, h2.events.ConnectionTerminated):
                sock.sendall(conn.data_to_send())
                return
        pump()
        sock.sendall(conn.data_to_send())


def handle(raw, addr, ctx, server):
    try:
        raw.settimeout(30)
        sock = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        # A client that does not trust us ends the handshake: say so, for the tests.
        log(None, "-", "-", "-", "", "handshake failed: %s" % str(e).replace(" ", "_"))
        raw.close()
        return
    alpn = sock.selected_alpn_protocol()
    try:
        if alpn == "h2":
            serve_h2(sock, alpn)
        else:
            H1Handler.alpn = alpn
            H1Handler(sock, addr, server)
    except (OSError, ssl.SSLError, h2.exceptions.ProtocolError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    cert, key = sys.argv[1], sys.argv[2]
    alpn = (sys.argv[3] if len(sys.argv) > 3 else "h2,http/1.1").split(",")
    lifetime = float(sys.argv[4]) if len(sys.argv) > 4 else 300.0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(alpn)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    print(lsock.getsockname()[1], flush=True)
    threading.Timer(lifetime, lambda: __import__("os")._exit(0)).start()
    server = type("S", (), {})()  # BaseHTTPRequestHandler only keeps a reference
    while True:
        raw, addr = lsock.accept()
        threading.Thread(target=handle, args=(raw, addr, ctx, server), daemon=True).start()


if __name__ == "__main__":
    main()
