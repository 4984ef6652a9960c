#!/usr/bin/env python3
# vmcast-server.py DIR PORTFILE CUTFILE — the static web server of tests/e2e/t_vmpull.sh:
# serves DIR on a free port of 127.0.0.1 (written to PORTFILE) with what a CDN offers and
# `python3 -m http.server` lacks: Range requests (206), ETag and Last-Modified with
# If-None-Match / If-Modified-Since (304). While CUTFILE exists, the next blob requested
# (/blobs/..., not a .minisig) is sent halfway and the connection closed, and CUTFILE is
# removed: an interrupted download. Each request is logged as "GET PATH RANGE STATUS".
import email.utils, hashlib, http.server, os, socketserver, sys

root, portfile, cutfile = sys.argv[1:4]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *a):
        pass

    def log(self, status):
        print('GET %s %s %d' % (self.path, self.headers.get('Range', '-'), status), flush=True)

    def fail(self, status):
        self.log(status)
        self.send_response(status)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def do_GET(self):
        rel = self.path.split('?')[0].lstrip('/')
        path = os.path.realpath(os.path.join(root, rel))
        if not path.startswith(os.path.realpath(root) + '/') or not os.path.isfile(path):
            return self.fail(404)
        data = open(path, 'rb').read()
        st = os.stat(path)
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:32]
        modified = email.utils.formatdate(int(st.st_mtime), usegmt=True)
        inm, ims = self.headers.get('If-None-Match'), self.headers.get('If-Modified-Since')
        if (inm and inm == etag) or (not inm and ims and ims == modified):
            self.log(304)
            self.send_response(304)
            self.send_header('ETag', etag)
            self.end_headers()
            return
        start, status = 0, 200
        rng = self.headers.get('Range')
        if rng and rng.startswith('bytes=') and rng.endswith('-'):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.fail(416)
            status = 206
        body = data[start:]
        self.log(status)
        self.send_response(status)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('ETag', etag)
        self.send_header('Last-Modified', modified)
        self.send_header('Accept-Ranges', 'bytes')
        if status == 206:
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, len(data) - 1, len(data)))
        self.end_headers()
        if rel.startswith('blobs/') and not rel.endswith('.minisig') and os.path.exists(cutfile):
            os.unlink(cutfile)
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


srv = Server(('127.0.0.1', 0), Handler)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
