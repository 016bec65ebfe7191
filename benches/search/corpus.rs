//! The benchmark's documents: the real texts of ../shared/corpus (help pages, archive plans,
//! PDF text layers) as whole documents, and synthetic catalogue entries whose titles,
//! descriptions and file texts are sentences drawn from them. Deterministic: files are read
//! in sorted order and every choice comes from a seeded LCG.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use dangan::index::RecordDocument;
use uuid::Uuid;

/// A minimal linear congruential generator (Knuth's MMIX constants): fixed seed, no crate.
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// A number in `0..bound`.
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The real texts and the sentence pools cut from them.
pub struct Corpus {
    /// Whole documents: (title, text).
    pub texts: Vec<(String, String)>,
    /// Sentences of the help pages and PDFs, deduplicated and sorted.
    general: Vec<String>,
    /// Sentences of the archive plans: the product's own domain vocabulary.
    domain: Vec<String>,
    pub pdfs_read: usize,
}

impl Corpus {
    /// Reads `root` (../shared/corpus): `text/**.html`, `text/archive-plans.zh-tw.txt`, and
    /// `pdf/*.pdf` through `pdftotext` when poppler is installed.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        let mut files = Vec::new();
        walk(&root.join("text"), &mut files)
            .with_context(|| format!("reading the corpus under {}", root.display()))?;
        let mut texts = Vec::new();
        let mut general = BTreeSet::new();
        let mut domain = BTreeSet::new();
        for path in &files {
            let raw = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let name = file_name(path);
            if path.extension().is_some_and(|ext| ext == "html") {
                let (title, text) = strip_html(&raw);
                sentences(&text, &mut general);
                texts.push((title.unwrap_or(name), text));
            } else {
                sentences(&raw, &mut domain);
                texts.push((name, raw));
            }
        }
        let mut pdfs_read = 0;
        let mut pdfs: Vec<PathBuf> = std::fs::read_dir(root.join("pdf"))
            .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        pdfs.sort();
        for path in pdfs
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "pdf"))
        {
            let Some(text) = pdf_text(path) else { continue };
            pdfs_read += 1;
            sentences(&text, &mut general);
            texts.push((file_name(path), text));
        }
        if general.is_empty() || domain.is_empty() {
            bail!("no sentences found under {}", root.display());
        }
        Ok(Self {
            texts,
            general: general.into_iter().collect(),
            domain: domain.into_iter().collect(),
            pdfs_read,
        })
    }

    /// Sentences available to the generator.
    pub fn sentence_count(&self) -> usize {
        self.general.len() + self.domain.len()
    }

    /// One in ten sentences comes from the archive plans, the rest from the help pages and
    /// PDFs.
    fn sentence<'a>(&'a self, rng: &mut Lcg) -> &'a str {
        if rng.below(10) == 0 {
            rng.pick(&self.domain).as_str()
        } else {
            rng.pick(&self.general).as_str()
        }
    }

    fn sentences(&self, rng: &mut Lcg, count: usize) -> String {
        (0..count).map(|_| self.sentence(rng)).collect()
    }

    /// `synthetic` catalogue entries followed by the real texts, one record each.
    pub fn documents(&self, synthetic: usize, rng: &mut Lcg) -> Vec<RecordDocument> {
        let mut documents = Vec::with_capacity(synthetic + self.texts.len());
        for n in 0..synthetic {
            let mut document = catalogue_entry(n, rng);
            document.title = cut_chars(self.sentence(rng), 40);
            let described = 1 + rng.below(3);
            document.description = Some(self.sentences(rng, described));
            // a quarter of the entries have a file whose extracted text is indexed
            if rng.below(4) == 0 {
                let length = 4 + rng.below(17);
                document.texts = vec![self.sentences(rng, length)];
            }
            documents.push(document);
        }
        for (n, (title, text)) in self.texts.iter().enumerate() {
            let mut document = catalogue_entry(synthetic + n, rng);
            document.title = title.clone();
            document.texts = vec![text.clone()];
            documents.push(document);
        }
        documents
    }
}

const CATEGORIES: [&str; 8] = ["WS", "RS", "KJ", "HT", "JJ", "KY", "SX", "SW"];
const DEPARTMENTS: [&str; 8] = ["BGS", "RLZY", "CW", "FW", "XZ", "JS", "XS", "DAS"];
const RETENTIONS: [&str; 3] = ["permanent", "30y", "10y"];
const SECURITY: [&str; 4] = ["public", "internal", "internal", "secret"];

