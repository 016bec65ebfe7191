//! `dangan-pdftext`: reads the text layers of PDFs with poppler's library, for the server,
//! which keeps a few of these running (`dangan::extract::text_server`). Each document is
//! read by a child forked from this process and bounded as a `pdftotext` run is; the fork
//! skips what makes `pdftotext` cost what it does on a one-page file: starting a process,
//! loading and relocating poppler and reading its configuration, about two thirds of its
//! time. Its output is `pdftotext`'s, byte for byte.
//!
//! Built without poppler-cpp (see build.rs) it says so and exits, and the server runs
//! `pdftotext` per file instead.

fn main() -> std::process::ExitCode {
    #[cfg(dangan_poppler)]
    {
        poppler::quiet();
        dangan::extract::text_server::serve(poppler::read)
    }
    #[cfg(not(dangan_poppler))]
    {
        eprintln!(
            "dangan-pdftext was built without poppler-cpp: install libpoppler-cpp-dev and \
             pkg-config, then build again"
        );
        std::process::ExitCode::from(dangan::extract::text_server::NOT_BUILT)
    }
}

/// The reader in poppler.cpp.
#[cfg(dangan_poppler)]
mod poppler {
    #![expect(
        unsafe_code,
        reason = "the C++ reader is called through its C interface; it reads only the slice \
                  it is given and calls back with slices it owns for the call"
    )]

    use std::ffi::{c_char, c_int, c_void};

    use dangan::extract::text_server::{Read, Sink};

    type RawSink = extern "C" fn(*mut c_void, *const c_char, usize) -> c_int;

    unsafe extern "C" {
        fn dangan_pdf_quiet();
        fn dangan_pdf_text(
            data: *const c_char,
            length: usize,
            sink: RawSink,
            context: *mut c_void,
        ) -> c_int;
    }

    /// Silences poppler's messages.
    pub fn quiet() {
        // SAFETY: sets a process-wide callback to a function of poppler.cpp.
        unsafe { dangan_pdf_quiet() }
    }

    /// Reads `pdf`'s text layer into `sink`, page by page.
    pub fn read(pdf: &[u8], sink: &mut dyn Sink) -> Read {
        extern "C" fn forward(context: *mut c_void, text: *const c_char, length: usize) -> c_int {
            // SAFETY: `context` is the `&mut &mut dyn Sink` passed below, alive for the call.
            let sink = unsafe { &mut *context.cast::<&mut dyn Sink>() };
            // SAFETY: poppler.cpp passes a buffer of `length` bytes that it owns for the call.
            let text = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), length) };
            c_int::from(!sink.take(text))
        }
        let mut sink = sink;
        let context = (&raw mut sink).cast::<c_void>();
        // SAFETY: `pdf` is valid for its length; `context` outlives the call.
        match unsafe { dangan_pdf_text(pdf.as_ptr().cast(), pdf.len(), forward, context) } {
            0 => Read::Whole,
            2 => Read::Locked,
            _ => Read::Damaged,
        }
    }
}
