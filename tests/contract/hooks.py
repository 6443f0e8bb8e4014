"""Schemathesis hooks for rocketchat-mock's contract run (tests/contract/schemathesis.sh).

Generated cases log out and replace the whole state; both would leave every later case
unauthorized and make the run test 401s only. After any call that changed the shared state
that way, the state is reset to the fixtures, so each case starts from the same workspace.
"""

import os
import urllib.request

import schemathesis

BASE_URL = os.environ["ROCKETCHAT_MOCK_URL"]

# Calls after which the fixture credentials may no longer work.
STATE_CHANGING = ("/api/v1/logout", "/_mock/state", "/_mock/reset")


@schemathesis.hook
def after_call(context, case, response):
    if case.path in STATE_CHANGING and response.status_code < 300:
        request = urllib.request.Request(f"{BASE_URL}/_mock/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200, f"POST /_mock/reset answered {answer.status}"
