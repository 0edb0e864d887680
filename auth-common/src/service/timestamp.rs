//! Timestamps in JSON: RFC 3339, UTC, always with microseconds
//! (`2026-11-23T15:39:00.123456Z`).
//!
//! Microseconds because that is what PostgreSQL stores: the same row reads the same on
//! both backends (chrono's own format shows as many digits as the value has, so SQLite's
//! nanoseconds came out longer than PostgreSQL's). And through `humantime`'s formatter,
//! which writes the whole string at once: chrono's `Display` goes field by field through
//! `core::fmt`, and a page of posts has 40 timestamps (see `docs/benchmarks.md`).
//!
//! Use with `#[serde(serialize_with = "auth_common::service::timestamp::serialize")]` on a
//! `DateTime<Utc>` field; the OpenAPI schema stays `string`, `date-time`.

use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// Serializes `at` as RFC 3339 with microseconds, in UTC.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    // humantime covers 1970 to 9999; chrono formats anything else a database might hold.
    if (1970..=9999).contains(&chrono::Datelike::year(at)) {
        serializer.collect_str(&humantime::format_rfc3339_micros(SystemTime::from(*at)))
    } else {
        serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use serde::Serialize;

    use super::*;

    #[derive(Serialize)]
    struct At(#[serde(serialize_with = "serialize")] DateTime<Utc>);

    fn json(at: DateTime<Utc>) -> String {
        serde_json::to_string(&At(at)).unwrap()
    }

    fn at(y: i32, nanos: u32) -> DateTime<Utc> {
        let date = NaiveDate::from_ymd_opt(y, 2, 28).unwrap().and_hms_nano_opt(23, 59, 59, nanos).unwrap();
        Utc.from_utc_datetime(&date)
    }

    #[test]
    fn always_six_fractional_digits_in_utc() {
        assert_eq!(json(at(2026, 0)), r#""2026-02-28T23:59:59.000000Z""#);
        assert_eq!(json(at(2026, 123_456_789)), r#""2026-02-28T23:59:59.123456Z""#, "truncated, like PostgreSQL");
        assert_eq!(json(DateTime::UNIX_EPOCH), r#""1970-01-01T00:00:00.000000Z""#);
    }

    #[test]
    fn the_same_as_chrono_wherever_both_apply() {
        for (y, nanos) in [(1970, 1_000), (2000, 999_999_000), (2024, 500_000), (9999, 42_000)] {
            let at = at(y, nanos);
            assert_eq!(json(at), format!("\"{}\"", at.to_rfc3339_opts(SecondsFormat::Micros, true)));
        }
    }

    #[test]
    fn years_outside_1970_to_9999_do_not_fail() {
        assert_eq!(json(at(1969, 0)), r#""1969-02-28T23:59:59.000000Z""#);
        assert_eq!(json(at(12_000, 0)), r#""+12000-02-28T23:59:59.000000Z""#);
    }
}
