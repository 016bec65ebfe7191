//! Tests of PDF extraction on the corpus PDFs and on PDFs built here.

use std::path::{Path, PathBuf};
use std::time::Instant;

use lopdf::{Document, EncryptionState, EncryptionVersion, Permissions, Stream, dictionary};

use super::super::ocr::tests::han_recall;
use super::super::testing::corpus;
use super::super::{Extracted, Method, extract_file};
use super::*;

fn extract_timed(path: &Path, opts: &ExtractOptions) -> Result<Extracted, ExtractError> {
    let started = Instant::now();
    let result = extract_file(path, "application/pdf", opts);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    eprintln!("{name}: extracted in {:?}", started.elapsed());
    result
}

/// A one-page A4 PDF whose page is the given JPEG and nothing else, like a scanner makes.
fn image_only_pdf(jpeg: &Path, out: &Path) {
    let bytes = std::fs::read(jpeg).expect("read jpeg");
    let (width, height) = (2529, 3544); // scan_sc.jpg
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => height,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        bytes,
    );
    let image_id = doc.add_object(image);
    let content = Stream::new(dictionary! {}, b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec());
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc.save(out).expect("save pdf");
}

fn maint_guides() -> Option<[PathBuf; 2]> {
    let dir = corpus()?;
    Some([
        dir.join("pdf/maint-guide.zh-cn.pdf"),
        dir.join("pdf/maint-guide.zh-tw.pdf"),
    ])
}

#[test]
fn the_maint_guides_yield_chinese_text_in_both_scripts_and_63_pages() {
    let Some([simplified, traditional]) = maint_guides() else {
        return;
    };
    let opts = ExtractOptions::default();
    let expected = [
        (
            simplified,
            [
                "Debian 新维护者手册",
                "以上给出的简短描述仅仅是为了使你对这些工具有一个基本的印象",
                // wrapped across two lines in the PDF, joined again
                "包括通过依赖关系安装的程序",
                // a justified space between CJK characters removed
                "你阅读了它们而感觉到非常愉快",
            ],
        ),
        (
            traditional,
            [
                "Debian 新維護人員手冊",
                "以上給出的簡短描述僅僅是爲了使你對這些軟件包有一個基本的印象",
                "包括通過依賴關係安裝的程序",
                "你閱讀了它們而感覺到非常愉快",
            ],
        ),
    ];
    for (path, phrases) in expected {
        let extracted = extract_timed(&path, &opts).expect("extracts");
        assert_eq!(extracted.method, Method::PdfText);
        assert_eq!(extracted.pages, Some(63));
        assert!(!extracted.truncated);
        for phrase in phrases {
            assert!(
                extracted.text.contains(phrase),
                "{phrase} missing from {}",
                path.display()
            );
        }
    }
}

#[test]
fn reading_order_keeps_side_by_side_columns_apart() {
    // latex-notes page 28 shows LaTeX source beside its rendering; -layout mode interleaves the
    // two columns line by line, so the rendered 引文两端缩进，首行缩进 is found only once.
    let Some(dir) = corpus() else { return };
    let extracted = extract_timed(
        &dir.join("pdf/latex-notes-zh-cn.pdf"),
        &ExtractOptions::default(),
    )
    .expect("extracts");
    assert_eq!(extracted.pages, Some(107));
    // its seven blank pages carry no images, so none of them went to OCR
    assert_eq!(extracted.method, Method::PdfText);
    assert!(extracted.text.matches("引文两端缩进，首行缩进").count() >= 2);
    assert!(extracted.text.contains("引文两端缩进，第二行起缩进"));
}

#[test]
fn pdfs_with_blank_pages_or_type3_fonts_extract_without_ocr() {
    // ctex-faq: CJK fonts from dvipdfmx; debian-faq: Type 3 fonts, an English placeholder page
    let Some(dir) = corpus() else { return };
    let opts = ExtractOptions::default();
    let ctex = extract_timed(&dir.join("pdf/ctex-faq.pdf"), &opts).expect("extracts");
    assert_eq!((ctex.method, ctex.pages), (Method::PdfText, Some(41)));
    let han = ctex
        .text
        .chars()
        .filter(|&c| super::super::normalize::is_han(c))
        .count();
    assert!(han > 5_000, "{han} Han characters");
    let faq = extract_timed(&dir.join("pdf/debian-faq.zh-cn.pdf"), &opts).expect("extracts");
    assert_eq!((faq.method, faq.pages), (Method::PdfText, Some(1)));
    assert!(
        faq.text.contains("is currently not available"),
        "{}",
        faq.text
    );
}

#[test]
fn an_image_only_pdf_goes_through_ocr() {
    let Some(dir) = corpus() else { return };
    let temp = tempfile::tempdir().expect("temp dir");
    let pdf = temp.path().join("scan.pdf");
    image_only_pdf(&dir.join("scans/scan_sc.jpg"), &pdf);
    let extracted = extract_timed(&pdf, &ExtractOptions::default()).expect("extracts");
    assert_eq!(extracted.method, Method::PdfOcr);
    assert_eq!(extracted.pages, Some(1));
    assert!(!extracted.truncated);
    let truth = std::fs::read_to_string(dir.join("scans/truth_sc.txt")).expect("truth");
    let recall = han_recall(&truth, &extracted.text);
    eprintln!("scan.pdf (300 dpi): Han recall {recall:.3}");
    assert!(recall >= 0.8, "recall {recall}: {}", extracted.text);
}

