//! A party's folder printed: its cover (案卷封面) and notes sheet (備考表), summed up from
//! the folder's records the caller may see.

use uuid::Uuid;

use super::PartyService;
use crate::db;
use crate::domain::party::PartyKind;
use crate::print::folder::{FolderCover, folder_cover};
use crate::services::export::Download;
use crate::services::{Actor, ServiceResult, printed};

impl PartyService {
    /// The cover and notes sheet of the party's folder as a PDF (two A4 pages); a folder the
    /// caller may not see answers as a missing one.
    pub async fn folder_cover(&self, actor: &Actor, id: Uuid) -> ServiceResult<Download> {
        let folder = self.folder(actor, id).await?;
        let ids: Vec<Uuid> = folder.records.iter().map(|record| record.id).collect();
        let mut conn = db::acquire(&self.pool).await?;
        let facts = db::parties::folder_sheet(&mut conn, &ids).await?;
        drop(conn);
        let kind = match folder.party.kind {
            PartyKind::Employee => "人事档案",
            PartyKind::Customer => "客户档案",
        };
        let cover = FolderCover {
            organisation: facts.fonds_names.join("、"),
            fonds: facts.fonds,
            number: folder.party.identifier.clone(),
            title: format!("{} {kind}", folder.party.name),
            first_date: facts.first_date.map(|date| date.to_string()),
            last_date: facts.last_date.map(|date| date.to_string()),
            items: facts.items,
            pages: facts.pages,
            copies: facts.copies,
            retention: facts.retention,
            printed_on: self.today().to_string(),
        };
        let pdf = printed(move || folder_cover(&cover)).await?;
        Ok(Download::whole(
            pdf,
            "application/pdf",
            format!("案卷封面-{}.pdf", folder.party.identifier),
        ))
    }
}
