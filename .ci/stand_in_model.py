"""A stand-in OpenAI-compatible model server for CI smoke runs: answers every
/v1/completions and /v1/chat/completions request with a fixed text (JSON, not streamed).

Usage: python3 .ci/stand_in_model.py <port> <answer>
"""
import http.server
import json
import sys

PORT, ANSWER = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        usage = {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
        if self.path.endswith("/chat/completions"):
            choice = {"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}
            kind = "chat.completion"
        else:
            choice = {"index": 0, "text": ANSWER, "finish_reason": "stop"}
            kind = "text_completion"
        out = json.dumps({"id": "stand-in", "object": kind, "created": 0, "model": body.get("model", ""),
                          "choices": [choice], "usage": usage}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
