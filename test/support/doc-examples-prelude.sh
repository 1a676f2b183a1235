# Run before each shell example of the docs (test/docs-examples.test.ts): a failing command fails the block where
# it fails, and curl is the real one, each call's last HTTP status (from its dumped headers) logged with its
# arguments, one line each, to $DOCS_CURL_LOG.
set -e
curl() {
  local headers="$DOCS_EXAMPLE_DIR/headers.$BASHPID.$RANDOM" status=none code=0 line args="$*"
  command curl -D "$headers" "$@" || code=$?
  if [[ -f $headers ]]; then
    while IFS= read -r line; do
      if [[ $line =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]]; then status=${BASH_REMATCH[1]}; fi
    done <"$headers"
  fi
  printf '%s\t%s\n' "$status" "${args//$'\n'/ }" >>"$DOCS_CURL_LOG"
  return "$code"
}
