// Provenance markers: the checks every format shares (is the text writable, are the bytes a
// whole image of the format claimed), then the per-format writer (provenance_png.cpp,
// provenance_jpeg.cpp, provenance_webp.cpp).
#include "image/provenance.hpp"

#include <optional>

#include "image/detail.hpp"
#include "image/provenance_detail.hpp"

namespace facefuse::image {
namespace {

// Length of the UTF-8 sequence starting at text[i], or 0 when it is malformed (overlong,
// surrogate, beyond U+10FFFF, or cut short). iTXt and XMP must hold valid UTF-8.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char c = byte(i);
    // Lead byte -> sequence length and the allowed range of the second byte (RFC 3629).
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;  // no overlong forms
        if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;  // no overlong forms
        if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
    } else {
        return 0;  // continuation byte, C0/C1 (overlong) or F5..FF
    }
    if (text.size() - i < n) return 0;
    if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (std::size_t k = 2; k < n; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return n;
}

Status check_text(std::string_view text) {
    if (text.empty()) return make_error(ErrorCode::kUsage, "the provenance text is empty");
    if (text.size() > kMaxProvenanceTextBytes) {
        return make_error(ErrorCode::kUsage, "the provenance text is " +
                                                 std::to_string(text.size()) + " bytes; at most " +
                                                 std::to_string(kMaxProvenanceTextBytes) +
                                                 " are allowed");
    }
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        // XML 1.0 cannot carry C0 controls other than tab, LF and CR, NUL included.
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return make_error(
                ErrorCode::kUsage,
                "the provenance text holds a control character at byte " + std::to_string(i));
        }
        const std::size_t n = utf8_sequence(text, i);
        if (n == 0) {
            return make_error(ErrorCode::kUsage, "the provenance text is not valid UTF-8 at byte " +
                                                     std::to_string(i));
        }
        i += n;
    }
    return Status::Ok();
}

// The bytes must be a whole image of `format`: the writers rely on it.
Status check_bytes(std::span<const std::uint8_t> bytes, ImageFormat format) {
    const std::string name(format_name(format));
    if (sniff_format(bytes) != format) {
        return provenance::broken(name, "bytes are not a " + name + " image");
    }
    if (std::optional<std::string> why = detail::truncation_reason(bytes, format)) {
        return provenance::broken(name, "is incomplete: " + *why);
    }
    return Status::Ok();
}

}  // namespace

Status add_provenance_marker(std::vector<std::uint8_t>& encoded, ImageFormat format,
                             std::string_view text) {
    if (Status s = check_text(text); !s.ok()) return s;
    if (Status s = check_bytes(encoded, format); !s.ok()) return s;
    switch (format) {
        case ImageFormat::kPng:
            return provenance::add_png(encoded, text);
        case ImageFormat::kJpeg:
            return provenance::add_jpeg(encoded, text);
        case ImageFormat::kWebp:
            return provenance::add_webp(encoded, text);
        case ImageFormat::kBmp:
            return Status::Ok();  // BMP has nowhere to put metadata
    }
    return Status::Ok();
}

Result<std::string> read_provenance_marker(std::span<const std::uint8_t> encoded,
                                           ImageFormat format) {
    if (Status s = check_bytes(encoded, format); !s.ok()) return s.error();
    switch (format) {
        case ImageFormat::kPng:
            return provenance::read_png(encoded);
        case ImageFormat::kJpeg:
            return provenance::read_jpeg(encoded);
        case ImageFormat::kWebp:
            return provenance::read_webp(encoded);
        case ImageFormat::kBmp:
            return provenance::not_found("bmp");
    }
    return provenance::not_found(format_name(format));
}

}  // namespace facefuse::image
