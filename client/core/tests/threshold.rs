//! M-of-N guardians are M-of-N for the keys too: the emergency scope opens with the key
//! rebuilt from any M guardians' shares, and with nothing less (docs/format.md,
//! "Threshold guardians"). Shamir sharing itself, then the guardians' grant around it.

use anchor_lang::prelude::Pubkey;
use rekam_client::crypto::shamir::{self, ShamirError, Share};
use rekam_client::crypto::Identity;
use rekam_client::record::{
    self, EmergencyGrant, EmergencyKey, GuardianGrants, KeyGrantObject, ReleasedShare,
    ThresholdError,
};
use zeroize::Zeroizing;

fn bundle() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/fhir/emergency-summary.json"
    ))
    .unwrap()
}

/// Every subset of `0..n` of size `k`, in lexicographic order.
fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
    (0u32..1 << n)
        .filter(|m| m.count_ones() as usize == k)
        .map(|m| (0..n).filter(|i| m & (1 << i) != 0).collect())
        .collect()
}

fn pick(shares: &[Share], which: &[usize]) -> Vec<Share> {
    which.iter().map(|&i| shares[i].clone()).collect()
}

#[test]
fn any_m_of_n_shares_rebuild_the_secret_and_m_minus_1_do_not() {
    let secret: Vec<u8> = (0u8..32).map(|b| b.wrapping_mul(37) ^ 0xa5).collect();
    for n in 1..=5 {
        for m in 1..=n {
            let shares = shamir::split(&secret, m, n).unwrap();
            assert_eq!(
                shares.iter().map(|s| s.index).collect::<Vec<_>>(),
                (1..=n as u8).collect::<Vec<_>>()
            );
            for k in m..=n {
                for which in subsets(n, k) {
                    let rebuilt = shamir::combine(&pick(&shares, &which), m).unwrap();
                    assert_eq!(
                        rebuilt.as_slice(),
                        secret.as_slice(),
                        "{m} of {n}: {which:?}"
                    );
                }
            }
            if m == 1 {
                // A 1-of-N share is the secret itself (the degree-0 polynomial).
                assert!(shares
                    .iter()
                    .all(|s| s.value.as_slice() == secret.as_slice()));
                continue;
            }
            for which in subsets(n, m - 1) {
                let fewer = pick(&shares, &which);
                assert_eq!(
                    shamir::combine(&fewer, m),
                    Err(ShamirError::NotEnoughShares {
                        have: m - 1,
                        need: m
                    })
                );
                // Told the wrong threshold, M−1 shares interpolate to something else.
                let wrong = shamir::combine(&fewer, m - 1).unwrap();
                assert_ne!(wrong.as_slice(), secret.as_slice(), "{m} of {n}: {which:?}");
            }
        }
    }
}

#[test]
fn shamir_refuses_bad_parameters_and_bad_shares() {
    let secret = [7u8; 32];
    assert_eq!(shamir::split(&[], 1, 1), Err(ShamirError::EmptySecret));
    assert_eq!(
        shamir::split(&secret, 0, 3),
        Err(ShamirError::BadThreshold {
            threshold: 0,
            count: 3
        })
    );
    assert_eq!(
        shamir::split(&secret, 4, 3),
        Err(ShamirError::BadThreshold {
            threshold: 4,
            count: 3
        })
    );
    assert_eq!(
        shamir::split(&secret, 2, 256),
        Err(ShamirError::TooManyShares(256))
    );
    let shares = shamir::split(&secret, 2, 3).unwrap();
    let zero = Share {
        index: 0,
        value: shares[0].value.clone(),
    };
    assert_eq!(
        shamir::combine(&[zero, shares[1].clone()], 2),
        Err(ShamirError::ZeroIndex)
    );
    assert_eq!(
        shamir::combine(&[shares[1].clone(), shares[1].clone()], 2),
        Err(ShamirError::DuplicateIndex(2))
    );
    let short = Share {
        index: 3,
        value: Zeroizing::new(shares[2].value[..31].to_vec()),
    };
    assert_eq!(
        shamir::combine(&[shares[0].clone(), short], 2),
        Err(ShamirError::LengthMismatch {
            index: 3,
            len: 31,
            expected: 32
        })
    );
    assert_eq!(
        ShamirError::NotEnoughShares { have: 1, need: 2 }.to_string(),
        "2 shares are needed to rebuild the secret, 1 given"
    );
    // Shares are not shown by Debug.
    assert_eq!(format!("{:?}", shares[0]), "Share(1, 32 bytes)");
}

/// A patient's emergency summary, its grant split 3-of-4 among guardians.
struct Setup {
    sealed: Vec<u8>,
    attestation: Pubkey,
    guardianship: Pubkey,
    wallets: Vec<Pubkey>,
    guardians: Vec<Identity>,
    grants: GuardianGrants,
    emergency_key: [u8; 32],
}

