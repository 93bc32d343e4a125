# Shared by the nginx rows: a config and prefix under $WORK/NAME.
# nginx_conf NAME WORKERS HTTP-BODY: master process, epoll, sendfile, temp
# folders and logs inside the prefix; HTTP-BODY (servers, upstreams, extra
# directives) goes into the http block.
nginx_conf() {
    local d=$WORK/$1
    mkdir -p "$d/logs" "$d/tmp"
    cat >"$d/nginx.conf" <<CONF
user root;
daemon off;
master_process on;
worker_processes $2;
pid $d/nginx.pid;
error_log $d/logs/error.log info;
events { use epoll; worker_connections 512; }
http {
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    sendfile on;
    default_type application/octet-stream;
    $3
}
CONF
}
