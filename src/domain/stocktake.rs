//! Stock-takes (庫檢): what an item's rows say about it once the shelves have been walked.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

text_enum!(
    /// What a stock-take found of one item: `found` where it belongs, `misplaced` (seen
    /// elsewhere in the scope), `missing` (not seen, once the stock-take is finished; `pending`
    /// before), or `unexpected` (seen, but not kept in the scope, or no record known).
    Finding {
        Found => "found",
        Pending => "pending",
        Missing => "missing",
        Misplaced => "misplaced",
        Unexpected => "unexpected",
    }
);

/// The places of a room as a tree: each place's parent.
#[derive(Debug, Clone, Default)]
pub struct PlaceTree {
    parents: HashMap<Uuid, Option<Uuid>>,
}

impl PlaceTree {
    pub fn new(places: impl IntoIterator<Item = (Uuid, Option<Uuid>)>) -> Self {
        Self {
            parents: places.into_iter().collect(),
        }
    }

    /// Whether `place` is `within` or stands inside it (a box on the shelf); a tree with a
    /// loop ends the walk rather than running for ever.
    pub fn is_within(&self, place: Uuid, within: Uuid) -> bool {
        let mut current = Some(place);
        for _ in 0..=self.parents.len() {
            match current {
                Some(id) if id == within => return true,
                Some(id) => current = self.parents.get(&id).copied().flatten(),
                None => return false,
            }
        }
        false
    }
}

/// One item as the stock-take holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemState {
    /// Kept in the scope when the stock-take began.
    pub expected: bool,
    /// The registered place it is kept in (`None`: in the room or scope, at no given place).
    pub expected_place: Option<Uuid>,
    /// Where it was seen, if it was.
    pub seen_place: Option<Uuid>,
}

impl ItemState {
    /// What the stock-take found of the item; `finished` turns a not-yet-seen item missing.
    pub fn finding(&self, places: &PlaceTree, finished: bool) -> Finding {
        match (self.expected, self.seen_place) {
            (false, _) => Finding::Unexpected,
            (true, None) if finished => Finding::Missing,
            (true, None) => Finding::Pending,
            (true, Some(seen)) => match self.expected_place {
                Some(place) if !places.is_within(seen, place) => Finding::Misplaced,
                _ => Finding::Found,
            },
        }
    }
}

/// The counts of a stock-take's findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FindingCounts {
    pub expected: usize,
    pub found: usize,
    pub pending: usize,
    pub missing: usize,
    pub misplaced: usize,
    pub unexpected: usize,
}

impl FindingCounts {
    pub fn add(&mut self, expected: bool, finding: Finding) {
        self.expected += usize::from(expected);
        let slot = match finding {
            Finding::Found => &mut self.found,
            Finding::Pending => &mut self.pending,
            Finding::Missing => &mut self.missing,
            Finding::Misplaced => &mut self.misplaced,
            Finding::Unexpected => &mut self.unexpected,
        };
        *slot += 1;
    }

    /// Findings a keeper must act on: missing, misplaced or unexpected items.
    pub fn troubles(&self) -> usize {
        self.missing + self.misplaced + self.unexpected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_is_found_in_its_place_or_in_a_place_inside_it() {
        let (shelf, box_a, box_b) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let tree = PlaceTree::new([(shelf, None), (box_a, Some(shelf)), (box_b, Some(shelf))]);
        let item = |expected_place, seen_place| ItemState {
            expected: true,
            expected_place,
            seen_place,
        };
        assert_eq!(
            item(Some(box_a), Some(box_a)).finding(&tree, false),
            Finding::Found
        );
        assert_eq!(
            item(Some(shelf), Some(box_b)).finding(&tree, true),
            Finding::Found
        );
        assert_eq!(
            item(Some(box_a), Some(box_b)).finding(&tree, true),
            Finding::Misplaced
        );
        assert_eq!(
            item(Some(box_a), Some(shelf)).finding(&tree, true),
            Finding::Misplaced
        );
        assert_eq!(item(None, Some(box_b)).finding(&tree, true), Finding::Found);
        assert_eq!(
            item(Some(box_a), None).finding(&tree, false),
            Finding::Pending
        );
        assert_eq!(
            item(Some(box_a), None).finding(&tree, true),
            Finding::Missing
        );
        let stray = ItemState {
            expected: false,
            expected_place: None,
            seen_place: Some(box_a),
        };
        assert_eq!(stray.finding(&tree, true), Finding::Unexpected);
    }

    #[test]
    fn a_loop_among_places_ends_the_walk() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let tree = PlaceTree::new([(a, Some(b)), (b, Some(a))]);
        assert!(tree.is_within(a, b));
        assert!(!tree.is_within(a, c));
    }

    #[test]
    fn counts_name_the_troubles() {
        let mut counts = FindingCounts::default();
        for (expected, finding) in [
            (true, Finding::Found),
            (true, Finding::Missing),
            (true, Finding::Misplaced),
            (false, Finding::Unexpected),
        ] {
            counts.add(expected, finding);
        }
        assert_eq!((counts.expected, counts.troubles()), (3, 3));
    }
}
