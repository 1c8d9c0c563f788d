// Checks a forwarded webhook's X-Hub-Signature-256 with @kapso/whatsapp-cloud-api's own
// verifier, as a bot built on it checks Meta's: the endpoint's secret (as the app secret) and the
// header as arguments, the raw body on stdin. Exits 0 when it verifies, 1 when it does not.
import { verifySignature } from "@kapso/whatsapp-cloud-api/server";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const [appSecret, signatureHeader] = process.argv.slice(2);
const ok = verifySignature({ appSecret, rawBody: Buffer.concat(chunks), signatureHeader });
process.exit(ok ? 0 : 1);
