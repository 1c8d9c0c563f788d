//! Identifiers shaped like Meta's: message ids (`wamid.` and base64 of Meta's framing around the
//! recipient and a random id, like `wamid.HBgLMTM0Mzc3NzI5MTAVAgARGBIyQzU4M0Q4MDc2NDY4ODgwNjUA`),
//! numeric object ids and conversation ids. All random, so unique across processes.

use rand::Rng;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A new message id for a message to `wa_id`.
pub fn wamid(wa_id: &str) -> String {
    let mut rng = rand::thread_rng();
    let recipient = &wa_id.as_bytes()[..wa_id.len().min(64)];
    let mut raw = vec![0x1c, 0x18, recipient.len() as u8];
    raw.extend_from_slice(recipient);
    raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
    raw.extend((0..18).map(|_| HEX_UPPER[rng.gen_range(0..16)]));
    raw.push(0);
    format!("wamid.{}", base64(&raw))
}

/// A numeric Graph object id (templates), 16 digits like Meta's.
pub fn object_id() -> String {
    rand::thread_rng()
        .gen_range(1_000_000_000_000_000_u64..10_000_000_000_000_000)
        .to_string()
}

/// A conversation id: 32 lowercase hex digits.
pub fn conversation_id() -> String {
    let mut rng = rand::thread_rng();
    (0..32)
        .map(|_| HEX_UPPER[rng.gen_range(0..16)].to_ascii_lowercase() as char)
        .collect()
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_and_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_wamid_frames_the_recipient_like_meta() {
        let id = wamid("13437772910");
        // Meta's recorded id for this recipient starts the same way.
        assert!(id.starts_with("wamid.HBgLMTM0Mzc3NzI5MTAVAgARGB"), "{id}");
        assert_ne!(id, wamid("13437772910"));
    }

    #[test]
    fn ids_have_metas_lengths() {
        assert_eq!(object_id().len(), 16);
        assert_eq!(conversation_id().len(), 32);
    }
}
