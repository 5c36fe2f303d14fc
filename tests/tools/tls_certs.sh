# tls_certs DIR: a test PKI made with the openssl CLI, for the collector's HTTPS tests and
# bench/collector-tls.sh. Source it, then call it. Creates in DIR:
#   ca.pem                   root CA (the only thing clients trust)
#   server.pem, server.key   leaf "furrow-leaf-1" for localhost/127.0.0.1, followed by the
#                            intermediate CA that signed it (a chain, as a real CA issues)
#   renewed.pem, renewed.key leaf "furrow-leaf-2", same names, same chain (a renewal)
#   other.key                a key that belongs to neither
tls_certs() {
	d=$1
	mkdir -p "$d"
	(
		set -e
		cd "$d"
		printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n' >ca.ext
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >leaf.ext
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		    -out ca.pem -days 3 -subj /CN=furrow-test-root -addext basicConstraints=critical,CA:true \
		    -addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout inter.key \
		    -out inter.csr -subj /CN=furrow-test-intermediate
		openssl x509 -req -in inter.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3 \
		    -extfile ca.ext -out inter.pem
		for leaf in server:furrow-leaf-1 renewed:furrow-leaf-2; do
			n=${leaf%%:*}
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$n.key" \
			    -out "$n.csr" -subj "/CN=${leaf#*:}"
			openssl x509 -req -in "$n.csr" -CA inter.pem -CAkey inter.key -CAcreateserial \
			    -days 2 -extfile leaf.ext -out "$n.leaf.pem"
			cat "$n.leaf.pem" inter.pem >"$n.pem"
		done
		openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key
	) >/dev/null 2>"$d/openssl.log"
}
