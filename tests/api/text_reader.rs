//! `dangan-pdftext`, the reader of PDF text layers kept running beside the server: its text
//! is pdftotext's byte for byte, and a damaged, locked, slow or memory-hungry file ends its
//! own child only, while the reader answers the next request.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use dangan::extract::text_server::{self, Outcome};
use dangan::extract::{ExtractOptions, Limits, Sandbox};
use lopdf::{Document, EncryptionState, EncryptionVersion, Permissions};

use crate::helpers::corpus;

const READER: &str = env!("CARGO_BIN_EXE_dangan-pdftext");

fn limits() -> Limits {
    Limits::tool(Duration::from_secs(30), 64 << 20)
}

fn read(pdf: &[u8], limits: &Limits) -> text_server::Answer {
    text_server::read(Path::new(READER), pdf, limits)
        .expect("dangan-pdftext is built with poppler-cpp (libpoppler-cpp-dev) and answers")
}

fn pdftotext(pdf: &Path) -> Vec<u8> {
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(output.status.success(), "pdftotext reads {}", pdf.display());
    output.stdout
}

fn corpus_pdfs() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pdf");
    let mut pdfs: Vec<_> = std::fs::read_dir(&dir)
        .expect("../shared/corpus/pdf")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pdf"))
        .collect();
    pdfs.sort();
    assert!(pdfs.len() >= 3, "the corpus holds PDFs");
    pdfs
}

#[test]
fn the_reader_prints_what_pdftotext_prints() {
    for path in corpus_pdfs() {
        let pdf = std::fs::read(&path).expect("read");
        let answer = read(&pdf, &limits());
        assert_eq!(
            answer.outcome,
            Outcome::Read { truncated: false },
            "{}",
            path.display()
        );
        assert!(
            answer.text == pdftotext(&path),
            "{}: the reader's text differs from pdftotext's",
            path.display()
        );
    }
}

#[test]
fn text_past_the_output_limit_is_cut_and_said_to_be() {
    let path = &corpus_pdfs()[0];
    let whole = pdftotext(path);
    let limits = Limits::tool(Duration::from_secs(30), 1000);
    let answer = read(&std::fs::read(path).expect("read"), &limits);
    assert_eq!(answer.outcome, Outcome::Read { truncated: true });
    assert_eq!(answer.text, whole[..1000]);
}

#[test]
fn a_damaged_or_locked_pdf_is_told_and_the_reader_answers_the_next() {
    let good = corpus("pdf/debian-faq.zh-cn.pdf");
    let damaged = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage".to_vec();
    assert_eq!(read(&damaged, &limits()).outcome, Outcome::Damaged);

    let mut doc = Document::load_mem(&good).expect("load");
    let version = EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "secret",
        key_length: 128,
        permissions: Permissions::all(),
    };
    let state = EncryptionState::try_from(version).expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    let mut locked = Vec::new();
    doc.save_to(&mut locked).expect("save");
    assert_eq!(read(&locked, &limits()).outcome, Outcome::Locked);

    let answer = read(&good, &limits());
    assert_eq!(answer.outcome, Outcome::Read { truncated: false });
    assert!(String::from_utf8_lossy(&answer.text).contains("debian-faq"));
}

#[test]
fn a_child_past_its_time_or_memory_dies_alone() {
    let long = corpus_pdfs()
        .into_iter()
        .max_by_key(|path| std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0))
        .expect("a PDF");
    let long = std::fs::read(long).expect("read");
    let mut hurried = limits();
    hurried.timeout = Duration::from_millis(5);
    assert_eq!(read(&long, &hurried).outcome, Outcome::TimedOut);

    let mut starved = limits();
    starved.memory_bytes = 16 << 20;
    assert_eq!(read(&long, &starved).outcome, Outcome::Died);

    let answer = read(&corpus("pdf/debian-faq.zh-cn.pdf"), &limits());
    assert_eq!(answer.outcome, Outcome::Read { truncated: false });
}

/// Without a reader built with poppler (its stub exits at once), text layers are read by
/// pdftotext as before.
#[test]
fn without_a_working_reader_pdftotext_reads_the_text_layer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let stub = dir.path().join(text_server::BINARY);
    std::fs::write(&stub, "#!/bin/sh\nexit 2\n").expect("stub");
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert!(text_server::read(&stub, b"%PDF-1.4", &limits()).is_none());

    let sandbox = Sandbox::new(
        dir.path().join("dangan-sandbox"),
        1 << 30,
        Duration::from_secs(30),
        dir.path().join("scratch"),
    );
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pdf/debian-faq.zh-cn.pdf");
    let extracted = sandbox
        .text_layer(
            std::fs::read(&path).expect("read"),
            &ExtractOptions::default(),
        )
        .expect("read")
        .expect("a text layer");
    let expected = String::from_utf8(pdftotext(&path)).expect("UTF-8");
    assert!(expected.contains("debian-faq"));
    assert!(extracted.text.contains("debian-faq"), "{}", extracted.text);
}