fn setup() -> Setup {
    let (patient, issuing_clinic) = (Identity::generate(), Identity::generate());
    let prepared = record::prepare(&bundle()).unwrap();
    let (sealed, _) = record::seal(
        &prepared.envelope,
        &[patient.public_key(), issuing_clinic.public_key()],
    )
    .unwrap();
    let attestation = Pubkey::new_unique();
    let guardianship = Pubkey::new_unique();
    let guardians: Vec<Identity> = (0..4).map(|_| Identity::generate()).collect();
    let wallets: Vec<Pubkey> = (0..4).map(|_| Pubkey::new_unique()).collect();
    let key = EmergencyKey::generate().unwrap();
    let mut grant = KeyGrantObject::new(&key.public_key());
    grant
        .add(&attestation, "local:summary", &sealed, &patient)
        .unwrap();
    let pairs: Vec<(Pubkey, [u8; 32])> = wallets
        .iter()
        .zip(&guardians)
        .map(|(w, g)| (*w, g.public_key()))
        .collect();
    let grants = GuardianGrants::seal(&guardianship, &pairs, 3, &key, grant).unwrap();
    // What is stored is what is read back.
    let grants = GuardianGrants::from_bytes(&grants.to_bytes()).unwrap();
    assert_eq!(grants.guardians().unwrap(), pairs);
    Setup {
        sealed,
        attestation,
        guardianship,
        wallets,
        guardians,
        grants,
        emergency_key: key.public_key(),
    }
}

#[test]
fn any_three_of_four_guardians_open_the_emergency_grant_and_no_two_do() {
    let s = setup();
    let clinic = Identity::generate();
    let request = Pubkey::new_unique();
    // Each guardian releases its share to the clinic, which opens them.
    let shares: Vec<Share> = (0..4)
        .map(|i| {
            let released = s
                .grants
                .release(
                    &request,
                    &s.wallets[i],
                    &s.guardians[i],
                    &clinic.public_key(),
                )
                .unwrap();
            let released = ReleasedShare::from_bytes(&released.to_bytes()).unwrap();
            released.open(&clinic).unwrap()
        })
        .collect();
    let emergency = EmergencyGrant::new(&request, &s.grants);
    let emergency = EmergencyGrant::from_bytes(&emergency.to_bytes()).unwrap();
    assert_eq!(emergency.emergency_key().unwrap(), s.emergency_key);
    for which in subsets(4, 3) {
        let e = record::rebuild(&pick(&shares, &which), 3, &s.emergency_key).unwrap();
        let (envelope, _) = emergency.grant.open(&s.attestation, &s.sealed, &e).unwrap();
        assert_eq!(envelope.content().unwrap(), bundle(), "{which:?}");
    }
    // All four at once rebuild it too.
    assert!(record::rebuild(&shares, 3, &s.emergency_key).is_ok());
    for which in subsets(4, 2) {
        let two = pick(&shares, &which);
        assert_eq!(
            record::rebuild(&two, 3, &s.emergency_key).err(),
            Some(ThresholdError::NotEnoughShares { have: 2, need: 3 })
        );
        // Claiming a threshold of two does not help: the key they make is not E.
        assert_eq!(
            record::rebuild(&two, 2, &s.emergency_key).err(),
            Some(ThresholdError::KeyMismatch(hex::encode(s.emergency_key)))
        );
    }
    assert_eq!(
        ThresholdError::NotEnoughShares { have: 2, need: 3 }.to_string(),
        "the emergency key needs 3 guardian shares; 2 released to this key"
    );
    // Two guardians' own identities open nothing either: not the record, not the grant.
    for g in &s.guardians[..2] {
        assert_eq!(
            emergency
                .grant
                .open(&s.attestation, &s.sealed, g)
                .unwrap_err()
                .to_string(),
            "this record is not encrypted to your key (no matching recipient)"
        );
        assert_eq!(
            record::open(&s.sealed, g).unwrap_err().to_string(),
            "this record is not encrypted to your key (no matching recipient)"
        );
    }
}

#[test]
fn one_guardian_alone_opens_nothing() {
    let s = setup();
    let (wallet, guardian) = (&s.wallets[0], &s.guardians[0]);
    // The guardian's own share opens, and is one point of a degree-2 polynomial.
    let own = s.grants.open_share(wallet, guardian).unwrap();
    assert_eq!(own.index, 1);
    assert_eq!(
        record::rebuild(std::slice::from_ref(&own), 3, &s.emergency_key).err(),
        Some(ThresholdError::NotEnoughShares { have: 1, need: 3 })
    );
    assert_eq!(
        record::rebuild(std::slice::from_ref(&own), 1, &s.emergency_key).err(),
        Some(ThresholdError::KeyMismatch(hex::encode(s.emergency_key)))
    );
    // The grant's stanzas are wrapped to E, not to the guardian.
    assert_eq!(
        s.grants
            .grant
            .open(&s.attestation, &s.sealed, guardian)
            .unwrap_err()
            .to_string(),
        "this record is not encrypted to your key (no matching recipient)"
    );
    // Nor can the guardian open another guardian's share.
    assert_eq!(
        s.grants.open_share(&s.wallets[1], guardian).err(),
        Some(ThresholdError::ShareUnwrap(2))
    );
}

