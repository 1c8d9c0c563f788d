//! The one parser for who a customer is, as a person or a program types it: a phone number in any
//! usual format (`+1 555-000 1111`) becomes Meta's `wa_id` (the digits, country code first), and a
//! business-scoped user id (`US.13491208655302741918`) is kept exactly as given, since Meta wants
//! it back unchanged. Every surface that takes a customer (the CLI, the inbox, the API) parses it
//! here, so they accept and refuse the same things with the same words.
//! <https://developers.facebook.com/docs/whatsapp/business-scoped-user-ids>

use std::{fmt, str::FromStr};

/// The fewest digits a phone number with its country code has (e.g. Niue's `+683 4002`).
const MIN_PHONE_DIGITS: usize = 7;
/// The most digits E.164 allows in a phone number, country code included.
const MAX_PHONE_DIGITS: usize = 15;
/// The most characters accepted after a user id's country code; Meta's have about 20.
const MAX_USER_ID_CHARS: usize = 64;
/// What comes between the country code and the rest in a parent business-scoped user id, shared
/// by the business portfolios of one enterprise (`US.ENT.11815799212886844830`).
const PARENT_MARK: &str = "ENT.";

/// A customer, as Meta addresses them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CustomerId {
    /// A phone-based WhatsApp id: digits only, country code first (`15550001111`).
    WaId(String),
    /// A business-scoped user id, for customers who may hide their phone number behind a
    /// username: a country code, a period, then letters and digits (`US.13491208655302741918`).
    UserId(String),
}

/// Why a text names no customer; `Display` says what was expected, for people and programs alike.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerIdError {
    /// Nothing but whitespace.
    #[error(
        "give the customer's phone number with its country code (+1 555 000 1111) or their \
         business-scoped user id (US.13491208655302741918)"
    )]
    Empty,
    /// Digits and punctuation only, but not a phone number with its country code.
    #[error("{input:?} is not a phone number: {reason}")]
    NotAPhoneNumber { input: String, reason: String },
    /// Letters, but not in the shape of a business-scoped user id.
    #[error(
        "{input:?} is neither a phone number nor a business-scoped user id (a two-letter country \
         code in capitals, a period, then letters and digits: US.13491208655302741918)"
    )]
    NotAUserId { input: String },
}

impl CustomerId {
    /// Parses a phone number (digits with the usual `+`, spaces, `-`, `.` and parentheses) or a
    /// business-scoped user id; anything with a letter in it is taken for a user id.
    pub fn parse(input: &str) -> Result<Self, CustomerIdError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(CustomerIdError::Empty);
        }
        if input.bytes().any(|b| b.is_ascii_alphabetic()) {
            parse_user_id(input)
        } else {
            parse_phone(input)
        }
    }

    /// The `wa_id`, for a phone-based id.
    pub fn wa_id(&self) -> Option<&str> {
        match self {
            Self::WaId(wa_id) => Some(wa_id),
            Self::UserId(_) => None,
        }
    }

    /// The business-scoped user id, for one.
    pub fn user_id(&self) -> Option<&str> {
        match self {
            Self::UserId(user_id) => Some(user_id),
            Self::WaId(_) => None,
        }
    }

    /// The id as Meta writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::WaId(id) | Self::UserId(id) => id,
        }
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CustomerId {
    type Err = CustomerIdError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

fn parse_phone(input: &str) -> Result<CustomerId, CustomerIdError> {
    let refuse = |reason: String| CustomerIdError::NotAPhoneNumber {
        input: input.to_owned(),
        reason,
    };
    let rest = input.strip_prefix('+').unwrap_or(input);
    if let Some(c) = rest
        .chars()
        .find(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')')))
    {
        let reason = if c == '+' {
            "a + may only come first, before the country code".to_owned()
        } else {
            format!("{c:?} has no place in one (digits, spaces, -, . and parentheses only)")
        };
        return Err(refuse(reason));
    }
    let wa_id: String = rest.chars().filter(char::is_ascii_digit).collect();
    if wa_id.starts_with('0') {
        // A trunk prefix (0 …) or an international one (00 …): WhatsApp ids start with the
        // country code, and no country code starts with 0.
        return Err(refuse(
            "it starts with 0; write it with its country code, e.g. +44 20 7946 0958".to_owned(),
        ));
    }
    if !(MIN_PHONE_DIGITS..=MAX_PHONE_DIGITS).contains(&wa_id.len()) {
        return Err(refuse(format!(
            "it has {} digits, and one with its country code has {MIN_PHONE_DIGITS} to \
             {MAX_PHONE_DIGITS}",
            wa_id.len()
        )));
    }
    Ok(CustomerId::WaId(wa_id))
}

