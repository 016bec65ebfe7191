//! The four properties of DA/T 70 (四性檢測) and the stages a check runs at, and the rule of
//! continuous item numbers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

text_enum!(
    /// 真實性, 完整性, 可用性, 安全性.
    Property {
        Authenticity => "authenticity",
        Integrity => "integrity",
        Usability => "usability",
        Security => "security",
    }
);

text_enum!(
    /// When a four-properties check runs: filing (歸檔, GD), hand-over (移交, YJ) or
    /// long-term storage (長期保存, CQ).
    Stage { Gd => "GD", Yj => "YJ", Cq => "CQ" }
);

text_enum!(
    /// A fixity sweep over the object store, or a four-properties check of records.
    CheckKind { Fixity => "fixity", FourProperties => "four_properties" }
);

text_enum!(
    /// Where a check is: waiting for its job, running, done (its figures final), or failed
    /// (its `error` says why).
    CheckStatus { Queued => "queued", Running => "running", Done => "done", Failed => "failed" }
);

/// The numbers missing from `1..=max(items)`, in order; at most `limit` of them.
pub fn item_gaps(items: &[u32], limit: usize) -> Vec<u32> {
    let Some(&highest) = items.iter().max() else {
        return Vec::new();
    };
    let present: std::collections::HashSet<u32> = items.iter().copied().collect();
    (1..=highest)
        .filter(|number| !present.contains(number))
        .take(limit)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_the_numbers_missing_below_the_highest() {
        assert_eq!(item_gaps(&[1, 2, 3], 10), Vec::<u32>::new());
        assert_eq!(item_gaps(&[1, 4, 2], 10), vec![3]);
        assert_eq!(item_gaps(&[3], 10), vec![1, 2]);
        assert_eq!(item_gaps(&[], 10), Vec::<u32>::new());
        assert_eq!(item_gaps(&[100], 3), vec![1, 2, 3]);
    }

    #[test]
    fn stages_keep_their_codes() {
        assert_eq!(Stage::parse("GD"), Some(Stage::Gd));
        assert_eq!(Stage::Cq.as_str(), "CQ");
        assert_eq!(Stage::parse("gd"), None);
    }
}
