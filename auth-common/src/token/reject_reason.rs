//! Why a presented token was refused: the reasons the verifier returns, their metric
//! labels and the sentence a client is told.

/// Why a presented token was refused. The labels are the fixed set the
/// `tokens_rejected_total{reason}` metric uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// `exp` is past (beyond the leeway).
    Expired,
    /// `nbf` or `iat` is in the future (beyond the leeway).
    NotYetValid,
    /// The signature does not verify, or the algorithm is not RS256.
    BadSignature,
    /// `kid` names no key of the key set.
    UnknownKid,
    /// `iss` is not our issuer.
    WrongIssuer,
    /// `aud` does not hold this service.
    WrongAudience,
    /// The `typ` header is not `at+jwt`: some other kind of token.
    WrongType,
    /// Not a well-formed JWS with the claims we require, or a header we refuse.
    Malformed,
    /// `exp` lies further from `iat`, or from now, than the longest lifetime accepted.
    /// Counted as `malformed`: no token we issue looks like this.
    LifetimeTooLong,
}

impl RejectReason {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::BadSignature => "bad_signature",
            Self::UnknownKid => "unknown_kid",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::WrongType => "wrong_type",
            Self::Malformed | Self::LifetimeTooLong => "malformed",
        }
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
