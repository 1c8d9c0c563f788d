"""Checks a forwarded webhook's X-Hub-Signature-256 with pywa's own verifier, as a bot built on
pywa checks Meta's: the endpoint's secret (as the app secret) and the header as arguments, the raw
body on stdin. Exits 0 when it verifies, 1 when it does not."""

import sys

from pywa import utils

body = sys.stdin.buffer.read()
secret, header = sys.argv[1], sys.argv[2]
sys.exit(0 if utils.webhook_updates_validator(secret, body, header) else 1)
