//! Primitive datatypes of FHIR R4 for `validate.rs`: their JSON representation and
//! hand-written checks of the R4 regexes (date, dateTime, instant, time, id, code, uri,
//! oid, uuid, base64Binary, integer kinds). No regex engine, no allocation unless a
//! value is wrong.

use serde_json::Value;

use super::Severity;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Prim {
    Base64Binary,
    Boolean,
    Canonical,
    Code,
    Date,
    DateTime,
    Decimal,
    Id,
    Instant,
    Integer,
    Markdown,
    Oid,
    PositiveInt,
    String,
    Time,
    UnsignedInt,
    Uri,
    Url,
    Uuid,
    Xhtml,
}

const NAMES: [(&str, Prim); 20] = [
    ("base64Binary", Prim::Base64Binary),
    ("boolean", Prim::Boolean),
    ("canonical", Prim::Canonical),
    ("code", Prim::Code),
    ("date", Prim::Date),
    ("dateTime", Prim::DateTime),
    ("decimal", Prim::Decimal),
    ("id", Prim::Id),
    ("instant", Prim::Instant),
    ("integer", Prim::Integer),
    ("markdown", Prim::Markdown),
    ("oid", Prim::Oid),
    ("positiveInt", Prim::PositiveInt),
    ("string", Prim::String),
    ("time", Prim::Time),
    ("unsignedInt", Prim::UnsignedInt),
    ("uri", Prim::Uri),
    ("url", Prim::Url),
    ("uuid", Prim::Uuid),
    ("xhtml", Prim::Xhtml),
];

impl Prim {
    pub(super) fn from_name(name: &str) -> Option<Prim> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }
    fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("?", |(n, _)| n)
    }
    fn json(self) -> &'static str {
        match self {
            Prim::Boolean => "boolean",
            Prim::Decimal | Prim::Integer | Prim::PositiveInt | Prim::UnsignedInt => "number",
            _ => "string",
        }
    }
}

/// What is wrong with `v` as a `p`, if anything.
pub(super) fn check(p: Prim, v: &Value) -> Option<(Severity, String)> {
    let wrong = || {
        let found = super::describe(v);
        Some((
            Severity::Error,
            format!("expected a {} (JSON {}), found {found}", p.name(), p.json()),
        ))
    };
    match (p.json(), v) {
        ("boolean", Value::Bool(_)) => None,
        ("number", Value::Number(n)) => number(p, n),
        ("string", Value::String(s)) => string(p, s),
        _ => wrong(),
    }
}

fn number(p: Prim, n: &serde_json::Number) -> Option<(Severity, String)> {
    let (lo, what) = match p {
        Prim::Integer => (i64::from(i32::MIN), "an integer"),
        Prim::PositiveInt => (1, "a positiveInt (1 or more)"),
        Prim::UnsignedInt => (0, "an unsignedInt (0 or more)"),
        _ => return None, // decimal: any JSON number
    };
    match n.as_i64() {
        Some(i) if (lo..=i64::from(i32::MAX)).contains(&i) => None,
        _ => Some((
            Severity::Error,
            format!("expected {what} within 32 bits, found {n}"),
        )),
    }
}

