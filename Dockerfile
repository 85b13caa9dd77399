# The benchmark image from Debian packages, for Docker daemons that can pull debian:bookworm-slim:
#
#     docker build -t katatui/bench:0.1 .        (or: katatui image build)
#
# Without a registry, `katatui image build --from-host` makes an image with the same tools, files and
# labels from the host's own binaries. The nginx config and the katatui-nginx script below are the
# ones in katatui/core/image.py: change them together.
FROM debian:bookworm-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        fio iperf3 apache2-utils nginx-light sysbench busybox procps \
 && rm -rf /var/lib/apt/lists/*

RUN mkdir -p /etc/katatui /var/www/katatui /var/lib/nginx /var/log/nginx \
 && printf '%s\n' \
        '# katatui'"'"'s web server for ab: static files from /var/www/katatui, in the foreground.' \
        '# Another port: run `katatui-nginx PORT [ADDRESS]`, which rewrites the listen line below.' \
        'user nobody nogroup;' \
        'worker_processes auto;' \
        'daemon off;' \
        'pid /tmp/katatui-nginx.pid;' \
        'error_log stderr warn;' \
        '' \
        'events {' \
        '    worker_connections 4096;' \
        '}' \
        '' \
        'http {' \
        '    include /etc/nginx/mime.types;' \
        '    default_type application/octet-stream;' \
        '    access_log off;' \
        '    sendfile on;' \
        '    tcp_nopush on;' \
        '    tcp_nodelay on;' \
        '    keepalive_timeout 65;' \
        '    keepalive_requests 1000000;' \
        '    client_body_temp_path /tmp/katatui-nginx-body;' \
        '    proxy_temp_path /tmp/katatui-nginx-proxy;' \
        '    fastcgi_temp_path /tmp/katatui-nginx-fastcgi;' \
        '    uwsgi_temp_path /tmp/katatui-nginx-uwsgi;' \
        '    scgi_temp_path /tmp/katatui-nginx-scgi;' \
        '' \
        '    server {' \
        '        listen 127.0.0.1:8080;' \
        '        root /var/www/katatui;' \
        '        index index.html;' \
        '    }' \
        '}' \
        > /etc/katatui/nginx.conf \
 && printf '%s\n' \
        '#!/bin/sh' \
        '# katatui-nginx PORT [ADDRESS]: serve /var/www/katatui on ADDRESS:PORT (default 127.0.0.1) in the' \
        '# foreground, with /etc/katatui/nginx.conf rewritten for that port.' \
        'set -eu' \
        'port=${1:-}' \
        'addr=${2:-127.0.0.1}' \
        'case $port in' \
        '    '"''"' | *[!0-9]*) echo "usage: katatui-nginx PORT [ADDRESS]; bad port: '"'"'$port'"'"'" >&2; exit 2 ;;' \
        'esac' \
        'case $addr in' \
        '    '"''"' | *[!]0-9A-Za-z.:[-]*) echo "katatui-nginx: bad address: '"'"'$addr'"'"'" >&2; exit 2 ;;' \
        'esac' \
        'conf=$(mktemp /tmp/katatui-nginx.XXXXXX)' \
        'sed -e "s/listen 127\.0\.0\.1:8080;/listen $addr:$port;/" \' \
        '    -e "s#/tmp/katatui-nginx.pid#$conf.pid#" /etc/katatui/nginx.conf > "$conf"' \
        'exec nginx -c "$conf"' \
        > /usr/local/bin/katatui-nginx \
 && chmod 755 /usr/local/bin/katatui-nginx \
 && echo '<html><body>katatui</body></html>' > /var/www/katatui/index.html \
 && for f in 1k:1024 4k:4096 16k:16384 64k:65536 1m:1048576; do \
        head -c "${f#*:}" /dev/zero > "/var/www/katatui/${f%%:*}.bin"; \
    done

ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL io.katatui.image=bench \
      io.katatui.source=dockerfile \
      io.katatui.version=0.1.0 \
      io.katatui.tools="fio iperf3 ab nginx sysbench busybox"
CMD ["/bin/sh"]
