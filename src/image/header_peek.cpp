// Image dimensions from headers alone, written by hand.
//
// Why by hand: OpenCV 4.6 has no header-only size query (cv::imdecode allocates and decodes the
// whole image; the ImageDecoder classes that read headers are not public API), and we must
// know the size before anything allocates, so a 30000x30000 PNG costs microseconds and no
// memory. The parsers read a few dozen bytes, check every offset against the span before
// reading it, and never allocate. They are deliberately no stricter than the real decoders
// (libjpeg tolerates junk between JPEG segments, so do we): anything they let through still
// goes to the real decoder, and decode.cpp checks the decoded size against what we peeked.
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

#include "image/byte_reader.hpp"
#include "image/decode.hpp"

namespace facefuse::image {
namespace {

using namespace detail;  // byte readers

Error invalid(std::string what) {
    return make_error(ErrorCode::kInvalidImage, std::move(what));
}
Error not_format(std::string_view name) {
    return make_error(ErrorCode::kUnsupportedFormat,
                      "the bytes are not a " + std::string(name) + " file");
}

Result<cv::Size> peek_png(Bytes b) {
    if (!matches(b, 0, "\x89PNG\r\n\x1A\n", 8)) return not_format("PNG");
    // The PNG spec requires IHDR to be the first chunk: length(4) type(4) width(4) height(4).
    if (!has(b, 8, 16)) return invalid("the PNG header is truncated");
    if (!matches(b, 12, "IHDR", 4)) return invalid("the PNG does not start with an IHDR chunk");
    if (be32(b, 8) != 13) return invalid("the PNG IHDR chunk has the wrong length");
    const std::uint32_t w = be32(b, 16);
    const std::uint32_t h = be32(b, 20);
    if (w == 0 || h == 0) return invalid("the PNG header gives a zero width or height");
    constexpr std::uint32_t kMax = std::numeric_limits<std::int32_t>::max();  // spec limit
    if (w > kMax || h > kMax) return invalid("the PNG header gives a width or height over 2^31-1");
    return cv::Size(static_cast<int>(w), static_cast<int>(h));
}

Result<cv::Size> peek_jpeg(Bytes b) {
    if (!matches(b, 0, "\xFF\xD8\xFF", 3)) return not_format("JPEG");
    std::size_t pos = 2;
    std::uint8_t m = 0;
    // Every pass consumes at least one byte, so this ends within b.size() passes.
    while (true) {
        if (!next_jpeg_marker(b, pos, m)) return invalid("the JPEG ends before its frame header");
        if (is_standalone_marker(m)) continue;
        if (m == 0xD9 || m == 0xDA) return invalid("the JPEG has no frame header");
        if (!has(b, pos, 2)) return invalid("the JPEG is truncated inside its header");
        const std::size_t length = be16(b, pos);  // counts itself, not the marker
        if (length < 2) return invalid("the JPEG has a segment with an impossible length");
        if (is_sof_marker(m)) {
            // length(2) precision(1) height(2) width(2)
            if (length < 8 || !has(b, pos, 7)) return invalid("the JPEG frame header is truncated");
            const std::uint32_t h = be16(b, pos + 3);
            const std::uint32_t w = be16(b, pos + 5);
            // Height 0 means "defined later by a DNL marker", which libjpeg does not support.
            if (w == 0 || h == 0) return invalid("the JPEG frame header gives a zero dimension");
            return cv::Size(static_cast<int>(w), static_cast<int>(h));
        }
        if (!has(b, pos, length)) return invalid("the JPEG is truncated inside its header");
        pos += length;
    }
}

Result<cv::Size> peek_webp(Bytes b) {
    if (!matches(b, 0, "RIFF", 4) || !matches(b, 8, "WEBP", 4)) return not_format("WebP");
    // RIFF size(4) "WEBP", then the first chunk: fourcc(4) size(4) payload at offset 20.
    constexpr std::size_t kPayload = 20;
    if (!has(b, 12, 8)) return invalid("the WebP header is truncated");
    if (matches(b, 12, "VP8 ", 4)) {  // lossy: frame tag(3) start code(3) w(2) h(2)
        if (!has(b, kPayload, 10)) return invalid("the WebP VP8 header is truncated");
        if ((b[kPayload] & 1) != 0) return invalid("the WebP VP8 data is not a key frame");
        if (!matches(b, kPayload + 3, "\x9D\x01\x2A", 3)) {
            return invalid("the WebP VP8 start code is missing");
        }
        // The top two bits of each are an upscaling hint, not part of the size.
        const std::uint32_t w = le16(b, kPayload + 6) & 0x3FFF;
        const std::uint32_t h = le16(b, kPayload + 8) & 0x3FFF;
        if (w == 0 || h == 0) return invalid("the WebP VP8 header gives a zero dimension");
        return cv::Size(static_cast<int>(w), static_cast<int>(h));
    }
    if (matches(b, 12, "VP8L", 4)) {  // lossless: signature 0x2F, then 14-bit w-1, 14-bit h-1
        if (!has(b, kPayload, 5)) return invalid("the WebP VP8L header is truncated");
        if (b[kPayload] != 0x2F) return invalid("the WebP VP8L signature is missing");
        const std::uint32_t bits = le32(b, kPayload + 1);
        if ((bits >> 29) != 0) return invalid("the WebP VP8L version is unknown");
        const int w = static_cast<int>(bits & 0x3FFF) + 1;
        const int h = static_cast<int>((bits >> 14) & 0x3FFF) + 1;
        return cv::Size(w, h);
    }
    if (matches(b, 12, "VP8X", 4)) {  // extended: flags(1) reserved(3) 24-bit w-1, 24-bit h-1
        if (!has(b, kPayload, 10)) return invalid("the WebP VP8X header is truncated");
        const int w = static_cast<int>(le24(b, kPayload + 4)) + 1;
        const int h = static_cast<int>(le24(b, kPayload + 7)) + 1;
        return cv::Size(w, h);
    }
    return invalid("the WebP does not start with a VP8, VP8L or VP8X chunk");
}

Result<cv::Size> peek_bmp(Bytes b) {
    if (!matches(b, 0, "BM", 2)) return not_format("BMP");
    // File header(14), then the DIB header, whose first field is its own size.
    if (!has(b, 14, 4)) return invalid("the BMP header is truncated");
    const std::uint32_t header_size = le32(b, 14);
    if (header_size == 12) {  // BITMAPCOREHEADER: unsigned 16-bit width and height
        if (!has(b, 18, 4)) return invalid("the BMP header is truncated");
        const std::uint32_t w = le16(b, 18);
        const std::uint32_t h = le16(b, 20);
        if (w == 0 || h == 0) return invalid("the BMP header gives a zero dimension");
        return cv::Size(static_cast<int>(w), static_cast<int>(h));
    }
    if (header_size >= 40) {  // BITMAPINFOHEADER and its V4/V5 extensions: signed 32-bit
        if (!has(b, 18, 8)) return invalid("the BMP header is truncated");
        const auto w = static_cast<std::int32_t>(le32(b, 18));
        const auto h = static_cast<std::int32_t>(le32(b, 22));  // negative: rows run top-down
        if (w <= 0 || h == 0) return invalid("the BMP header gives a zero or negative size");
        if (h == std::numeric_limits<std::int32_t>::min()) {
            return invalid("the BMP header gives an impossible height");
        }
        return cv::Size(w, h < 0 ? -h : h);
    }
    return invalid("the BMP header has an unknown size (" + std::to_string(header_size) + ")");
}

}  // namespace

Result<cv::Size> peek_dimensions(std::span<const std::uint8_t> bytes, ImageFormat format) {
    switch (format) {
        case ImageFormat::kJpeg:
            return peek_jpeg(bytes);
        case ImageFormat::kPng:
            return peek_png(bytes);
        case ImageFormat::kWebp:
            return peek_webp(bytes);
        case ImageFormat::kBmp:
            return peek_bmp(bytes);
    }
    return make_error(ErrorCode::kInternal, "unknown image format value");
}

}  // namespace facefuse::image
