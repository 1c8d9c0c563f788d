"""pywa, unchanged, against Switchboard's Meta-compatible endpoint (run by tests/api/sdk).

pywa's Graph host is fixed (https://graph.facebook.com/vXX.X); its documented `session=` httpx
client is the way to point it elsewhere, here through a transport that sends its requests to
SB_GRAPH_URL. Prints one JSON object with what each step got; any unexpected outcome raises.
"""

import json
import os

import httpx
from pywa import WhatsApp
from pywa import errors
from pywa.types.templates import TemplateLanguage

GRAPH = httpx.URL(os.environ["SB_GRAPH_URL"])  # e.g. http://127.0.0.1:8080/graph
KEY = os.environ["SB_KEY"]
PHONE_ID = os.environ["SB_PHONE_ID"]
WABA_ID = os.environ["SB_WABA_ID"]
OPEN = os.environ["SB_CUSTOMER_OPEN"]
CLOSED = os.environ["SB_CUSTOMER_CLOSED"]
OPTED_OUT = os.environ["SB_CUSTOMER_OPTED_OUT"]
INBOUND = os.environ["SB_INBOUND_WAMID"]


class ToSwitchboard(httpx.BaseTransport):
    """Sends what pywa addresses to graph.facebook.com to Switchboard's /graph instead."""

    def __init__(self):
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request):
        request.url = request.url.copy_with(
            scheme=GRAPH.scheme,
            host=GRAPH.host,
            port=GRAPH.port,
            path=GRAPH.path.rstrip("/") + request.url.path,
        )
        request.headers["host"] = request.url.netloc.decode()
        return self.inner.handle_request(request)


session = httpx.Client(mounts={"https://graph.facebook.com": ToSwitchboard()}, timeout=30)
wa = WhatsApp(phone_id=PHONE_ID, token=KEY, session=session, waba_id=WABA_ID)
got = {}

got["text"] = wa.send_message(to=OPEN, text="Hello from pywa").id
got["reply"] = wa.send_message(
    to=OPEN, text="Replying to you", reply_to_message_id=INBOUND
).id
got["template"] = wa.send_template(
    to=OPEN,
    name="order_update",
    language=TemplateLanguage.ENGLISH_US,
    params=[
        {"type": "body", "parameters": [
            {"type": "text", "text": "Dana"}, {"type": "text", "text": "#1042"}]},
        {"type": "button", "sub_type": "url", "index": 0,
         "parameters": [{"type": "text", "text": "1042"}]},
    ],
).id
media = wa.upload_media(media=b"\x89PNG\r\n\x1a\n pywa", mime_type="image/png", filename="label.png")
got["media_id"] = media.id
got["image"] = wa.send_image(to=OPEN, image=media.id, caption="Your label").id
got["media_bytes"] = len(wa.get_media_bytes(wa.get_media_url(media.id).url))
got["read"] = bool(wa.mark_message_as_read(message_id=INBOUND))
got["templates"] = sorted(t.name for t in wa.get_templates())

try:
    wa.send_message(to=CLOSED, text="Are you still there?")
    got["reengagement"] = None
except errors.ReEngagementMessage as e:
    got["reengagement"] = type(e).__name__

try:
    wa.send_template(
        to=OPTED_OUT,
        name="spring_sale",
        language=TemplateLanguage.ENGLISH_US,
        params=[{"type": "body", "parameters": [{"type": "text", "text": "20%"}]}],
    )
    got["opted_out"] = None
except errors.WhatsAppError as e:
    got["opted_out"] = [type(e).__name__, e.code]

print(json.dumps(got))
