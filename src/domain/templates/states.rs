//! A template's status and category as Meta names them, read at the database boundary so that a
//! word Meta adds later reads as `Unknown` instead of failing a query.

/// Meta's verdict on a template (`message_templates.status`, as Meta spells it). The column keeps
/// Meta's text as it came; it is read through [`TemplateStatus::from_meta`], so a status Meta adds
/// later reads as [`TemplateStatus::Unknown`] (never sendable) instead of failing the query.
/// <https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates/template-status>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateStatus {
    Approved,
    Pending,
    Rejected,
    Paused,
    Disabled,
    Flagged,
    InAppeal,
    PendingDeletion,
    Deleted,
    Reinstated,
    LimitExceeded,
    Archived,
    Locked,
    /// Anything else: a status we do not know (or none was given).
    Unknown,
}

impl TemplateStatus {
    const ALL: [Self; 14] = [
        Self::Approved,
        Self::Pending,
        Self::Rejected,
        Self::Paused,
        Self::Disabled,
        Self::Flagged,
        Self::InAppeal,
        Self::PendingDeletion,
        Self::Deleted,
        Self::Reinstated,
        Self::LimitExceeded,
        Self::Archived,
        Self::Locked,
        Self::Unknown,
    ];

    /// Meta's name for it, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "APPROVED",
            Self::Pending => "PENDING",
            Self::Rejected => "REJECTED",
            Self::Paused => "PAUSED",
            Self::Disabled => "DISABLED",
            Self::Flagged => "FLAGGED",
            Self::InAppeal => "IN_APPEAL",
            Self::PendingDeletion => "PENDING_DELETION",
            Self::Deleted => "DELETED",
            Self::Reinstated => "REINSTATED",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::Archived => "ARCHIVED",
            Self::Locked => "LOCKED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Reads Meta's text; one we do not know is [`Self::Unknown`].
    pub fn from_meta(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .unwrap_or(Self::Unknown)
    }
}

/// What a template is for, which decides its price and whether opted-out customers may get it
/// (`message_templates.category`). Read like [`TemplateStatus`]: Meta's text is kept as it came
/// (any case), and a category we do not know reads as [`TemplateCategory::Unknown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TemplateCategory {
    Marketing,
    Utility,
    Authentication,
    /// Anything else, e.g. a category Meta retired.
    Unknown,
}

impl TemplateCategory {
    /// Meta's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "MARKETING",
            Self::Utility => "UTILITY",
            Self::Authentication => "AUTHENTICATION",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Reads Meta's text, in any case; one we do not know is [`Self::Unknown`].
    pub fn from_meta(text: &str) -> Self {
        [Self::Marketing, Self::Utility, Self::Authentication]
            .into_iter()
            .find(|category| category.as_str().eq_ignore_ascii_case(text))
            .unwrap_or(Self::Unknown)
    }
}

/// Both map to a `text` column holding Meta's words, read at this boundary.
macro_rules! meta_text {
    ($($name:ident),*) => {$(
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl sqlx::Type<sqlx::Postgres> for $name {
            fn type_info() -> sqlx::postgres::PgTypeInfo {
                <&str as sqlx::Type<sqlx::Postgres>>::type_info()
            }

            fn compatible(ty: &sqlx::postgres::PgTypeInfo) -> bool {
                <&str as sqlx::Type<sqlx::Postgres>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Postgres> for $name {
            fn decode(
                value: sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                <&str as sqlx::Decode<sqlx::Postgres>>::decode(value).map(Self::from_meta)
            }
        }

        impl sqlx::Encode<'_, sqlx::Postgres> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut sqlx::postgres::PgArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Postgres>>::encode(self.as_str(), buf)
            }
        }
    )*};
}

meta_text!(TemplateStatus, TemplateCategory);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metas_words_read_back_and_unknown_ones_are_unknown() {
        for status in TemplateStatus::ALL {
            assert_eq!(TemplateStatus::from_meta(status.as_str()), status);
        }
        assert_eq!(
            TemplateStatus::from_meta("SOMETHING_NEW"),
            TemplateStatus::Unknown
        );
        assert_eq!(
            TemplateCategory::from_meta("marketing"),
            TemplateCategory::Marketing
        );
        assert_eq!(
            TemplateCategory::from_meta("OTP"),
            TemplateCategory::Unknown
        );
    }
}
