#!/usr/bin/env python3
"""Loopback fault site for the fetcher's tests.

Two servers, two hosts for the fetcher: A and B, each on 127.0.0.1 and a
free port of its own. Prints "PORT_A PORT_B" on stdout, and logs every
request on stderr as "req t=<unix time> port=<port> path=<path> ua=<user
agent>". Both serve the same paths but robots.txt:
  /robots.txt          User-agent: * / Disallow: /private/ (B adds
                       Crawl-delay: 2)
  /ok, /private/NAME, /cd/NAME   a small HTML page
  /status/CODE         an empty response with that status
  /flaky/KEY           500 the first time for KEY, then 200
  /429/KEY/SECS        429 with "Retry-After: SECS" the first time, then 200
  /429date/KEY/SECS    the same with an HTTP-date SECS seconds ahead
  /loop                a redirect to itself
  /to-private          a redirect to http://10.255.255.1/x
  /to-file             a redirect to file:///etc/passwd
  /slow                Content-Length 100000, then one byte every 0.5 s
  /big, /big-cl        2 MiB, chunked without Content-Length / with it
  /gzip-bomb           64 MiB of zeros gzip-compressed (~64 KiB on the wire)
  /latin1              ISO-8859-1 bytes labelled charset=utf-8
  /etag                ETag "v1"; If-None-Match "v1" gets 304
  /to/PORT/REST        a redirect to http://127.0.0.1:PORT/REST (another host)
  /redir/REST          a redirect to /REST (relative, the same host)
  /slowok/KEY          the page after 1 s (a request that stays in flight)
It stops by itself after argv[1] seconds (default 300).
"""
import email.utils
import gzip
import http.server
import sys
import threading
import time

lifetime = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
seen = {}
lock = threading.Lock()
PAGE = b"<html><head><title>ok</title></head><body><p>fine</p></body></html>"
BOMB = gzip.compress(b"\0" * (64 << 20), compresslevel=9)


def first_time(key):
    with lock:
        n = seen.get(key, 0)
        seen[key] = n + 1
        return n == 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, code, body, ctype="text/html; charset=utf-8", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, to):
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        sys.stderr.write("req t=%.3f port=%d path=%s ua=%s\n" % (
            time.time(), self.server.server_address[1], self.path,
            self.headers.get("User-Agent", "")))
        sys.stderr.flush()
        p = self.path.strip("/").split("/")
        try:
            self.route(p)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, p):
        if p == ["robots.txt"]:
            robots = b"User-agent: *\nDisallow: /private/\n" + self.server.robots_extra
            return self.send_body(200, robots, "text/plain")
        if p == ["ok"] or p[0] in ("private", "cd"):
            return self.send_body(200, PAGE)
        if p[0] == "status" and len(p) == 2 and p[1].isdigit():
            return self.send_body(int(p[1]), b"")
        if p[0] == "flaky" and len(p) == 2:
            return self.send_body(500 if first_time(self.path) else 200, PAGE)
        if p[0] in ("429", "429date") and len(p) == 3 and p[2].isdigit():
            if first_time(self.path):
                secs = int(p[2])
                ra = str(secs) if p[0] == "429" else email.utils.formatdate(
                    time.time() + secs, usegmt=True)
                return self.send_body(429, b"slow down", "text/plain", [("Retry-After", ra)])
            return self.send_body(200, PAGE)
        if p == ["loop"]:
            return self.redirect("/loop")
        if p == ["to-private"]:
            return self.redirect("http://10.255.255.1/x")
        if p == ["to-file"]:
            return self.redirect("file:///etc/passwd")
        if p[0] == "to" and len(p) >= 2 and p[1].isdigit():
            return self.redirect("http://127.0.0.1:%s/%s" % (p[1], "/".join(p[2:])))
        if p[0] == "redir":
            return self.redirect("/" + "/".join(p[1:]))
        if p[0] == "slowok" and len(p) == 2:
            time.sleep(1.0)
            return self.send_body(200, PAGE)
        if p == ["slow"]:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(240):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.5)
            return
        if p == ["big"]:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            for _ in range(32):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
            return
        if p == ["big-cl"]:
            return self.send_body(200, b"x" * (2 << 20))
        if p == ["gzip-bomb"]:
            return self.send_body(200, BOMB, headers=[("Content-Encoding", "gzip")])
        if p == ["latin1"]:
            return self.send_body(200, "<p>caf\u00e9 na\u00efve</p>".encode("latin-1"))
        if p == ["etag"]:
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
                return
            return self.send_body(200, PAGE, headers=[("ETag", '"v1"')])
        self.send_body(404, b"")


servers = []
for extra in (b"", b"Crawl-delay: 2\n"):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.robots_extra = extra
    servers.append(server)
print(" ".join(str(s.server_address[1]) for s in servers), flush=True)
for s in servers:
    threading.Timer(lifetime, s.shutdown).start()
threading.Thread(target=servers[1].serve_forever, daemon=True).start()
servers[0].serve_forever()