fn string(p: Prim, s: &str) -> Option<(Severity, String)> {
    let (ok, expected) = match p {
        _ if s.is_empty() => {
            let dated = matches!(p, Prim::Date | Prim::DateTime | Prim::Instant | Prim::Time);
            let sev = if dated {
                Severity::Error
            } else {
                Severity::Warning
            };
            return Some((
                sev,
                format!(
                    "empty string is not a valid {} (FHIR forbids empty strings)",
                    p.name()
                ),
            ));
        }
        Prim::Date => (
            is_date(s.as_bytes()),
            "YYYY, YYYY-MM or YYYY-MM-DD, a valid date",
        ),
        Prim::DateTime => (
            is_date_time(s.as_bytes()),
            "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff] with Z or +hh:mm",
        ),
        Prim::Instant => (
            is_instant(s.as_bytes()),
            "YYYY-MM-DDThh:mm:ss[.fff] with Z or +hh:mm",
        ),
        Prim::Time => (is_time(s.as_bytes()), "hh:mm:ss[.fff]"),
        Prim::Id => (is_id(s), "1 to 64 of A-Z a-z 0-9 - ."),
        Prim::Code => (is_code(s), "no leading, trailing or repeated whitespace"),
        Prim::Uri | Prim::Url | Prim::Canonical => {
            (!s.bytes().any(|b| b.is_ascii_whitespace()), "no whitespace")
        }
        Prim::Oid => (is_oid(s), "urn:oid:1.2.3..."),
        Prim::Uuid => (is_uuid(s), "urn:uuid: and a lower-case UUID"),
        Prim::Base64Binary => (is_base64(s), "base64"),
        Prim::Xhtml => (s.trim_start().starts_with("<div"), "an XHTML <div> element"),
        _ => (true, ""),
    };
    if ok {
        return None;
    }
    let value = super::quote(s);
    Some((
        Severity::Error,
        format!("invalid {} {value} (expected {expected})", p.name()),
    ))
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; year 0001-9999, and a real calendar date.
fn is_date(b: &[u8]) -> bool {
    let year = match b.get(..4).and_then(digits) {
        Some(y) if y > 0 && (b.len() == 4 || b[4] == b'-') => y,
        _ => return false,
    };
    if b.len() == 4 {
        return true;
    }
    let month = match b.get(5..7).and_then(digits) {
        Some(m) if (1..=12).contains(&m) && (b.len() == 7 || b[7] == b'-') => m,
        _ => return false,
    };
    if b.len() == 7 {
        return true;
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    b.len() == 10
        && b.get(8..10)
            .and_then(digits)
            .is_some_and(|d| (1..=days).contains(&d))
}

/// `hh:mm:ss` with optional fraction; returns the length consumed.
fn time_len(b: &[u8]) -> Option<usize> {
    let ok = b.len() >= 8 && b[2] == b':' && b[5] == b':';
    let (h, m, s) = (
        digits(b.get(..2)?)?,
        digits(b.get(3..5)?)?,
        digits(b.get(6..8)?)?,
    );
    if !ok || h > 23 || m > 59 || s > 60 {
        return None;
    }
    if b.get(8) != Some(&b'.') {
        return Some(8);
    }
    let frac = b[9..].iter().take_while(|c| c.is_ascii_digit()).count();
    (frac > 0).then_some(9 + frac)
}

/// `Z` or `+hh:mm` / `-hh:mm` (to 14:00), exactly.
fn is_zone(b: &[u8]) -> bool {
    if b == b"Z" {
        return true;
    }
    if b.len() != 6 || !(b[0] == b'+' || b[0] == b'-') || b[3] != b':' {
        return false;
    }
    match (digits(&b[1..3]), digits(&b[4..6])) {
        (Some(h), Some(m)) => (h < 14 && m < 60) || (h == 14 && m == 0),
        _ => false,
    }
}

fn is_instant(b: &[u8]) -> bool {
    b.len() > 11
        && b[10] == b'T'
        && is_date(&b[..10])
        && time_len(&b[11..]).is_some_and(|n| is_zone(&b[11 + n..]))
}

fn is_date_time(b: &[u8]) -> bool {
    if b.len() <= 10 {
        return is_date(b);
    }
    is_instant(b)
}

fn is_time(b: &[u8]) -> bool {
    time_len(b) == Some(b.len())
}

pub(super) fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// R4 `[^\s]+(\s[^\s]+)*`: whitespace only single, between other characters.
fn is_code(s: &str) -> bool {
    let mut prev_ws = true; // no leading whitespace
    for c in s.chars() {
        let ws = c.is_whitespace();
        if ws && prev_ws {
            return false;
        }
        prev_ws = ws;
    }
    !prev_ws
}

fn is_oid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:oid:") else {
        return false;
    };
    let mut parts = rest.split('.');
    let first_ok = matches!(parts.next(), Some("0" | "1" | "2"));
    let mut n = 0;
    let rest_ok = parts.all(|p| {
        n += 1;
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    });
    first_ok && rest_ok && n > 0
}

fn is_uuid(s: &str) -> bool {
    let Some(u) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    u.len() == 36
        && u.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

fn is_base64(s: &str) -> bool {
    let mut n = 0usize;
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=' {
            n += 1;
        } else if !b.is_ascii_whitespace() {
            return false;
        }
    }
    n.is_multiple_of(4)
}
