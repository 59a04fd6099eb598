#!/usr/bin/env python3
"""Loopback HTTP server for the fetcher tests.

Binds 127.0.0.1 on a free port, prints the port on stdout, and serves:
  /pages/NAME       files from the directory given as argv[1]
  /status/CODE      an empty response with that status
  /redirect/N       a chain of N redirects ending at /pages/article.html
  /big              2 MiB sent chunked, with no Content-Length
It stops by itself after argv[2] seconds (default 300).
"""
import http.server
import os
import sys
import threading

root = sys.argv[1]
lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("http " + (fmt % args) + "\n")

    def send_body(self, code, body, ctype="text/html; charset=utf-8"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "pages" and len(parts) == 2 and "/" not in parts[1]:
            path = os.path.join(root, parts[1])
            if os.path.isfile(path):
                ctype = "text/plain; charset=utf-8" if path.endswith(".txt") else "text/html; charset=utf-8"
                return self.send_body(200, open(path, "rb").read(), ctype)
            return self.send_body(404, b"")
        if parts[0] == "status" and len(parts) == 2 and parts[1].isdigit():
            return self.send_body(int(parts[1]), b"")
        if parts[0] == "redirect" and len(parts) == 2 and parts[1].isdigit():
            n = int(parts[1])
            self.send_response(302)
            self.send_header("Location", f"/redirect/{n - 1}" if n > 1 else "/pages/article.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if parts[0] == "big":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(32):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self.send_body(404, b"")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(lifetime, server.shutdown).start()
server.serve_forever()
