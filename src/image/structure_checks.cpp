// Cheap structural checks that run after the header parsed and before any decoder: is the
// file a variant OpenCV cannot decode, and is it cut short? Truncated uploads then get a
// precise message and never reach a decoder that would print to stderr or hand back a
// grey-padded image. Each check reads only headers or chunk lengths (at most one pass over
// the bytes) and errs towards "fine": whatever it lets through must still survive the decoder.
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>

#include "image/byte_reader.hpp"
#include "image/detail.hpp"

namespace facefuse::image::detail {
namespace {

std::optional<std::string> jpeg_truncation(Bytes b) {
    // Walk the header segments by length: an EXIF thumbnail is a whole JPEG inside APP1, and
    // its EOI must not count.
    std::size_t pos = 2;
    std::uint8_t m = 0;
    while (true) {
        if (!next_jpeg_marker(b, pos, m)) return "the JPEG data ends before its image data";
        if (is_standalone_marker(m)) continue;
        if (m == 0xD9) return "the JPEG has no image data";
        if (m == 0xDA) break;
        if (!has(b, pos, 2)) return "the JPEG is truncated inside its header";
        const std::size_t length = be16(b, pos);
        if (length < 2 || !has(b, pos, length)) return "the JPEG is truncated inside its header";
        pos += length;
    }
    // Entropy-coded data never contains FF D9 (0xFF is stuffed as FF 00), so any FF D9 after
    // the first scan header is the real EOI. Bytes after it (camera trailers) are fine.
    const std::uint8_t* p = b.data() + pos;
    const std::uint8_t* const end = b.data() + b.size();
    while (p < end) {
        p = static_cast<const std::uint8_t*>(std::memchr(p, 0xFF, static_cast<size_t>(end - p)));
        if (p == nullptr || end - p < 2) break;
        if (p[1] == 0xD9) return std::nullopt;
        ++p;
    }
    return "the JPEG data ends before its end-of-image marker";
}

std::optional<std::string> png_truncation(Bytes b) {
    // Chunks are length(4) type(4) data(length) crc(4); every step moves at least 12 bytes.
    std::size_t pos = 8;
    while (has(b, pos, 8)) {
        const std::uint32_t length = be32(b, pos);
        if (length > std::numeric_limits<std::int32_t>::max()) {
            return "the PNG has a chunk with an impossible length";
        }
        const std::size_t chunk_size = 12 + std::size_t{length};
        if (!has(b, pos, chunk_size)) break;
        if (matches(b, pos + 4, "IEND", 4)) return std::nullopt;
        pos += chunk_size;
    }
    return "the PNG data ends before its IEND chunk";
}

std::optional<std::string> webp_truncation(Bytes b) {
    // OpenCV 4.6 refuses WebP buffers under 32 bytes (with a message on stderr); no complete
    // WebP image is that small.
    constexpr std::size_t kOpenCvMinimum = 32;
    if (b.size() < kOpenCvMinimum) return "the WebP data is too short";
    // The RIFF size counts everything after itself; libwebp refuses files shorter than that.
    if (!has(b, 4, 4) || std::uint64_t{le32(b, 4)} + 8 > b.size()) {
        return "the WebP data ends before the length its header gives";
    }
    return std::nullopt;
}

std::optional<std::string> bmp_truncation(Bytes b) {
    if (!has(b, 14, 4)) return "the BMP header is truncated";
    const std::uint32_t header_size = le32(b, 14);
    if (!has(b, 14, header_size)) return "the BMP header is truncated";
    std::uint64_t width = 0, height = 0, bpp = 0;
    if (header_size == 12) {
        width = le16(b, 18);
        height = le16(b, 20);
        bpp = le16(b, 24);
    } else if (header_size >= 40) {
        width = le32(b, 18) & 0x7FFFFFFFu;  // peek_dimensions has refused negative widths
        const auto h = static_cast<std::int32_t>(le32(b, 22));
        height = h < 0 ? 0 - static_cast<std::uint64_t>(std::int64_t{h}) : std::uint64_t(h);
        bpp = le16(b, 28);
        if (bpp <= 8) {  // a palette of 4-byte entries follows the header
            const std::uint32_t used = le32(b, 46);
            if (used > 256) return "the BMP palette size is impossible";
            const std::uint64_t entries = used != 0 ? used : std::uint64_t{1} << bpp;
            if (!has(b, 14 + std::size_t{header_size}, entries * 4)) {
                return "the BMP palette is cut short";
            }
        }
        // Only uncompressed rows have a size we can compute; RLE is left to the decoder.
        constexpr std::uint32_t kRgb = 0, kBitfields = 3;
        const std::uint32_t compression = le32(b, 30);
        if (compression != kRgb && compression != kBitfields) return std::nullopt;
    } else {
        return std::nullopt;  // peek_dimensions reports odd headers
    }
    if (bpp == 15) bpp = 16;  // OpenCV reads 15-bit rows as 16-bit ones
    if (bpp == 0 || bpp > 32) return std::nullopt;
    // Rows are padded to 4 bytes. width < 2^31 and bpp <= 32, so the stride fits in 64 bits;
    // the division keeps stride * height from overflowing.
    const std::uint64_t stride = (width * bpp + 31) / 32 * 4;
    if (height != 0 && stride > b.size() / height) return "the BMP pixel data ends early";
    if (std::uint64_t{le32(b, 10)} + stride * height > b.size()) {
        return "the BMP pixel data ends early";
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> unsupported_variant(std::span<const std::uint8_t> bytes,
                                               ImageFormat format) {
    if (format == ImageFormat::kWebp) {
        // VP8X flags: bit 1 marks an animation; OpenCV 4.6 decodes only still WebP.
        constexpr std::uint8_t kAnimation = 0x02;
        if (matches(bytes, 12, "VP8X", 4) && has(bytes, 20, 1) && (bytes[20] & kAnimation)) {
            return "an animated WebP";
        }
    }
    if (format == ImageFormat::kBmp) {
        // OpenCV 4.6 reads BI_RGB, BI_RLE8, BI_RLE4 and BI_BITFIELDS (0..3) and asserts on the
        // rest (embedded JPEG or PNG, alpha bitfields, CMYK variants).
        if (has(bytes, 14, 20) && le32(bytes, 14) >= 40 && le32(bytes, 30) > 3) {
            return "a BMP with a compression method facefuse cannot read";
        }
    }
    return std::nullopt;
}

std::optional<std::string> truncation_reason(std::span<const std::uint8_t> bytes,
                                             ImageFormat format) {
    switch (format) {
        case ImageFormat::kJpeg:
            return jpeg_truncation(bytes);
        case ImageFormat::kPng:
            return png_truncation(bytes);
        case ImageFormat::kWebp:
            return webp_truncation(bytes);
        case ImageFormat::kBmp:
            return bmp_truncation(bytes);
    }
    return std::nullopt;
}

}  // namespace facefuse::image::detail