#[test]
fn pages_past_the_ocr_limit_are_skipped_and_marked() {
    let Some(dir) = corpus() else { return };
    let temp = tempfile::tempdir().expect("temp dir");
    let pdf = temp.path().join("scan.pdf");
    image_only_pdf(&dir.join("scans/scan_sc.jpg"), &pdf);
    let opts = ExtractOptions {
        max_ocr_pages: 0,
        ..ExtractOptions::default()
    };
    let extracted = extract_file(&pdf, "application/pdf", &opts).expect("extracts");
    assert_eq!(extracted.method, Method::PdfText);
    assert!(extracted.truncated);
    assert!(extracted.text.is_empty());
    assert_eq!(extracted.warnings.len(), 1, "{:?}", extracted.warnings);
}

#[test]
fn a_corrupt_pdf_is_a_permanent_error() {
    let temp = tempfile::tempdir().expect("temp dir");
    for (name, bytes) in [
        (
            "garbage.pdf",
            &b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage"[..],
        ),
        ("not-a-pdf.pdf", &b"\x89PNG\r\n\x1a\n not a pdf at all"[..]),
        ("empty.pdf", &b""[..]),
    ] {
        let path = temp.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let error =
            extract_file(&path, "application/pdf", &ExtractOptions::default()).expect_err(name);
        assert!(
            matches!(error, ExtractError::Corrupt { .. }),
            "{name}: {error}"
        );
        assert!(error.is_permanent(), "{name}");
    }
}

#[test]
fn a_password_protected_pdf_is_a_permanent_encrypted_error() {
    let Some(dir) = corpus() else { return };
    let mut doc = Document::load(dir.join("pdf/debian-faq.zh-cn.pdf")).expect("load");
    let version = EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "secret",
        key_length: 128,
        permissions: Permissions::all(),
    };
    let state = EncryptionState::try_from(version).expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    let temp = tempfile::tempdir().expect("temp dir");
    let path = temp.path().join("secret.pdf");
    doc.save(&path).expect("save");
    let error =
        extract_file(&path, "application/pdf", &ExtractOptions::default()).expect_err("encrypted");
    assert!(matches!(error, ExtractError::Encrypted { .. }), "{error}");
    assert!(error.is_permanent());
}

#[test]
fn a_pdftotext_timeout_is_transient() {
    let Some([simplified, _]) = maint_guides() else {
        return;
    };
    let opts = ExtractOptions {
        timeout: std::time::Duration::from_millis(1),
        ..ExtractOptions::default()
    };
    let error = extract_file(&simplified, "application/pdf", &opts).expect_err("times out");
    assert!(
        matches!(
            error,
            ExtractError::Timeout {
                tool: Tool::Pdftotext,
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.is_permanent());
}

#[test]
fn inline_images_are_recognised_in_content_streams() {
    assert!(has_inline_image(
        b"q 100 0 0 100 0 0 cm\nBI /W 1 /H 1 ID x EI Q"
    ));
    assert!(!has_inline_image(b"BT (BIG) Tj ET"));
}

#[test]
fn a_text_layer_is_read_without_a_sandbox_child_and_scans_and_blank_pages_still_go_to_one() {
    let Some(dir) = corpus() else { return };
    let temp = tempfile::tempdir().expect("temp dir");
    // a sandbox whose program cannot start: only what needs no child of dangan's succeeds
    let sandbox = crate::extract::Sandbox::new(
        temp.path().join("no-dangan-here"),
        1 << 30,
        std::time::Duration::from_secs(60),
        temp.path().join("scratch"),
    );
    let opts = ExtractOptions::default();
    for name in ["maint-guide.zh-cn.pdf", "ctex-faq.pdf"] {
        let path = dir.join("pdf").join(name);
        let alone = sandbox
            .extract(&path, "application/pdf", &opts)
            .unwrap_or_else(|error| panic!("{name} is read by pdftotext alone: {error}"));
        let full = extract_file(&path, "application/pdf", &opts).expect("extracts");
        assert_eq!(
            alone, full,
            "{name}: the same text, method and pages either way"
        );
    }
    // a scan needs OCR, and a page with (nearly) no text may be one: the child decides
    let scan = temp.path().join("scan.pdf");
    image_only_pdf(&dir.join("scans/scan_sc.jpg"), &scan);
    let blank_pages = dir.join("pdf/latex-notes-zh-cn.pdf");
    let damaged = temp.path().join("damaged.pdf");
    std::fs::write(&damaged, b"%PDF-1.4\n1 0 obj << /Type /Catalog").expect("write");
    for path in [&scan, &blank_pages, &damaged] {
        let error = sandbox
            .extract(path, "application/pdf", &opts)
            .expect_err("only the child can");
        assert!(
            error
                .to_string()
                .contains("cannot start the sandbox program"),
            "{}: {error}",
            path.display()
        );
    }
}
