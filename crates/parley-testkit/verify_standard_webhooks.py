"""Verifies a delivered request with the Standard Webhooks reference library.

Reads {"secret": "whsec_…", "headers": {name: value}, "body": "…"} from stdin and exits 0
when the library accepts the request, 1 (printing why) when it refuses it. A request with
no body (the custom value GET, signed over an empty body) is verified without reading the
body as JSON.
"""
import json
import sys

from standardwebhooks.webhooks import Webhook

request = json.load(sys.stdin)
try:
    body = request["body"].encode()
    Webhook(request["secret"]).verify(body, request["headers"], json_parse=bool(body))
except Exception as refusal:  # the library raises its own error types
    print(f"refused: {refusal!r}")
    sys.exit(1)
print("verified")
