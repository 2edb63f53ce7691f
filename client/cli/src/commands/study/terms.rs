//! The study terms file: what a researcher proposes, an ethics board approves and the
//! researcher opens, with the terms hash that binds them.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anyhow::{bail, Context};
use rekam::{StudyCriteria, StudyTerms};
use serde::{Deserialize, Serialize};

use crate::commands::issuer::parse_key;

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct TermsFile {
    pub program_id: String,
    pub researcher: String,
    pub id: u64,
    pub mint: String,
    pub study: String,
    pub price: u64,
    pub max_contributions: u32,
    pub max_per_patient: u16,
    pub max_per_issuer: u32,
    pub kinds: u8,
    pub issuer_roles: u8,
    pub issued_from_day: u16,
    pub issued_until_day: u16,
    pub deadline: i64,
    pub data_use_until: i64,
    pub encryption_key: String,
    pub protocol_hash: String,
    pub terms_hash: String,
}

impl TermsFile {
    pub fn terms(&self) -> anyhow::Result<StudyTerms> {
        Ok(StudyTerms {
            price: self.price,
            max_contributions: self.max_contributions,
            max_per_patient: self.max_per_patient,
            max_per_issuer: self.max_per_issuer,
            criteria: StudyCriteria {
                kinds: self.kinds,
                issuer_roles: self.issuer_roles,
                issued_from_day: self.issued_from_day,
                issued_until_day: self.issued_until_day,
            },
            deadline: self.deadline,
            data_use_until: self.data_use_until,
            encryption_key: parse_key(&self.encryption_key)?,
            protocol_hash: parse_key(&self.protocol_hash).context("protocol hash")?,
        })
    }

    /// Parses the file and checks its recorded hash against the terms it states.
    pub fn load(path: &Path, program_id: &Pubkey) -> anyhow::Result<(Self, StudyTerms, [u8; 32])> {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read terms file {}", path.display()))?;
        let file: TermsFile = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a Rekam study terms file", path.display()))?;
        if file.program_id != program_id.to_string() {
            bail!(
                "the terms are for deployment {}, not {program_id}",
                file.program_id
            );
        }
        let terms = file.terms()?;
        let hash = terms.hash(
            program_id,
            &file.researcher.parse()?,
            file.id,
            &file.mint.parse()?,
        );
        if hex::encode(hash) != file.terms_hash {
            bail!(
                "{}: the terms do not match their recorded hash (edited after proposal?)",
                path.display()
            );
        }
        Ok((file, terms, hash))
    }
}
