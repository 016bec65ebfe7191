//! The capability table: what each role may do apart from seeing records.

use crate::domain::user::Role;

/// What a role may do, apart from seeing records (which [`may_see`](crate::domain::permissions::may_see) decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// File new records (upload, import).
    FileRecords,
    /// Change a visible record's descriptive metadata (title, dates, numbers, description).
    EditRecords,
    /// Change a record's department, party, category or custodian, raise its security
    /// level or control it (劃控): the records office.
    Reclassify,
    /// Add events that move retention clocks: the records office.
    RecordEvents,
    /// Create and change parties and their folders, hand custody over.
    KeepFolders,
    /// See the due list, appraise, place and release holds, create destruction batches.
    Dispose,
    /// Approve a destruction batch (never one's own).
    ApproveDestruction,
    /// See destruction batches and their certificates: the disposing roles and auditors.
    SeeDestruction,
    /// Register loans for others, take back physical items, see every loan.
    KeepLoans,
    /// Keep storage rooms: readings, inspections, plans.
    KeepRooms,
    /// Start and read integrity checks.
    CheckIntegrity,
    /// Read the audit trail.
    ReadAudit,
    /// Export the catalogue and read statistics (of the records one may see).
    ExportCatalogue,
    /// See and retry background jobs.
    KeepQueue,
    /// Users, departments, fonds, categories, retention policies, access rules.
    Administer,
    /// Propose opening or declassifying records (R18).
    ProposeRelease,
    /// Approve or reject a release proposed by someone else.
    ReviewRelease,
    /// Extend the search's table of regional variants and synonyms.
    CurateSearch,
    /// Add or replace files of filed records, and propose withdrawing (作廢) a record filed
    /// by mistake: the records office.
    CorrectRecords,
    /// Approve or reject a withdrawal proposed by someone else.
    ApproveWithdrawal,
}

impl Capability {
    /// What the capability lets one do, for a refusal: "a staff may not {…}".
    pub fn describe(self) -> &'static str {
        match self {
            Capability::FileRecords => "file records",
            Capability::EditRecords => "change records",
            Capability::Reclassify => "reclassify records",
            Capability::RecordEvents => "add events that move retention (the records office does)",
            Capability::KeepFolders => "create or change folders",
            Capability::Dispose => "appraise records or manage holds and destruction",
            Capability::ApproveDestruction => "approve destruction",
            Capability::SeeDestruction => "see destruction batches",
            Capability::KeepLoans => "register loans for others or see every loan",
            Capability::KeepRooms => "keep storage rooms",
            Capability::CheckIntegrity => "run or read integrity checks",
            Capability::ReadAudit => "read the audit trail",
            Capability::ExportCatalogue => "export the catalogue or read statistics",
            Capability::KeepQueue => "see or retry background jobs",
            Capability::Administer => "administer users and the catalogue set-up",
            Capability::ProposeRelease => "propose a release",
            Capability::ReviewRelease => "approve or reject a release",
            Capability::CurateSearch => "change the search's variants and synonyms",
            Capability::CorrectRecords => {
                "add or replace files of filed records or propose a withdrawal"
            }
            Capability::ApproveWithdrawal => "approve or reject a withdrawal",
        }
    }
}

impl Role {
    /// The capability table: one row per capability, the roles that hold it.
    pub fn may(self, capability: Capability) -> bool {
        use Capability::*;
        use Role::*;
        let holders: &[Role] = match capability {
            FileRecords => &[
                Admin,
                Archivist,
                Director,
                GeneralManager,
                DeptManager,
                Staff,
            ],
            EditRecords => &[Admin, Archivist, Director, GeneralManager],
            Reclassify | RecordEvents | KeepLoans | KeepRooms | KeepQueue | ProposeRelease
            | CurateSearch | CorrectRecords => &[Admin, Archivist],
            KeepFolders => &[Admin, Archivist, Director],
            Dispose | ApproveDestruction => &[Admin, Archivist, Director, GeneralManager],
            SeeDestruction => &[Admin, Archivist, Director, GeneralManager, Auditor],
            CheckIntegrity | ReadAudit => &[Admin, Archivist, Auditor],
            ExportCatalogue => &[Admin, Archivist, Director, GeneralManager, DeptManager],
            Administer => &[Admin],
            ReviewRelease | ApproveWithdrawal => &[Director, GeneralManager],
        };
        holders.contains(&self)
    }
}
