#!/bin/sh
# Reads sms.results from the beginning to its current end with kcat and prints one user's results, one JSON envelope
# per line (-J: topic, partition, offset, key, payload). Debian's kcat has no Avro decoder, so the payload is the
# value's bytes as they are (hence grep -a); its string fields, the status among them, read as text.
#   examples/kcat/results.sh <bootstrap> <user_id>
set -eu
bootstrap=$1 user=$2
kcat -b "$bootstrap" -t sms.results -C -o beginning -e -q -J | grep -a -F "\"key\":\"$user\"" || true
