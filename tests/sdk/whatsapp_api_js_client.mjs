// whatsapp-api-js, unchanged, against Switchboard's Meta-compatible endpoint (run by
// tests/api/sdk). Its Graph host is fixed; its documented `ponyfill.fetch` hook is the way to
// point it elsewhere, here a fetch that sends its requests to SB_GRAPH_URL. Prints one JSON
// object with what each step got.
import { WhatsAppAPI } from "whatsapp-api-js";
import { Text } from "whatsapp-api-js/messages/text";
import { Image } from "whatsapp-api-js/messages/media";
import { BodyComponent, BodyParameter, Language, Template, URLComponent } from "whatsapp-api-js/messages/template";

const env = process.env;
const toSwitchboard = (url, init) =>
  fetch(String(url).replace("https://graph.facebook.com", env.SB_GRAPH_URL), init);
const api = new WhatsAppAPI({
  token: env.SB_KEY,
  secure: false,
  v: "v23.0",
  ponyfill: { fetch: toSwitchboard },
});
const phone = env.SB_PHONE_ID;
const got = {};

got.text = (await api.sendMessage(phone, env.SB_CUSTOMER_OPEN, new Text("Hello from whatsapp-api-js"))).messages[0].id;
got.reply = (await api.sendMessage(phone, env.SB_CUSTOMER_OPEN, new Text("Replying to you"), env.SB_INBOUND_WAMID))
  .messages[0].id;
got.template = (await api.sendMessage(
  phone,
  env.SB_CUSTOMER_OPEN,
  new Template(
    "order_update",
    new Language("en_US"),
    new BodyComponent(new BodyParameter("Dana"), new BodyParameter("#1042")),
    new URLComponent("1042"),
  ),
)).messages[0].id;
const form = new FormData();
form.append("messaging_product", "whatsapp");
form.append("type", "image/png");
form.append("file", new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: "image/png" }), "label.png");
const upload = await api.uploadMedia(phone, form, false);
got.media_id = upload.id;
got.image = (await api.sendMessage(phone, env.SB_CUSTOMER_OPEN, new Image(upload.id, true, "Your label"))).messages[0].id;
got.media_mime = (await api.retrieveMedia(upload.id)).mime_type;
got.read = (await api.markAsRead(phone, env.SB_INBOUND_WAMID)).success;

const refused = await api.sendMessage(phone, env.SB_CUSTOMER_CLOSED, new Text("Are you still there?"));
got.reengagement = refused.error?.code ?? null;
const optedOut = await api.sendMessage(
  phone,
  env.SB_CUSTOMER_OPTED_OUT,
  new Template("spring_sale", new Language("en_US"), new BodyComponent(new BodyParameter("20%"))),
);
got.opted_out = optedOut.error?.code ?? null;

console.log(JSON.stringify(got));
