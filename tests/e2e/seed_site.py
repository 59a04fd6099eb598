#!/usr/bin/env python3
"""Loopback news site made of the seed documents, for the fetcher's sources test.

Usage: seed_site.py CORPUS_DIR [LIFETIME_S]. Binds 127.0.0.1 on a free port,
prints the port on stdout, logs every request on stderr as
"req t=<unix time> path=<path> inm=<If-None-Match or ->". Serves:
  /articles/<id>.html     each seed (first line: title; the other non-blank
                          lines: paragraphs) in a realistic page: navigation,
                          ads, byline, <time>, JSON-LD (some), related links,
                          comments, footer
  /feeds/rss.xml          RSS 2.0: seeds 0 and 1
  /feeds/atom.xml         Atom 1.0: seeds 2 and 3 (relative links)
  /feeds/broken.xml       malformed XML (an unclosed <item>)
  /sitemap_index.xml      a sitemap index -> /sitemaps/news.xml
  /sitemaps/news.xml      a news sitemap: seeds 4 and 0, and /private/secret.html
  /robots.txt             Disallow: /private/, Sitemap: <base>/sitemap_index.xml
  /private/secret.html    a page robots.txt forbids
Feeds and sitemaps carry an ETag and answer If-None-Match with 304.
"""
import hashlib
import html
import http.server
import json
import os
import sys
import threading
import time

corpus = sys.argv[1]
lifetime = float(sys.argv[2]) if len(sys.argv) > 2 else 300.0
SEEDS = []
for name in sorted(os.listdir(corpus)):
    if name.endswith(".txt") and name[3] == "_":
        lines = [l.strip() for l in open(os.path.join(corpus, name), encoding="utf-8")]
        lines = [l for l in lines if l]
        SEEDS.append({"id": name[4:20], "title": lines[0], "paras": lines[1:]})
AUTHORS = ["Sokvy Rim", "Chheang Vannarith", "Jane Doe", "Ian Storey", "Rekha J"]
DATES = ["2024-06-21T09:30:00+07:00", "2024-07-02T08:00:00+00:00", "2024-06-25T12:15:00+02:00",
         "2024-06-28T06:45:00+08:00", "2024-06-21T10:00:00+05:30"]


def page(i, base):
    s = SEEDS[i]
    t = html.escape(s["title"])
    paras = "\n".join("<p>%s</p>" % html.escape(p) for p in s["paras"])
    jsonld = ""
    if i % 2 == 0:
        jsonld = '<script type="application/ld+json">%s</script>' % json.dumps({
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": s["title"],
            "datePublished": DATES[i], "author": {"@type": "Person", "name": AUTHORS[i]}})
    related = "\n".join('<li><a href="/articles/%s.html">%s</a></li>' % (o["id"], html.escape(o["title"][:60]))
                        for j, o in enumerate(SEEDS) if j != i)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{t} | The Loopback Times</title>
