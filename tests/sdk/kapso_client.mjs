// @kapso/whatsapp-cloud-api, unchanged, against Switchboard's Meta-compatible endpoint (run by
// tests/api/sdk): `baseUrl` is Switchboard's /graph, the access token an API key. Prints one JSON
// object with what each step got; an unexpected outcome throws.
import { GraphApiError, WhatsAppClient } from "@kapso/whatsapp-cloud-api";

const env = process.env;
const client = new WhatsAppClient({ baseUrl: env.SB_GRAPH_URL, accessToken: env.SB_KEY });
const phoneNumberId = env.SB_PHONE_ID;
const got = {};

got.text = (await client.messages.sendText({ phoneNumberId, to: env.SB_CUSTOMER_OPEN, body: "Hello from Kapso" }))
  .messages[0].id;
got.reply = (await client.messages.sendRaw({
  phoneNumberId,
  payload: {
    messaging_product: "whatsapp", to: env.SB_CUSTOMER_OPEN, type: "text",
    text: { body: "Replying to you" }, context: { message_id: env.SB_INBOUND_WAMID },
  },
})).messages[0].id;
got.template = (await client.messages.sendTemplate({
  phoneNumberId,
  to: env.SB_CUSTOMER_OPEN,
  template: {
    name: "order_update",
    language: { code: "en_US" },
    components: [
      { type: "body", parameters: [{ type: "text", text: "Dana" }, { type: "text", text: "#1042" }] },
      { type: "button", subType: "url", index: 0, parameters: [{ type: "text", text: "1042" }] },
    ],
  },
})).messages[0].id;
const upload = await client.media.upload({
  phoneNumberId, type: "image/png", file: new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: "image/png" }),
  fileName: "label.png",
});
got.media_id = upload.id;
got.image = (await client.messages.sendImage({ phoneNumberId, to: env.SB_CUSTOMER_OPEN, image: { id: upload.id, caption: "Your label" } }))
  .messages[0].id;
const metadata = await client.media.get({ mediaId: upload.id, phoneNumberId });
got.media_mime = metadata.mimeType ?? metadata.mime_type;
got.read = (await client.messages.markRead({ phoneNumberId, messageId: env.SB_INBOUND_WAMID, typingIndicator: { type: "text" } }))
  .success;
got.templates = (await client.templates.list({ businessAccountId: env.SB_WABA_ID })).data.map((t) => t.name).sort();

try {
  await client.messages.sendText({ phoneNumberId, to: env.SB_CUSTOMER_CLOSED, body: "Are you still there?" });
  got.reengagement = null;
} catch (error) {
  if (!(error instanceof GraphApiError)) throw error;
  got.reengagement = [error.code, error.category];
}
try {
  await client.messages.sendTemplate({
    phoneNumberId,
    to: env.SB_CUSTOMER_OPTED_OUT,
    template: { name: "spring_sale", language: { code: "en_US" },
      components: [{ type: "body", parameters: [{ type: "text", text: "20%" }] }] },
  });
  got.opted_out = null;
} catch (error) {
  if (!(error instanceof GraphApiError)) throw error;
  got.opted_out = [error.code, error.category];
}

console.log(JSON.stringify(got));
