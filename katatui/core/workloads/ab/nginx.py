"""The web server ab measures: nginx's configuration and the static files it serves, the same in
the benchmark image (``core.image`` writes them there) and in the scratch directory of a run."""

from __future__ import annotations

NGINX_ROOT = "/var/www/katatui"
NGINX_DEFAULT_LISTEN = "127.0.0.1:8080"
#: Files the web server offers, by name and size in bytes.
STATIC_FILES = {"1k.bin": 1024, "4k.bin": 4096, "16k.bin": 16384, "64k.bin": 65536, "1m.bin": 1048576}

# Keep this text (and core.image's NGINX_SCRIPT) in step with the Dockerfile at the top of the repository.
NGINX_CONFIG = f"""\
# katatui's web server for ab: static files from {NGINX_ROOT}, in the foreground.
# Another port: run `katatui-nginx PORT [ADDRESS]`, which rewrites the listen line below.
user nobody nogroup;
worker_processes auto;
daemon off;
pid /tmp/katatui-nginx.pid;
error_log stderr warn;

events {{
    worker_connections 4096;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path /tmp/katatui-nginx-body;
    proxy_temp_path /tmp/katatui-nginx-proxy;
    fastcgi_temp_path /tmp/katatui-nginx-fastcgi;
    uwsgi_temp_path /tmp/katatui-nginx-uwsgi;
    scgi_temp_path /tmp/katatui-nginx-scgi;

    server {{
        listen {NGINX_DEFAULT_LISTEN};
        root {NGINX_ROOT};
        index index.html;
    }}
}}
"""
