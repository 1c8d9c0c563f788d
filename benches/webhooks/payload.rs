//! The webhooks the benchmark sends: Meta `messages` notifications carrying one inbound text message
//! each, shaped like the real ones (see `../shared/corpus/webhooks/pywa__message__text.json`), from a
//! fixed set of customers, with unique wamids and Meta's string Unix timestamps, signed as Meta signs.

use bytes::Bytes;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use serde_json::{Value, json};
use switchboard::whatsapp::signature;

/// The Meta app the webhooks are addressed to and signed by.
pub const META_APP_ID: &str = "1048576000000001";
/// Its app secret, which keys `X-Hub-Signature-256`.
pub const APP_SECRET: &str = "switchboard-bench-app-secret";
/// Its webhook verify token (needed to register the app; unused by the load).
pub const VERIFY_TOKEN: &str = "switchboard-bench-verify-token";
/// The business number every message is sent to.
pub const PHONE_NUMBER_ID: &str = "106540352242922";
/// The WhatsApp Business Account of that number.
pub const WABA_ID: &str = "102290129340398";
/// The number as people see it.
pub const DISPLAY_PHONE: &str = "+1 555 078 3881";

/// Customer 0's business-scoped user id (Meta sends one beside `wa_id` since 2025).
const FIRST_USER_ID: u64 = 13_491_208_655_302_741_918;

/// What customers write; a mix of short and longer texts.
const TEXTS: &[&str] = &[
    "Hi",
    "Hello, is anyone there?",
    "Where is my order? It was supposed to arrive yesterday.",
    "Thanks, that worked!",
    "Can I change the delivery address to 221B Baker Street, London?",
    "I was charged twice for order #48213, please refund one of the payments.",
    "ok",
    "What are your opening hours on Sundays?",
];

/// One webhook as Meta would deliver it: the exact body and its `X-Hub-Signature-256`.
pub struct Event {
    /// The id of the one message in it.
    pub wamid: String,
    pub body: Bytes,
    pub signature: String,
}

/// `count` webhooks, each from one of `customers` senders, in timestamp order.
pub fn generate(count: usize, customers: u32, seed: u64) -> Vec<Event> {
    let mut rng = StdRng::seed_from_u64(seed);
    // Distinguishes this run's wamids from another seed's; the index makes them unique in a run.
    let run_tag: u32 = rng.r#gen();
    let first_timestamp = chrono::Utc::now().timestamp() - 3_600;
    (0..count)
        .map(|index| {
            let customer = rng.gen_range(0..customers);
            let text = TEXTS.choose(&mut rng).copied().unwrap_or("Hi");
            let message = Message {
                wamid: format!(
                    "wamid.HBgL{}FQIAEhgg{run_tag:08X}{index:012X}",
                    wa_id(customer)
                ),
                customer,
                // Several messages share a second, as they do at this rate.
                timestamp: first_timestamp + (index / 10) as i64,
                text,
            };
            let body = Bytes::from(notification(&message).to_string());
            Event {
                signature: signature::sign(APP_SECRET.as_bytes(), &body),
                wamid: message.wamid,
                body,
            }
        })
        .collect()
}

struct Message<'a> {
    wamid: String,
    customer: u32,
    timestamp: i64,
    text: &'a str,
}

/// A customer's WhatsApp id (their phone number, digits only).
fn wa_id(customer: u32) -> String {
    format!("1555{:07}", customer)
}

fn notification(message: &Message<'_>) -> Value {
    let wa_id = wa_id(message.customer);
    let user_id = format!("US.{}", FIRST_USER_ID + u64::from(message.customer));
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {
                        "display_phone_number": "15550783881",
                        "phone_number_id": PHONE_NUMBER_ID
                    },
                    "contacts": [{
                        "profile": { "name": format!("Customer {}", message.customer) },
                        "wa_id": wa_id,
                        "user_id": user_id
                    }],
                    "messages": [{
                        "from": wa_id,
                        "id": message.wamid,
                        // Meta sends Unix seconds as a string.
                        "timestamp": message.timestamp.to_string(),
                        "text": { "body": message.text },
                        "type": "text"
                    }]
                },
                "field": "messages"
            }]
        }]
    })
}

/// The status storm's webhooks: `sent`, `delivered` and `read` for `messages` campaign messages
/// (`wamid.storm.{i}`, to customer `i % customers`, sent at `status_rate / 3` a second; delivered
/// a second later and read a second after that, every seventh read before delivered), in the order
/// Meta would post them, with a customer's message after every `status_rate / inbound_rate`
/// statuses. Returns the events and the indexes of the customers' messages.
pub fn storm(
    messages: usize,
    customers: u32,
    status_rate: u32,
    inbound_rate: u32,
) -> (Vec<Event>, Vec<usize>) {
    let base = chrono::Utc::now().timestamp();
    let per_second = f64::from(status_rate) / 3.0;
    let mut statuses: Vec<(f64, &str, usize)> = Vec::with_capacity(messages * 3);
    for i in 0..messages {
        let sent = i as f64 / per_second;
        let (delivered, read) = if i % 7 == 0 { (2.0, 1.0) } else { (1.0, 2.0) };
        statuses.push((sent, "sent", i));
        statuses.push((sent + delivered, "delivered", i));
        statuses.push((sent + read, "read", i));
    }
    statuses.sort_by(|a, b| a.0.total_cmp(&b.0));
    let every = (status_rate / inbound_rate.max(1)).max(1) as usize;
    let mut events = Vec::with_capacity(statuses.len() + statuses.len() / every);
    let mut inbound = Vec::new();
    for (n, (at, status, i)) in statuses.into_iter().enumerate() {
        let wamid = format!("wamid.storm.{i}");
        let customer = (i % customers as usize) as u32;
        let body = Bytes::from(
            status_notification(&wamid, status, base + at as i64, customer).to_string(),
        );
        events.push(signed(wamid, body));
        if (n + 1) % every == 0 {
            let index = inbound.len();
            let message = Message {
                wamid: format!("wamid.HBgLstormIn{index:08X}"),
                customer: (index as u32 * 7919) % customers,
                timestamp: base + at as i64,
                text: TEXTS[index % TEXTS.len()],
            };
            let body = Bytes::from(notification(&message).to_string());
            inbound.push(events.len());
            events.push(signed(message.wamid, body));
        }
    }
    (events, inbound)
}

fn signed(wamid: String, body: Bytes) -> Event {
    Event {
        signature: signature::sign(APP_SECRET.as_bytes(), &body),
        wamid,
        body,
    }
}

/// A `messages` notification carrying one delivery status.
fn status_notification(wamid: &str, status: &str, timestamp: i64, customer: u32) -> Value {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": WABA_ID,
            "changes": [{
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": { "display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID },
                    "statuses": [{
                        "id": wamid,
                        "status": status,
                        "timestamp": timestamp.to_string(),
                        "recipient_id": wa_id(customer),
                        "pricing": { "billable": true, "pricing_model": "PMP", "category": "marketing" }
                    }]
                },
                "field": "messages"
            }]
        }]
    })
}
