//! The schema's rules that refuse a write, named: services answer each with their own words
//! and never see a constraint's name.

/// A rule of the schema that refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// Two records with one archival code.
    ArchivalCode,
    /// Two users with one username.
    Username,
    /// Two users linked to one employee's folder.
    UserParty,
    /// Two parties of one kind with one identifier.
    PartyIdentifier,
    /// Two storage rooms with one code.
    RoomCode,
    /// Two places of one room with one code.
    PlaceCode,
    /// A record's physical item on two approved loans.
    PhysicalLoanOut,
    /// Two withdrawals of one record awaiting a decision.
    OpenWithdrawal,
    /// A record in two open destruction batches.
    OpenBatchItem,
    /// A manifest row imported twice.
    ImportRow,
    /// Two fonds with one code.
    FondsCode,
    /// Two categories holding the folders of one kind of party.
    FolderKind,
    /// Another uniqueness rule.
    OtherUnique,
    /// A reference to a missing row, or the deletion of a row still referred to.
    Reference,
}

impl Conflict {
    /// The rule behind constraint `name`; `unique` tells a uniqueness from a reference.
    pub(super) fn of(name: &str, unique: bool) -> Self {
        match name {
            "records_archival_code_key" => Self::ArchivalCode,
            "users_username_key" => Self::Username,
            "users_party_idx" => Self::UserParty,
            "parties_kind_identifier_key" => Self::PartyIdentifier,
            "rooms_code_key" => Self::RoomCode,
            "room_locations_code_key" => Self::PlaceCode,
            "loans_physical_out_key" => Self::PhysicalLoanOut,
            "withdrawals_open_key" => Self::OpenWithdrawal,
            "batch_items_open_record_idx" => Self::OpenBatchItem,
            "import_rows_pkey" => Self::ImportRow,
            "fonds_code_key" => Self::FondsCode,
            "categories_one_folder_kind_idx" => Self::FolderKind,
            _ if unique => Self::OtherUnique,
            _ => Self::Reference,
        }
    }
}
