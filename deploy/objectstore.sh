#!/bin/sh
# SeaweedFS for compose's `s3` profile: one process (master, volume, filer and the S3 API on
# 8333) that admits one identity, S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY (use hex values:
# openssl rand -hex 20), and makes OBJECTSTORE_BUCKET on its first start.
set -eu
: "${S3_ACCESS_KEY_ID:?set S3_ACCESS_KEY_ID in deploy/.env}"
: "${S3_SECRET_ACCESS_KEY:?set S3_SECRET_ACCESS_KEY in deploy/.env}"
bucket="${OBJECTSTORE_BUCKET:-tracker}"

umask 077
config=/tmp/s3.json
printf '{"identities":[{"name":"tracker","credentials":[{"accessKey":"%s","secretKey":"%s"}],"actions":["Admin","Read","Write","List","Tagging"]}]}\n' \
  "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" > "$config"

weed server -dir=/data -ip.bind=0.0.0.0 -s3 -s3.port=8333 -s3.config="$config" \
  -s3.port.iceberg=0 -s3.port.lance=0 &
server=$!
trap 'kill -TERM "$server"; wait "$server"' TERM INT

until wget -q -O /dev/null http://127.0.0.1:8333/healthz; do sleep 1; done
# Made once; on later starts it exists already and the shell says so.
echo "s3.bucket.create -name $bucket" | weed shell -master=127.0.0.1:9333 >/dev/null 2>&1 || true
wait "$server"