/// `CC.rest` or `CC.ENT.rest`: an ISO 3166 alpha-2 country code, then letters and digits. The
/// case is kept: Meta matches the id exactly.
fn parse_user_id(input: &str) -> Result<CustomerId, CustomerIdError> {
    let refuse = || CustomerIdError::NotAUserId {
        input: input.to_owned(),
    };
    let (country, rest) = input.split_once('.').ok_or_else(refuse)?;
    let rest = rest.strip_prefix(PARENT_MARK).unwrap_or(rest);
    let country_ok = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
    let rest_ok = (1..=MAX_USER_ID_CHARS).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    if country_ok && rest_ok {
        Ok(CustomerId::UserId(input.to_owned()))
    } else {
        Err(refuse())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wa_id(input: &str) -> String {
        match CustomerId::parse(input) {
            Ok(CustomerId::WaId(wa_id)) => wa_id,
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    fn reason(input: &str) -> String {
        match CustomerId::parse(input) {
            Err(CustomerIdError::NotAPhoneNumber { reason, .. }) => reason,
            other => panic!("{input:?} gave {other:?}"),
        }
    }

    #[test]
    fn a_phone_number_in_any_usual_format_becomes_its_digits() {
        for input in [
            "+1 555-000 1111",
            "15550001111",
            "+15550001111",
            "1 (555) 000-1111",
            "1.555.000.1111",
            "  +1 555 000 1111\n",
        ] {
            assert_eq!(wa_id(input), "15550001111", "{input:?}");
        }
        assert_eq!(wa_id("+683 4002"), "6834002");
        assert_eq!(wa_id("+972 12 345 6789"), "972123456789");
    }

    #[test]
    fn a_phone_number_needs_its_country_code_and_no_more_than_fifteen_digits() {
        assert!(reason("555 111").contains("6 digits"));
        assert!(reason("+1 555 000 1111 22222").contains("16 digits"));
        assert!(reason("0044 20 7946 0958").contains("country code"));
        assert!(reason("020 7946 0958").contains("starts with 0"));
        assert!(reason("+-()").contains("0 digits"));
    }

    #[test]
    fn a_phone_number_refuses_stray_characters_and_says_which() {
        assert!(reason("1+5550001111").contains("a + may only come first"));
        assert!(reason("+1 555 000 1111;").contains("';'"));
        assert!(reason("+1 555 000/1111").contains("'/'"));
    }

    #[test]
    fn business_scoped_user_ids_are_kept_exactly() {
        for input in [
            "US.13491208655302741918",
            "BR.99887766554433221100",
            "US.ENT.11815799212886844830",
            "DE.abc123XYZ",
        ] {
            assert_eq!(
                CustomerId::parse(input),
                Ok(CustomerId::UserId(input.to_owned()))
            );
        }
        assert_eq!(
            CustomerId::parse(" US.13491208655302741918 ").map(|id| id.to_string()),
            Ok("US.13491208655302741918".to_owned())
        );
    }

    #[test]
    fn text_with_letters_that_is_no_user_id_is_refused_as_one() {
        let too_long = format!("US.{}", "1".repeat(MAX_USER_ID_CHARS + 1));
        for input in [
            "us.13491208655302741918",
            "USA.13491208655302741918",
            "US13491208655302741918",
            "US.",
            "US.ENT.",
            "US.1349-1208",
            "US.1349.1208",
            "user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6",
            "+1 555 CALL NOW",
            too_long.as_str(),
        ] {
            assert_eq!(
                CustomerId::parse(input),
                Err(CustomerIdError::NotAUserId {
                    input: input.trim().to_owned()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn nothing_at_all_asks_for_a_phone_number_or_a_user_id() {
        for input in ["", "   "] {
            let error = CustomerId::parse(input).unwrap_err();
            assert_eq!(error, CustomerIdError::Empty);
            assert!(error.to_string().contains("US.13491208655302741918"));
        }
    }

    #[test]
    fn errors_quote_what_was_given() {
        let error = CustomerId::parse("12").unwrap_err().to_string();
        assert!(error.starts_with("\"12\" is not a phone number"), "{error}");
        let error = CustomerId::parse("nobody").unwrap_err().to_string();
        assert!(
            error.starts_with("\"nobody\" is neither a phone number nor a business-scoped"),
            "{error}"
        );
    }

    #[test]
    fn the_accessors_tell_the_two_kinds_apart() {
        let phone = CustomerId::parse("+1 555 000 1111").unwrap();
        assert_eq!(
            (phone.wa_id(), phone.user_id()),
            (Some("15550001111"), None)
        );
        let user: CustomerId = "US.13491208655302741918".parse().unwrap();
        assert_eq!(
            (user.wa_id(), user.user_id()),
            (None, Some("US.13491208655302741918"))
        );
    }
}
