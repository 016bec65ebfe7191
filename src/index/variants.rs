//! Regional variants and synonyms for the relaxed tier of a search: groups of words that
//! name the same thing in mainland and Taiwan (or Hong Kong) usage, such as 数据 and 資料,
//! 帮助 and 說明. Unlike the folding of `regional_terms.txt`, which rewrites documents and
//! queries alike, these words also have other senses, so they only widen a search whose
//! exact words left the page short. The shipped groups (`variants.txt`) come with dangan;
//! the archive adds its own (`PUT /api/v1/search/variants`).

use std::collections::HashMap;

use super::analysis::fold;

/// Words of one meaning, as written (either script).
pub type Group = Vec<String>;

/// Every folded word's variants.
#[derive(Debug, Clone, Default)]
pub struct Variants {
    by_word: HashMap<String, Vec<String>>,
}

impl Variants {
    /// The shipped groups and the archive's own.
    pub fn new<'a>(archive: impl IntoIterator<Item = &'a Group>) -> Self {
        let mut variants = Variants::default();
        for group in shipped() {
            variants.add(&group);
        }
        for group in archive {
            variants.add(group);
        }
        variants
    }

    fn add(&mut self, group: &[String]) {
        let mut words: Vec<String> = group
            .iter()
            .map(|word| fold(word.trim()))
            .filter(|word| !word.is_empty())
            .collect();
        words.sort();
        words.dedup();
        for word in &words {
            let known = self.by_word.entry(word.clone()).or_default();
            for other in &words {
                if other != word && !known.contains(other) {
                    known.push(other.clone());
                }
            }
        }
    }

    /// The other words for folded `word`.
    pub fn of(&self, word: &str) -> &[String] {
        self.by_word.get(word).map_or(&[], Vec::as_slice)
    }
}

/// The groups that ship with dangan: one group a line, words separated by tabs or spaces.
pub fn shipped() -> Vec<Group> {
    parse(include_str!("variants.txt"))
}

/// Groups of a text in the shipped format; `#` starts a comment line.
pub fn parse(text: &str) -> Vec<Group> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Group>()
        })
        .filter(|group| group.len() > 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_links_its_words_in_both_scripts() {
        let archive = vec![vec!["盟約".to_owned(), "契据".to_owned()]];
        let variants = Variants::new(&archive);
        assert_eq!(variants.of("盟约"), ["契据"]);
        assert_eq!(variants.of("契据"), ["盟约"]);
        // shipped: 資料 is folded to 资料 and meets 数据
        assert!(variants.of("数据").iter().any(|word| word == "资料"));
        assert!(variants.of("不在表里").is_empty());
    }

    #[test]
    fn the_shipped_table_parses_into_groups_of_two_or_more() {
        let groups = shipped();
        assert!(groups.len() > 20, "{} groups", groups.len());
        assert!(groups.iter().all(|group| group.len() > 1));
    }
}
