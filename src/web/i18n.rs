//! The web interface's languages: zh-CN (default), zh-TW and en. Every string a page shows
//! comes from a message catalogue (`locales/<tag>.toml`, built into the binary); a key
//! missing from a catalogue falls back to zh-CN, then to the key itself (a test checks that
//! every catalogue has every key). The language is the user's choice (a cookie), else the
//! best match of `Accept-Language`.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};

use crate::domain::catalogue::Language;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    ZhTw,
    En,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::ZhCn, Lang::ZhTw, Lang::En];

    /// The BCP 47 tag, as `<html lang>` and the language cookie carry it.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::ZhTw => "zh-TW",
            Lang::En => "en",
        }
    }

    /// The tag's language, leniently: `zh-TW`, `zh-Hant`, `zh-HK` are Traditional, any
    /// other `zh` Simplified, `en…` English.
    pub fn parse(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase();
        if tag.starts_with("zh") {
            let traditional = ["zh-tw", "zh-hant", "zh-hk", "zh-mo"]
                .iter()
                .any(|prefix| tag.starts_with(prefix));
            return Some(if traditional { Lang::ZhTw } else { Lang::ZhCn });
        }
        tag.starts_with("en").then_some(Lang::En)
    }

    /// The best language of an `Accept-Language` header, by its q-values; zh-CN when none
    /// is offered.
    pub fn negotiate(accept_language: Option<&str>) -> Lang {
        let Some(header) = accept_language else {
            return Lang::default();
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default();
            let quality = pieces
                .find_map(|piece| piece.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Lang::parse(tag)
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, lang));
            }
        }
        best.map_or_else(Lang::default, |(_, lang)| lang)
    }

    /// The catalogue language of names and labels stored in three scripts.
    pub fn language(self) -> Language {
        match self {
            Lang::ZhCn => Language::ZhHans,
            Lang::ZhTw => Language::ZhHant,
            Lang::En => Language::En,
        }
    }
}

type Catalogue = HashMap<String, String>;

static CATALOGUES: LazyLock<HashMap<Lang, Catalogue>> = LazyLock::new(|| {
    [
        (Lang::ZhCn, include_str!("../../locales/zh-CN.toml")),
        (Lang::ZhTw, include_str!("../../locales/zh-TW.toml")),
        (Lang::En, include_str!("../../locales/en.toml")),
    ]
    .into_iter()
    .map(|(lang, text)| (lang, flatten(text)))
    .collect()
});

/// `[section] key = "…"` as `section.key`.
fn flatten(text: &str) -> Catalogue {
    let mut out = Catalogue::new();
    match text.parse::<toml::Table>() {
        Ok(table) => walk("", &toml::Value::Table(table), &mut out),
        Err(error) => tracing::error!(%error, "a message catalogue does not parse"),
    }
    out
}

fn walk(prefix: &str, value: &toml::Value, out: &mut Catalogue) {
    match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                walk(&key, value, out);
            }
        }
        toml::Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

/// The messages of one language, as pages use them: `t.get("search.title")`.
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    pub lang: Lang,
}

impl Texts {
    pub fn new(lang: Lang) -> Self {
        Self { lang }
    }

    /// The message `key` (empty if no catalogue has it; the tests see that they all do).
    pub fn get(&self, key: &str) -> &'static str {
        lookup(self.lang, key)
    }

    /// The message `key` with `{name}` placeholders filled.
    pub fn fill(&self, key: &str, values: &[(&str, &str)]) -> String {
        let mut text = self.get_owned(key);
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    fn get_owned(&self, key: &str) -> String {
        lookup_owned(self.lang, key)
    }

    /// A date as the language writes it (`format.date` of the catalogue: year, month and
    /// day in Chinese, 3 Dec 2026 in English).
    pub fn date(&self, date: &NaiveDate) -> String {
        self.fill(
            "format.date",
            &[
                ("year", &date.year().to_string()),
                ("month", &date.month().to_string()),
                ("day", &date.day().to_string()),
                ("month_abbr", &date.format("%b").to_string()),
            ],
        )
    }

    /// The `<html lang>` tag.
    pub fn tag(&self) -> &'static str {
        self.lang.tag()
    }
}

fn lookup(lang: Lang, key: &str) -> &'static str {
    CATALOGUES
        .get(&lang)
        .and_then(|catalogue| catalogue.get(key))
        .or_else(|| CATALOGUES.get(&Lang::ZhCn).and_then(|c| c.get(key)))
        .map_or("", String::as_str)
}

fn lookup_owned(lang: Lang, key: &str) -> String {
    let text = lookup(lang, key);
    if text.is_empty() {
        key.to_owned()
    } else {
        text.to_owned()
    }
}

/// Every key of a catalogue, for the completeness test.
#[cfg(test)]
fn keys(lang: Lang) -> std::collections::BTreeSet<String> {
    CATALOGUES
        .get(&lang)
        .map(|catalogue| catalogue.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_has_every_key_of_the_others() {
        let all: std::collections::BTreeSet<String> =
            Lang::ALL.iter().flat_map(|lang| keys(*lang)).collect();
        assert!(all.len() > 50, "{} keys", all.len());
        for lang in Lang::ALL {
            let present = keys(lang);
            let missing: Vec<&String> = all.difference(&present).collect();
            assert!(missing.is_empty(), "{} lacks {missing:?}", lang.tag());
        }
    }

    #[test]
    fn accept_language_picks_the_best_offered_language() {
        assert_eq!(Lang::negotiate(None), Lang::ZhCn);
        assert_eq!(Lang::negotiate(Some("zh-TW,zh;q=0.9,en;q=0.8")), Lang::ZhTw);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::negotiate(Some("fr-FR, en;q=0.5, zh-Hant;q=0.7")),
            Lang::ZhTw
        );
        assert_eq!(Lang::negotiate(Some("de")), Lang::ZhCn);
    }

    #[test]
    fn dates_and_counts_are_filled_into_their_messages() {
        let date = NaiveDate::from_ymd_opt(2026, 12, 3).expect("date");
        assert_eq!(Texts::new(Lang::En).date(&date), "3 Dec 2026");
        assert!(Texts::new(Lang::ZhCn).date(&date).starts_with("2026"));
        assert_eq!(
            Texts::new(Lang::En).fill("search.results", &[("total", "7")]),
            "7 records found"
        );
    }

    #[test]
    fn every_key_a_template_asks_for_is_in_the_catalogues() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let known = keys(Lang::ZhCn);
        let mut asked = 0;
        for entry in std::fs::read_dir(&dir).expect("templates").flatten() {
            let text = std::fs::read_to_string(entry.path()).expect("template");
            for piece in text.split("t.get(\"").skip(1) {
                let key = piece.split('"').next().unwrap_or_default();
                asked += 1;
                assert!(known.contains(key), "{}: {key}", entry.path().display());
            }
        }
        assert!(asked > 30, "{asked} keys asked for");
    }
}
