//! Reading `TIMESTAMP` columns without re-reading a format string for every value.
//!
//! SQLite has no timestamp type: diesel stores `NaiveDateTime` as text and, on the way
//! back, tries up to 18 `strftime` formats through `NaiveDateTime::parse_from_str`, which
//! parses the format string again each time. A page of posts reads 42 timestamps, and the
//! profile put that at a third of the page query. [`Timestamp`] parses diesel's own format
//! with the format compiled once, and falls back to diesel for anything else. PostgreSQL
//! sends binary timestamps and is left to diesel.
//!
//! Use it on a row field: `#[diesel(deserialize_as = auth_common::service::db::Timestamp)]`.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use chrono::format::{Item, Parsed, StrftimeItems};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types;
use diesel::sqlite::{Sqlite, SqliteValue};

use super::multi_connection_impl::{MultiBackend, MultiRawValue};

/// How diesel writes a `NaiveDateTime` into SQLite.
static DIESEL_SQLITE_FORMAT: LazyLock<Vec<Item<'static>>> =
    LazyLock::new(|| StrftimeItems::new("%F %T%.f").parse().unwrap_or_default());

/// A `TIMESTAMP` column, read into a `NaiveDateTime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct Timestamp(pub NaiveDateTime);

impl From<Timestamp> for NaiveDateTime {
    fn from(value: Timestamp) -> Self {
        value.0
    }
}

fn parse_diesel_format(text: &str) -> Option<NaiveDateTime> {
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, DIESEL_SQLITE_FORMAT.iter()).ok()?;
    parsed.to_naive_datetime_with_offset(0).ok()
}

impl FromSql<sql_types::Timestamp, Sqlite> for Timestamp {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(at) = parse_diesel_format(value.read_text()) {
            return Ok(Self(at));
        }
        // Another of the forms SQLite accepts (a Julian day, `T` as separator…).
        <NaiveDateTime as FromSql<sql_types::Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<sql_types::Timestamp, Pg> for Timestamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<sql_types::Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl FromSql<sql_types::Timestamp, MultiBackend> for Timestamp {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        value.from_sql::<Self, sql_types::Timestamp>()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn reads_what_diesel_writes_with_and_without_fractions() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for (text, nanos) in [
            ("2026-11-23 15:39:00", 0),
            ("2026-11-23 15:39:00.5", 500_000_000),
            ("2026-11-23 15:39:00.123456", 123_456_000),
            ("2026-11-23 15:39:00.123456789", 123_456_789),
        ] {
            assert_eq!(parse_diesel_format(text), day.and_hms_nano_opt(15, 39, 0, nanos), "{text}");
        }
    }

    #[test]
    fn other_forms_are_left_to_diesel() {
        for text in ["2026-11-23T15:39:00", "2026-11-23 15:39", "2459000.5", "garbage", ""] {
            assert_eq!(parse_diesel_format(text), None, "{text}");
        }
    }
}
