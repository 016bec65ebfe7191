//! Changes one person proposes and another decides (four eyes): a release review (R18,
//! 解密/開放鑒定) and a withdrawal of a record filed by mistake (作廢).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

text_enum!(
    /// Where a proposal stands: proposed until someone other than its proposer approves or
    /// rejects it.
    ProposalStatus { Proposed => "proposed", Approved => "approved", Rejected => "rejected" }
);

impl ProposalStatus {
    /// The status a decision gives.
    pub fn decided(approve: bool) -> Self {
        if approve {
            Self::Approved
        } else {
            Self::Rejected
        }
    }
}
