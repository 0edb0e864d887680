//! Why a presented token was refused: the reasons the verifier returns, their metric
//! labels and the sentence a client is told.

/// The `tokens_rejected_total{reason}` label of a request that sent no bearer token at all.
pub const MISSING_TOKEN_LABEL: &str = "missing";

/// Declares [`RejectReason`] from one table, each variant beside its metric label, so the
/// list of every reason ([`RejectReason::ALL`], which the metrics pre-register) cannot
/// drift from the variants or their labels.
macro_rules! reject_reasons {
    ($($(#[doc = $doc:literal])* $variant:ident => $label:literal,)*) => {
        /// Why a presented token was refused. The labels are the fixed set the
        /// `tokens_rejected_total{reason}` metric uses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RejectReason {
            $($(#[doc = $doc])* $variant,)*
        }

        impl RejectReason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The metric label.
            pub fn label(self) -> &'static str {
                match self {
                    $(Self::$variant => $label,)*
                }
            }
        }
    };
}

reject_reasons! {
    /// `exp` is past (beyond the leeway).
    Expired => "expired",
    /// `nbf` or `iat` is in the future (beyond the leeway).
    NotYetValid => "not_yet_valid",
    /// The signature does not verify, or the algorithm is not RS256.
    BadSignature => "bad_signature",
    /// `kid` names no key of the key set.
    UnknownKid => "unknown_kid",
    /// `iss` is not our issuer.
    WrongIssuer => "wrong_issuer",
    /// `aud` does not hold this service.
    WrongAudience => "wrong_audience",
    /// The `typ` header is not `at+jwt`: some other kind of token.
    WrongType => "wrong_type",
    /// Not a well-formed JWS with the claims we require, or a header we refuse.
    Malformed => "malformed",
    /// `exp` lies further from `iat`, or from now, than the longest lifetime accepted.
    /// Counted as `malformed`: no token we issue looks like this.
    LifetimeTooLong => "malformed",
}

impl RejectReason {
    /// Every label `tokens_rejected_total{reason}` can carry: each reason's, once, then
    /// [`MISSING_TOKEN_LABEL`].
    pub fn labels() -> Vec<&'static str> {
        let mut labels: Vec<_> = Self::ALL.iter().map(|r| r.label()).collect();
        // Reasons that share a label are declared side by side (`malformed`).
        labels.dedup();
        labels.push(MISSING_TOKEN_LABEL);
        labels
    }

    /// What the client is told. Says what to do without echoing the token or library text.
    pub fn description(self) -> &'static str {
        match self {
            Self::Expired => "the access token has expired; refresh it or log in again",
            Self::NotYetValid => "the access token is not valid yet; check the clocks",
            Self::BadSignature => "the access token signature does not verify",
            Self::UnknownKid => "the access token was signed with a key this service does not know",
            Self::WrongIssuer => "the access token was issued by an issuer this service does not trust",
            Self::WrongAudience => "the access token is not meant for this service",
            Self::WrongType => "the token is not an access token (typ must be at+jwt)",
            Self::Malformed => "the access token is malformed or lacks a required claim",
            Self::LifetimeTooLong => "the access token lives longer than this service accepts",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_is_listed_once_with_missing_last() {
        let labels = RejectReason::labels();
        assert_eq!(
            labels,
            [
                "expired",
                "not_yet_valid",
                "bad_signature",
                "unknown_kid",
                "wrong_issuer",
                "wrong_audience",
                "wrong_type",
                "malformed",
                "missing"
            ]
        );
    }

    #[test]
    fn every_reason_tells_the_client_something() {
        for reason in RejectReason::ALL {
            assert!(!reason.description().is_empty(), "{reason:?}");
        }
    }
}
