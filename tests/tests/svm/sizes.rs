//! Account sizes and their rent, read from the Rent sysvar of the running SVM.

use anchor_lang::prelude::Rent;
use anchor_lang::solana_program::sysvar::SysvarId;
use rekam::{
    AccessReceipt, Attestation, Batch, Config, Consent, Contribution, EmergencyRequest,
    Guardianship, Issuer, Patient, Recovery, ShcKey, Study, StudyTally,
};
use rekam_tests::*;

/// Bytes of one Solana Attestation Service attestation carrying our payload: its 173-byte
/// account layout plus about 140 bytes of schema data (docs/program.md, Attestation).
pub const SAS_ATTESTATION_BYTES: usize = 173 + 140;

/// The Rent sysvar of the running SVM, decoded from its account (bincode: u64, f64, u8).
pub fn rent(fx: &Fixture) -> Rent {
    let data = fx.account(&Rent::id()).expect("Rent sysvar").data;
    assert_eq!(data.len(), 17);
    #[allow(deprecated)]
    Rent {
        lamports_per_byte_year: u64::from_le_bytes(data[..8].try_into().unwrap()),
        exemption_threshold: f64::from_le_bytes(data[8..16].try_into().unwrap()),
        burn_percent: data[16],
    }
}

/// Rent-exempt lamports of one SAS attestation of our payload (about 3.07 M).
pub fn sas_attestation_lamports(rent: &Rent) -> u64 {
    rent.minimum_balance(SAS_ATTESTATION_BYTES)
}

#[test]
fn account_sizes_and_rent() {
    let fx = Fixture::new();
    let rent = rent(&fx);
    let rows = [
        ("Config", Config::SIZE),
        ("Issuer", Issuer::SIZE),
        ("Patient", Patient::SIZE),
        ("Attestation", Attestation::SIZE),
        ("Consent", Consent::SIZE),
        ("AccessReceipt", AccessReceipt::SIZE),
        ("Study", Study::SIZE),
        ("Contribution", Contribution::SIZE),
        ("StudyTally", StudyTally::SIZE),
        ("Guardianship", Guardianship::SIZE),
        ("EmergencyRequest", EmergencyRequest::SIZE),
        ("Recovery", Recovery::SIZE),
        ("ShcKey", ShcKey::SIZE),
        ("Batch (1,000 facts)", Batch::space(1_000)),
        ("Batch (max facts)", Batch::MAX_SIZE),
    ];
    println!("{:<20} {:>6} {:>14}", "account", "bytes", "rent (lamports)");
    for (name, size) in rows {
        let lamports = rent.minimum_balance(size);
        assert_eq!(lamports, fx.svm.minimum_balance_for_rent_exemption(size));
        println!("{name:<20} {size:>6} {lamports:>14}");
    }
    let sas = sas_attestation_lamports(&rent);
    println!(
        "{:<20} {SAS_ATTESTATION_BYTES:>6} {sas:>14}",
        "SAS attestation"
    );
    assert_eq!(sas, 3_069_360, "the issue's figure: about 3.07 M lamports");
    // Half of the Solana Attestation Service's 173 + ~140 payload bytes.
    const { assert!(Attestation::SIZE <= 156) };
    assert_eq!(Attestation::SIZE, 152);
}