<meta name="viewport" content="width=device-width">
<link rel="canonical" href="{base}/articles/{s['id']}.html">
<style>body{{font-family:serif}} .ad{{border:1px solid #ccc}}</style>{jsonld}
<script>window.analytics = {{track: function() {{}}}};</script></head>
<body>
<header><a class="logo" href="/">The Loopback Times</a>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li><li><a href="/asia">Asia</a></li>
<li><a href="/opinion">Opinion</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<div class="ad ad-leaderboard">Advertisement: Fly Loopback Air to anywhere at all.</div>
<main>
<article>
<h1>{t}</h1>
<div class="byline">By <a rel="author" href="/authors/{i}">{html.escape(AUTHORS[i])}</a> |
<time datetime="{DATES[i]}">{DATES[i][:10]}</time></div>
<div class="share"><a href="#">Share on X</a> <a href="#">Email</a></div>
<div class="article-body">
{paras}
</div>
</article>
<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>
<div class="ad ad-box">Advertisement: Subscribe for unlimited access.</div>
<section id="comments" class="comments"><h2>Comments (2)</h2>
<div class="comment"><span class="who">reader42</span><p>First! Great analysis, thanks.</p></div>
<div class="comment"><span class="who">skeptic</span><p>I disagree with every word of this.</p></div>
<form><textarea name="c"></textarea><button>Post comment</button></form></section>
</main>
<footer><p>Copyright 2024 The Loopback Times. All rights reserved.</p>
<p><a href="/privacy">Privacy</a> <a href="/terms">Terms</a></p></footer>
</body></html>
"""


def rss(base):
    items = "".join(f"""<item><title>{html.escape(SEEDS[i]['title'])}</title>
<link>{base}/articles/{SEEDS[i]['id']}.html?utm_source=rss</link>
<pubDate>Fri, 21 Jun 2024 09:30:00 GMT</pubDate></item>""" for i in (0, 1))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>The Loopback Times</title><link>{base}/</link>
<description>All the news that fits on 127.0.0.1</description>{items}</channel></rss>"""


def atom(base):
    entries = "".join(f"""<entry><title>{html.escape(SEEDS[i]['title'])}</title>
<link rel="alternate" href="/articles/{SEEDS[i]['id']}.html"/><id>urn:seed:{SEEDS[i]['id']}</id>
<updated>2024-06-25T12:15:00Z</updated></entry>""" for i in (2, 3))
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}/"><title>Loopback Analysis</title>
<id>urn:loopback:analysis</id><updated>2024-06-28T00:00:00Z</updated>{entries}</feed>"""


BROKEN = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Broken</title>
<item><title>Unclosed item</title><link>http://example.invalid/x</link>
</channel></rss>"""


def sitemap_index(base):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>{base}/sitemaps/news.xml</loc><lastmod>2024-06-28</lastmod></sitemap></sitemapindex>"""


def news_sitemap(base):
    urls = [f"{base}/articles/{SEEDS[i]['id']}.html" for i in (4, 0)] + [f"{base}/private/secret.html"]
    body = "".join(f"""<url><loc>{u}</loc><news:news><news:publication><news:name>Loopback</news:name>
<news:language>en</news:language></news:publication><news:publication_date>2024-06-21</news:publication_date>
<news:title>t</news:title></news:news></url>""" for u in urls)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{body}</urlset>"""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, code, body, ctype, etag=False):
        if isinstance(body, str):
            body = body.encode("utf-8")
        tag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        if etag and self.headers.get("If-None-Match") == tag:
            self.send_response(304)
            self.send_header("ETag", tag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", tag)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        sys.stderr.write("req t=%.3f path=%s inm=%s\n" % (time.time(), self.path,
                                                         self.headers.get("If-None-Match", "-")))
        sys.stderr.flush()
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        path = self.path.split("?")[0]
        xml = "application/xml; charset=utf-8"
        try:
            if path == "/robots.txt":
                return self.send_body(200, "User-agent: *\nDisallow: /private/\n\nSitemap: %s/sitemap_index.xml\n" % base,
                                      "text/plain")
            if path == "/feeds/rss.xml":
                return self.send_body(200, rss(base), "application/rss+xml", etag=True)
            if path == "/feeds/atom.xml":
                return self.send_body(200, atom(base), "application/atom+xml", etag=True)
            if path == "/feeds/broken.xml":
                return self.send_body(200, BROKEN, xml, etag=True)
            if path == "/sitemap_index.xml":
                return self.send_body(200, sitemap_index(base), xml, etag=True)
            if path == "/sitemaps/news.xml":
                return self.send_body(200, news_sitemap(base), xml, etag=True)
            if path == "/private/secret.html":
                return self.send_body(200, "<html><body><p>secret</p></body></html>", "text/html")
            for i, s in enumerate(SEEDS):
                if path == "/articles/%s.html" % s["id"]:
                    return self.send_body(200, page(i, base), "text/html; charset=utf-8")
            self.send_body(404, b"", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
threading.Timer(lifetime, server.shutdown).start()
server.serve_forever()
