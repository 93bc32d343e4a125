#!/usr/bin/env bash
# Test certificates for the shop and bank examples, made with the openssl
# command: a CA, and one P-256 certificate (with its key) per host name.
#
#   examples/make-certs.sh DIR [HOST...]   (default hosts: shop.example bank.example)
#
# DIR gets ca.pem and ca.key, then HOST.pem and HOST.key for each host.
# DAYS (default 30) sets the validity; a negative DAYS makes certificates
# that have already expired.  An existing ca.pem/ca.key in DIR is reused.
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR [HOST...]}
shift
hosts=("$@")
[ ${#hosts[@]} -gt 0 ] || hosts=(shop.example bank.example)
days=${DAYS:-30}
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca.key" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca.key" \
        -out "$dir/ca.pem" -subj "/CN=tcpcrypt example CA" -days 30 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
fi
for h in "${hosts[@]}"; do
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$h.key" \
        -out "$dir/$h.csr" -subj "/CN=$h" 2>/dev/null
    printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n' "$h" >"$dir/$h.ext"
    openssl x509 -req -in "$dir/$h.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
        -days "$days" -extfile "$dir/$h.ext" -out "$dir/$h.pem" 2>/dev/null
    rm -f "$dir/$h.csr" "$dir/$h.ext"
    echo "make-certs: $dir/$h.pem (key $dir/$h.key, valid $days days)"
done
chmod 0644 "$dir"/*.pem
