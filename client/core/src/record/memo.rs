//! The on-chain memo format of records: where a record is stored (`rekam-record:`), the
//! tag linking the parts of one split Bundle, and patient-grant announcements. Who may
//! post a memo that counts is decided by `flows::records::locate`.

use anchor_lang::prelude::Pubkey;

pub const MEMO_PREFIX: &str = "rekam-record:";
/// Memo prefix announcing a patient grant: record keys an issuer wrapped to a patient's
/// new encryption key after a recovery (the memo lists the patient profile).
pub const PATIENT_GRANT_PREFIX: &str = "rekam-patient-grant:";
/// The SPL Memo program (v3).
pub const MEMO_PROGRAM: Pubkey =
    anchor_lang::pubkey!("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
/// The SPL Memo program v1, which (unlike v3) accepts non-signer accounts: a re-key memo
/// lists the attestation so the attestation's history shows the record's new location.
pub const MEMO_V1_PROGRAM: Pubkey =
    anchor_lang::pubkey!("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo");

/// Memo tag linking the records of one split Bundle (random-looking, per Bundle).
pub const BUNDLE_TAG_PREFIX: &str = "rekam-bundle:";

/// The memo announcing where `attestation`'s record is stored:
/// `rekam-record:<attestation>=<locator>` (several fit one transaction), followed by
/// ` rekam-bundle:<tag>` for a part of a split Bundle.
pub fn locator_memo(attestation: &Pubkey, locator: &str, bundle_tag: Option<&str>) -> String {
    match bundle_tag {
        Some(tag) => format!("{MEMO_PREFIX}{attestation}={locator} {BUNDLE_TAG_PREFIX}{tag}"),
        None => format!("{MEMO_PREFIX}{attestation}={locator}"),
    }
}

/// What a transaction's memo text says about `attestation`: its locator and bundle tag.
/// Also reads the wave-1 form `rekam-record:<locator>` (one record per transaction).
pub fn parse_locator_memo(memo: &str, attestation: &Pubkey) -> Option<(String, Option<String>)> {
    let token = |rest: &str| -> String {
        rest.split(|c: char| c.is_whitespace() || c == ';')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let mut legacy = None;
    for (i, _) in memo.match_indices(MEMO_PREFIX) {
        let rest = &memo[i + MEMO_PREFIX.len()..];
        let word = token(rest);
        match word.split_once('=') {
            Some((key, locator)) if key.parse::<Pubkey>().is_ok() => {
                if key == attestation.to_string() {
                    let after = &rest[word.len()..];
                    let tag = after
                        .trim_start()
                        .strip_prefix(BUNDLE_TAG_PREFIX)
                        .map(token);
                    return Some((locator.to_string(), tag));
                }
            }
            _ => legacy = legacy.or(Some((word, None))),
        }
    }
    legacy
}

/// The public tag of a split Bundle's records: 16 hex digits of
/// SHA-256("rekam/v2/bundle-tag" ‖ the Bundle's base salt). It links only the parts.
pub fn bundle_tag(base_salt: &[u8; 32]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest([b"rekam/v2/bundle-tag".as_slice(), base_salt].concat());
    hex::encode(&digest[..8])
}