#[test]
fn tampered_misplaced_and_duplicate_shares_are_refused_exactly() {
    let s = setup();
    let clinic = Identity::generate();
    let request = Pubkey::new_unique();
    let release = |i: usize| {
        s.grants
            .release(
                &request,
                &s.wallets[i],
                &s.guardians[i],
                &clinic.public_key(),
            )
            .unwrap()
    };

    // A tampered share in the guardians' object does not open for its guardian.
    let mut tampered = s.grants.clone();
    let mut stanza = base64_decode(&tampered.shares[1].stanza);
    stanza[60] ^= 1;
    tampered.shares[1].stanza = base64_encode(&stanza);
    assert_eq!(
        tampered
            .release(&request, &s.wallets[1], &s.guardians[1], &clinic.public_key())
            .unwrap_err()
            .to_string(),
        "guardian share 2 does not open with this key (not addressed to it, tampered, or bound to another guardianship, request, guardian, index or threshold)"
    );
    // The share is bound to its guardianship, index and threshold.
    let mut moved = s.grants.clone();
    moved.guardianship = Pubkey::new_unique().to_string();
    assert_eq!(
        moved.open_share(&s.wallets[0], &s.guardians[0]).err(),
        Some(ThresholdError::ShareUnwrap(1))
    );
    let mut lowered = s.grants.clone();
    lowered.threshold = 2;
    assert_eq!(
        lowered.open_share(&s.wallets[0], &s.guardians[0]).err(),
        Some(ThresholdError::ShareUnwrap(1))
    );
    let stranger = Pubkey::new_unique();
    assert_eq!(
        s.grants.open_share(&stranger, &s.guardians[0]).err(),
        Some(ThresholdError::NotAGuardian(stranger))
    );

    // A released share claiming another index, another request, a tampered value or
    // another threshold does not open for the clinic; nor does it open for anyone else.
    let mut wrong_index = release(0);
    wrong_index.index = 2;
    assert_eq!(
        wrong_index.open(&clinic).err(),
        Some(ThresholdError::ShareUnwrap(2))
    );
    let mut other_request = release(0);
    other_request.request = Pubkey::new_unique().to_string();
    assert_eq!(
        other_request.open(&clinic).err(),
        Some(ThresholdError::ShareUnwrap(1))
    );
    let mut flipped = release(2);
    let mut stanza = base64_decode(&flipped.stanza);
    stanza[45] ^= 0x80;
    flipped.stanza = base64_encode(&stanza);
    assert_eq!(
        flipped.open(&clinic).err(),
        Some(ThresholdError::ShareUnwrap(3))
    );
    let mut threshold_one = release(2);
    threshold_one.threshold = 1;
    assert_eq!(
        threshold_one.open(&clinic).err(),
        Some(ThresholdError::ShareUnwrap(3))
    );
    assert_eq!(
        release(0).open(&s.guardians[0]).err(),
        Some(ThresholdError::ShareUnwrap(1))
    );

    // Opened shares: a duplicate index is refused, a relabelled one rebuilds another key.
    let shares: Vec<Share> = (0..3).map(|i| release(i).open(&clinic).unwrap()).collect();
    assert_eq!(
        record::rebuild(
            &[shares[0].clone(), shares[0].clone(), shares[1].clone()],
            3,
            &s.emergency_key
        )
        .err(),
        Some(ThresholdError::Shamir(ShamirError::DuplicateIndex(1)))
    );
    let mut relabelled = shares.clone();
    relabelled[2].index = 4;
    assert_eq!(
        record::rebuild(&relabelled, 3, &s.emergency_key).err(),
        Some(ThresholdError::KeyMismatch(hex::encode(s.emergency_key)))
    );
    // With a fourth, genuine share, the one bad share is outvoted.
    relabelled.push(release(3).open(&clinic).unwrap());
    let e = record::rebuild(&relabelled, 3, &s.emergency_key).unwrap();
    assert_eq!(e.public_key(), s.emergency_key);

    // Unknown formats are refused.
    let mut old = s.grants.clone();
    old.format = "rekam-guardian-grants/1".into();
    assert_eq!(
        GuardianGrants::from_bytes(&old.to_bytes())
            .unwrap_err()
            .to_string(),
        "key grant is malformed: unknown format \"rekam-guardian-grants/1\""
    );
    let mut odd = release(0);
    odd.format = "rekam-guardian-share/0".into();
    assert_eq!(
        ReleasedShare::from_bytes(&odd.to_bytes()).err(),
        Some(ThresholdError::Malformed(
            "unknown format \"rekam-guardian-share/0\"".into()
        ))
    );
    let _ = s.guardianship;
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
