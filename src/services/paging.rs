//! Keyset paging of lists: a page of `limit` items is read as `limit + 1` rows; the extra
//! row only says that another page follows, whose cursor is the key of the page's last item.

use super::{ServiceError, ServiceResult};

/// The refusal of a cursor this list did not hand out.
pub(crate) fn bad_cursor() -> ServiceError {
    ServiceError::Validation("cursor: not a cursor from this list".into())
}

/// A cursor that is the id of the last item seen.
pub(crate) fn id_cursor(cursor: Option<&str>) -> ServiceResult<Option<i64>> {
    cursor
        .map(|cursor| cursor.parse::<i64>().map_err(|_| bad_cursor()))
        .transpose()
}

/// The page size a list is asked for: `limit`, else `default`, held within 1 and `max` (a
/// larger limit is read as `max`, a smaller one as 1).
pub(crate) fn page_size(limit: Option<i64>, default: u32, max: u32) -> u32 {
    limit.map_or(default, |limit| {
        u32::try_from(limit.clamp(1, i64::from(max))).unwrap_or(max)
    })
}

/// Cuts `rows` (read with `limit + 1`) to the page; the next page's cursor, when there is one.
pub(crate) fn next_cursor<T>(
    rows: &mut Vec<T>,
    limit: u32,
    key: impl Fn(&T) -> String,
) -> Option<String> {
    let limit = limit as usize;
    if rows.len() <= limit {
        return None;
    }
    rows.truncate(limit);
    rows.last().map(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_size_is_held_within_its_bounds() {
        assert_eq!(page_size(None, 50, 500), 50);
        assert_eq!(page_size(Some(0), 50, 500), 1);
        assert_eq!(page_size(Some(700), 50, 500), 500);
        assert_eq!(page_size(Some(i64::MAX), 50, 500), 500);
        assert_eq!(page_size(Some(-3), 50, 500), 1);
    }

    #[test]
    fn the_extra_row_makes_a_next_page_and_is_cut() {
        let mut rows = vec![5, 4, 3];
        assert_eq!(next_cursor(&mut rows, 2, i32::to_string), Some("4".into()));
        assert_eq!(rows, vec![5, 4]);
        let mut last = vec![2, 1];
        assert_eq!(next_cursor(&mut last, 2, i32::to_string), None);
        assert_eq!(last, vec![2, 1]);
        assert_eq!(id_cursor(Some("17")).ok(), Some(Some(17)));
        assert!(id_cursor(Some("x")).is_err());
    }
}
