// The text layer of a PDF through poppler's C++ interface, in the reading order that
// `pdftotext` prints by default (its output byte for byte: each page's text ends with a form
// feed). Called by the forked child of `dangan-pdftext`, one document per child.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace {
void quiet(const std::string &, void *) {}
}  // namespace

// Receives text as it is read: returns 0 to go on, anything else to stop.
extern "C" typedef int (*dangan_text_sink)(void *context, const char *text, size_t length);

namespace {
int read_pages(const char *data, size_t length, dangan_text_sink sink, void *context);
}  // namespace

extern "C" {

/// Silences poppler's messages on standard error (a damaged file is told by the result).
void dangan_pdf_quiet(void) { poppler::set_debug_error_function(quiet, nullptr); }

/// Reads the PDF `data` page by page into `sink`. Returns 0 when every page was read (or the
/// sink stopped), 1 when poppler cannot open the document (damaged), 2 when it is locked by
/// a password and 3 when reading it failed otherwise (memory ran out).
int dangan_pdf_text(const char *data, size_t length, dangan_text_sink sink, void *context) {
    try {
        return read_pages(data, length, sink, context);
    } catch (...) {
        return 3;  // out of memory, most likely: no exception may cross into Rust
    }
}
}

namespace {
int read_pages(const char *data, size_t length, dangan_text_sink sink, void *context) {
    if (length > static_cast<size_t>(INT32_MAX)) return 1;
    std::unique_ptr<poppler::document> document(
        poppler::document::load_from_raw_data(data, static_cast<int>(length)));
    if (!document) return 1;
    if (document->is_locked()) return 2;
    const int pages = document->pages();
    for (int index = 0; index < pages; ++index) {
        std::unique_ptr<poppler::page> page(document->create_page(index));
        if (!page) return 1;
        poppler::byte_array text =
            page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout).to_utf8();
        if (sink(context, text.data(), text.size()) != 0) return 0;
    }
    return 0;
}
}  // namespace
