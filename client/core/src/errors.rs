//! Turns on-chain failures into messages a person can act on.

use rekam::RekamError;

/// Describes a `Custom(code)` program error: ours (6000+) by name and message, Anchor's
/// framework ranges by kind.
pub fn describe_custom(code: u32) -> String {
    if let Some(err) = RekamError::from_code(code) {
        return format!("{err:?} ({code}): {err}");
    }
    let kind = match code {
        100..=999 => "Anchor instruction error",
        1000..=1999 => "Anchor IDL error",
        2000..=2999 => {
            "Anchor constraint violation (an account does not match what the instruction requires)"
        }
        3000..=3999 => "Anchor account error (wrong owner, type, or an account is missing)",
        4100..=4999 => "Anchor program-id error",
        _ => "custom program error",
    };
    format!("{kind} ({code})")
}