/// The catalogue fields of entry `n`: codes, classification, dates; no text yet.
fn catalogue_entry(n: usize, rng: &mut Lcg) -> RecordDocument {
    let year = 1995 + rng.below(30) as i32;
    let category = *rng.pick(&CATEGORIES);
    let department = *rng.pick(&DEPARTMENTS);
    let fonds = format!("Z{:03}", 1 + rng.below(3));
    let day = 1 + rng.below(365) as u32;
    RecordDocument {
        id: Uuid::from_u64_pair(0xDA76_A000_0000_0000, n as u64),
        archival_code: Some(format!("{fonds}-{year}-{category}-{department}-{n:06}")),
        doc_number: Some(format!("{department}-{year}-{}", 1 + rng.below(999))),
        category: Some(category.to_owned()),
        fonds: Some(fonds),
        department: Some(department.to_owned()),
        retention: Some(rng.pick(&RETENTIONS).to_string()),
        security_level: rng.pick(&SECURITY).to_string(),
        open_status: if rng.below(3) == 0 {
            "controlled"
        } else {
            "open"
        }
        .to_owned(),
        year,
        doc_date: NaiveDate::from_yo_opt(year, day).unwrap_or_default(),
        ..RecordDocument::default()
    }
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "html" || e == "txt") {
            found.push(path);
        }
    }
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The text layer of a PDF, or `None` when pdftotext is missing or fails.
fn pdf_text(path: &Path) -> Option<String> {
    let output = Command::new("pdftotext")
        .args(["-q", "-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    (output.status.success() && !text.trim().is_empty()).then_some(text)
}

/// Splits text into sentences (at line ends and 。！？；) of 6 to 120 characters.
fn sentences(text: &str, into: &mut BTreeSet<String>) {
    let mut keep = |sentence: &str| {
        let sentence = sentence.trim();
        if (6..=120).contains(&sentence.chars().count()) {
            into.insert(sentence.to_owned());
        }
    };
    let mut current = String::new();
    for c in text.chars() {
        if c != '\n' {
            current.push(c);
        }
        if matches!(c, '\n' | '。' | '！' | '？' | '；') {
            keep(&current);
            current.clear();
        }
    }
    keep(&current);
}

fn cut_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A crude HTML to text: the `<title>`, then the body with tags removed (block tags become
/// line breaks), scripts and styles dropped, common entities decoded.
fn strip_html(html: &str) -> (Option<String>, String) {
    let title = between(html, "<title>", "</title>").map(|t| decode_entities(t.trim()));
    let body = html.find("<body").map_or(html, |start| &html[start..]);
    let mut text = String::with_capacity(body.len() / 2);
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let tag = &rest[open + 1..];
        // the end of the tag, or of the whole element for scripts and styles
        let skipped = ["script", "style"]
            .into_iter()
            .find(|name| tag.starts_with(name))
            .and_then(|name| {
                let closing = format!("</{name}>");
                tag.find(&closing).map(|at| at + closing.len() - 1)
            });
        let Some(close) = skipped.or_else(|| tag.find('>')) else {
            rest = "";
            break;
        };
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if matches!(
            name.as_str(),
            "p" | "div"
                | "br"
                | "li"
                | "tr"
                | "td"
                | "th"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "header"
                | "footer"
                | "section"
                | "table"
                | "ul"
                | "ol"
                | "pre"
        ) {
            text.push('\n');
        }
        rest = &tag[close + 1..];
    }
    text.push_str(rest);
    let text = decode_entities(&text);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    (title, lines.join("\n"))
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let entity = &rest[amp + 1..];
        let end = entity.find(';').filter(|&end| end <= 8);
        let decoded = end.and_then(|end| match &entity[..end] {
            "nbsp" => Some(' '),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            numeric => numeric
                .strip_prefix("#x")
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| numeric.strip_prefix('#').and_then(|n| n.parse().ok()))
                .and_then(char::from_u32),
        });
        match (decoded, end) {
            (Some(c), Some(end)) => {
                out.push(c);
                rest = &entity[end + 1..];
            }
            _ => {
                out.push('&');
                rest = entity;
            }
        }
    }
    out.push_str(rest);
    out
}
