//! What the study commands print: typed results rendered as text or JSON.

use serde::Serialize;

use crate::output::Render;

#[derive(Serialize)]
pub struct StudyOut {
    pub study: String,
    pub researcher: String,
    pub status: String,
    pub mint: String,
    pub price: u64,
    pub max_contributions: u32,
    pub contributions: u32,
    pub kinds: Vec<String>,
    pub deadline: i64,
    pub data_use_until: i64,
    pub ethics_approval: String,
    pub escrow: String,
    pub escrow_balance: u64,
    pub deposited: u64,
    pub paid: u64,
    pub fees: u64,
    pub refunded: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Render for StudyOut {
    fn text(&self) -> String {
        let mut out = format!(
            "Study {} ({})\n  Researcher:     {}\n  Pays:           {} per contribution, {}/{} contributed\n  Accepts:        {}\n  Deadline:       {}  (data use until {})\n  Ethics approval {}\n  Escrow:         {} holds {} (mint {})\n  Deposited {} = paid {} + fees {} + refunded {} + escrow {}",
            self.study,
            self.status,
            self.researcher,
            self.price,
            self.contributions,
            self.max_contributions,
            self.kinds.join(", "),
            self.deadline,
            self.data_use_until,
            self.ethics_approval,
            self.escrow,
            self.escrow_balance,
            self.mint,
            self.deposited,
            self.paid,
            self.fees,
            self.refunded,
            self.escrow_balance,
        );
        if let Some(sig) = &self.signature {
            out.push_str(&format!("\n  Signature:      {sig}"));
        }
        out
    }
}

#[derive(Serialize)]
pub struct StudyList(pub Vec<StudyOut>);

impl Render for StudyList {
    fn text(&self) -> String {
        if self.0.is_empty() {
            return "No studies".into();
        }
        let mut out = format!(
            "{:<46} {:<8} {:>10} {:>7}  {}\n",
            "study", "status", "price", "filled", "accepts"
        );
        for s in &self.0 {
            out.push_str(&format!(
                "{:<46} {:<8} {:>10} {:>3}/{:<3}  {}\n",
                s.study,
                s.status,
                s.price,
                s.contributions,
                s.max_contributions,
                s.kinds.join(",")
            ));
        }
        out.trim_end().into()
    }
}

#[derive(Serialize)]
pub struct Proposed {
    pub file: String,
    pub study: String,
    pub terms_hash: String,
}

impl Render for Proposed {
    fn text(&self) -> String {
        format!(
            "Wrote study terms to {}\n  Study address:  {}\n  Terms hash:     {}\nSend the file and the protocol to an ethics board for `rekam study approve`.",
            self.file, self.study, self.terms_hash
        )
    }
}

#[derive(Serialize)]
pub struct Approved {
    pub approval: String,
    pub study: String,
    pub terms_hash: String,
    pub signature: String,
}

impl Render for Approved {
    fn text(&self) -> String {
        format!(
            "Approved study {}\n  Approval attestation: {}\n  Terms hash:           {}\n  Signature:            {}",
            self.study, self.approval, self.terms_hash, self.signature
        )
    }
}

#[derive(Serialize)]
pub struct Contributed {
    pub study: String,
    pub attestation: String,
    pub contribution: String,
    pub consent: String,
    pub copy: String,
    pub payout: u64,
    pub fee: u64,
    pub token_account: String,
    pub balance: u64,
    pub signature: String,
}

impl Render for Contributed {
    fn text(&self) -> String {
        format!(
            "Contributed {} to study {}\n  Paid:           {} (fee {}) to {} (balance {})\n  Research consent {} (revocable like any consent)\n  De-identified copy: {}\n  Signature:      {}",
            self.attestation,
            self.study,
            self.payout,
            self.fee,
            self.token_account,
            self.balance,
            self.consent,
            self.copy,
            self.signature
        )
    }
}

#[derive(Serialize)]
pub struct ContributionRow {
    pub contribution: String,
    pub attestation: String,
    pub patient: String,
    pub consent: String,
    pub payout: u64,
    pub fee: u64,
    pub contributed_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub treatment_year: Option<String>,
    /// Facts of the copy proven against the attestation's claims root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proven: Option<usize>,
    /// Facts of the copy shown without a claim (their claims carry free text or a value
    /// the copy generalizes): not proven.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unproven: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Serialize)]
pub struct Contributions {
    pub study: String,
    pub contributions: Vec<ContributionRow>,
}

impl Render for Contributions {
    fn text(&self) -> String {
        let mut out = format!(
            "Study {}: {} contributions\n",
            self.study,
            self.contributions.len()
        );
        for c in &self.contributions {
            out.push_str(&format!(
                "  {}  paid {:>8}  fee {:>6}",
                c.attestation, c.payout, c.fee
            ));
            if let (Some(kind), Some(year)) = (&c.kind, &c.treatment_year) {
                out.push_str(&format!("  {kind} {year}"));
            }
            if let Some(true) = c.verified {
                out.push_str("  verified");
            }
            if let (Some(proven), Some(unproven)) = (c.proven, &c.unproven) {
                out.push_str(&format!(
                    "  {proven} facts proven, {} unproven",
                    unproven.len()
                ));
            }
            if let Some(path) = &c.out {
                out.push_str(&format!("  -> {path}"));
            }
            if let Some(err) = &c.error {
                out.push_str(&format!("  NOT READ: {err}"));
            }
            out.push('\n');
        }
        out.trim_end().into()
    }
}

#[derive(Serialize)]
pub struct Closed {
    pub study: String,
    pub refunded: u64,
    pub refund_to: String,
    pub contributions: u32,
    pub deposited: u64,
    pub paid: u64,
    pub fees: u64,
    pub signature: String,
}

impl Render for Closed {
    fn text(&self) -> String {
        format!(
            "Closed study {}\n  Refunded {} to {}\n  {} contributions: deposited {} = paid {} + fees {} + refunded {}\n  Signature: {}",
            self.study,
            self.refunded,
            self.refund_to,
            self.contributions,
            self.deposited,
            self.paid,
            self.fees,
            self.refunded,
            self.signature
        )
    }
}
