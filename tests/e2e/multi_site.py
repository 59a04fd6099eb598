#!/usr/bin/env python3
"""A loopback site of many hosts for the fetcher's concurrency test.

usage: multi_site.py HOSTS DELAY_S [LIFETIME_S]
Starts HOSTS HTTP servers on 127.0.0.1, each on a free port (a distinct
host to the fetcher: scheme, host and port), prints their ports on one
line on stdout, and serves on each:
  /robots.txt   allow everything
  anything else a small HTML page naming the port and path, after DELAY_S
Every page request is logged on stderr once it is answered, as
"req port=<port> path=<path> start=<unix time> end=<unix time>", so the
test can count requests and how many overlapped. Stops by itself after
LIFETIME_S seconds (default 300).
"""
import http.server
import sys
import threading
import time

hosts = int(sys.argv[1])
delay = float(sys.argv[2])
lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 300.0
log_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, code, body, ctype):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        port = self.server.server_address[1]
        if self.path == "/robots.txt":
            self.send_body(200, b"User-agent: *\nAllow: /\n", "text/plain")
            return
        start = time.time()
        time.sleep(delay)
        body = ("<html><head><title>%d %s</title></head><body><article><p>Page %s on "
                "port %d.</p></article></body></html>" % (port, self.path, self.path, port))
        self.send_body(200, body.encode(), "text/html; charset=utf-8")
        end = time.time()
        with log_lock:
            sys.stderr.write("req port=%d path=%s start=%.6f end=%.6f\n" % (port, self.path, start, end))
            sys.stderr.flush()


servers = []
for _ in range(hosts):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    servers.append(srv)
print(" ".join(str(s.server_address[1]) for s in servers), flush=True)
time.sleep(lifetime)
