#!/usr/bin/env bash
# The egress policy against real DNS: the gateway binary runs in a private mount namespace whose
# /etc/hosts maps a host name to the cloud metadata address and another to loopback. A request
# naming the first is refused with a 422 naming the rule, and nothing is connected to; the
# second is served by a stand-in model on loopback. Needs root (unshare -m), as CI runs.
# Usage: .ci/egress-e2e.sh <path to duo-gateway binary>
set -euo pipefail
bin=$(realpath "$1")
work=$(mktemp -d)
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
model_port=$(free_port)
gw_port=$(free_port)

# A stand-in OpenAI-compatible model: answers /v1/completions, counts requests.
cat > "$work/model.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(sys.argv[2], "a") as f:
            f.write(self.path + "\n")
        body = json.dumps({"choices": [{"index": 0, "text": "return a + b", "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 3, "completion_tokens": 4}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
: > "$work/requests.log"
python3 "$work/model.py" "$model_port" "$work/requests.log" & echo $! > "$work/model.pid"

printf '127.0.0.1 localhost model-ok.test\n169.254.169.254 metadata-evil.test\nfd00:ec2::254 metadata6-evil.test\n' > "$work/hosts"
AIGW_FASTAPI__API_PORT=$gw_port AIGW_FASTAPI__METRICS_PORT=0 AIGW_CUSTOM_MODELS__ENABLED=true \
AIGW_AUTH__BYPASS_EXTERNAL=true \
  unshare -m sh -c "mount --bind '$work/hosts' /etc/hosts && exec '$bin'" > "$work/gateway.log" 2>&1 &
echo $! > "$work/gateway.pid"
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$gw_port/monitoring/healthz" > /dev/null && break
  sleep 0.1
done

complete() {
  curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$gw_port/v2/code/completions" \
    -H 'content-type: application/json' \
    -d "{\"current_file\": {\"file_name\": \"a.py\", \"content_above_cursor\": \"def add(a, b):\", \"content_below_cursor\": \"\"},
         \"model_provider\": \"litellm\", \"model_name\": \"codestral\", \"model_endpoint\": \"$1\",
         \"model_api_key\": \"secret-key\", \"model_identifier\": \"custom_openai/codestral\"}"
}
fail() { echo "egress e2e: $*" >&2; cat "$work/gateway.log" >&2; exit 1; }

for host in metadata-evil.test metadata6-evil.test; do
  status=$(complete "http://$host:$model_port/v1")
  [ "$status" = 422 ] || fail "$host: expected 422, got $status: $(cat "$work/body")"
  grep -q 'rule cloud_metadata' "$work/body" || fail "$host: detail does not name the rule: $(cat "$work/body")"
done
[ ! -s "$work/requests.log" ] || fail "the model saw requests meant for the metadata names"

status=$(complete "http://model-ok.test:$model_port/v1")
[ "$status" = 200 ] || fail "model-ok.test: expected 200, got $status: $(cat "$work/body")"
grep -q 'return a + b' "$work/body" || fail "unexpected answer: $(cat "$work/body")"
[ "$(wc -l < "$work/requests.log")" = 1 ] || fail "expected one request at the model"
echo "egress e2e ok: metadata names refused (422, rule cloud_metadata), the loopback name served"
