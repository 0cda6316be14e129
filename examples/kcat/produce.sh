#!/bin/sh
# Produces a user's profile and one event to the pipeline's input topics with kcat, as JSON, keyed by the user id
# (the pipeline requires key = user_id; -K sets the key/value delimiter).
#   examples/kcat/produce.sh <bootstrap> <user_id> <phone> <event name>
set -eu
bootstrap=$1 user=$2 phone=$3 event=$4
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
printf '%s|{"user_id":"%s","ts":"%s","phone":"%s"}\n' "$user" "$user" "$now" "$phone" |
  kcat -b "$bootstrap" -t sms.profiles -P -K '|'
printf '%s|{"user_id":"%s","name":"%s","ts":"%s"}\n' "$user" "$user" "$event" "$now" |
  kcat -b "$bootstrap" -t sms.events -P -K '|'
echo "produced a profile and a $event event for $user (json)"
