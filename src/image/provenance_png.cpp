// Provenance in PNG: an iTXt "XML:com.adobe.xmp" chunk (where the XMP spec puts XMP in PNG)
// and a "Comment" text chunk, both right after IHDR, where readers that stop early
// (thumbnailers, `file`) still see them.
//
// The comment is tEXt when the text is ASCII and iTXt otherwise: tEXt is Latin-1 only, but it
// is what every tool shows (ImageMagick 6 ignores iTXt altogether), and ASCII is both Latin-1
// and UTF-8, so the default text reaches the most readers and any other text stays exact.
//
// CRC-32: zlib's crc32 would do, but ff_image does not link zlib itself (it only reaches it
// through libpng inside OpenCV), so a small table-driven CRC, computed at compile time, keeps
// the layer's dependencies as they are.
#include <algorithm>
#include <array>
#include <cstring>
#include <limits>

#include "image/byte_reader.hpp"
#include "image/provenance_detail.hpp"

namespace facefuse::image::provenance {
namespace {

constexpr std::array<std::uint32_t, 256> kCrcTable = [] {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t n = 0; n < 256; ++n) {
        std::uint32_t c = n;
        for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    return table;
}();

std::uint32_t crc32(View bytes) {
    std::uint32_t c = 0xFFFFFFFFu;
    for (std::uint8_t b : bytes) c = kCrcTable[(c ^ b) & 0xFFu] ^ (c >> 8);
    return ~c;
}

void put_be32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// length, type, data, CRC over type + data.
void append_chunk(Bytes& out, std::string_view type, const Bytes& data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t crc_from = out.size();
    out.insert(out.end(), type.begin(), type.end());
    out.insert(out.end(), data.begin(), data.end());
    put_be32(out, crc32(View(out).subspan(crc_from)));
}

// iTXt data: keyword NUL, compression flag 0, method 0, empty language NUL, empty translated
// keyword NUL, then the UTF-8 text (uncompressed: it is short).
Bytes itxt(std::string_view keyword, std::string_view text) {
    Bytes data(keyword.begin(), keyword.end());
    data.insert(data.end(), {0, 0, 0, 0, 0});
    data.insert(data.end(), text.begin(), text.end());
    return data;
}

constexpr std::size_t kSignature = 8;
constexpr std::size_t kIhdrEnd = kSignature + 12 + 13;  // IHDR holds 13 bytes of data

}  // namespace

Status add_png(Bytes& png, std::string_view text) {
    const View b(png);
    if (!detail::has(b, kSignature, 8) || !detail::matches(b, kSignature + 4, "IHDR", 4) ||
        detail::be32(b, kSignature) != 13) {
        return broken("png", "does not start with an IHDR chunk");
    }
    Bytes chunks;
    append_chunk(chunks, "iTXt", itxt("XML:com.adobe.xmp", xmp_packet(text)));
    const bool ascii = std::all_of(text.begin(), text.end(),
                                   [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) {
        Bytes data = {'C', 'o', 'm', 'm', 'e', 'n', 't', 0};
        data.insert(data.end(), text.begin(), text.end());
        append_chunk(chunks, "tEXt", data);
    } else {
        append_chunk(chunks, "iTXt", itxt("Comment", text));
    }
    png.insert(png.begin() + kIhdrEnd, chunks.begin(), chunks.end());
    return Status::Ok();
}

Result<std::string> read_png(View b) {
    for (std::size_t pos = kSignature; detail::has(b, pos, 12);) {
        const std::uint32_t length = detail::be32(b, pos);
        if (length > std::numeric_limits<std::int32_t>::max() ||
            !detail::has(b, pos, 12 + std::size_t{length})) {
            return broken("png", "has a chunk running past its end");
        }
        const View data = b.subspan(pos + 8, length);
        const bool itxt_chunk = detail::matches(b, pos + 4, "iTXt", 4);
        const bool text_chunk = detail::matches(b, pos + 4, "tEXt", 4);
        constexpr std::string_view kKeyword("Comment\0", 8);
        if ((itxt_chunk || text_chunk) && data.size() >= kKeyword.size() &&
            std::memcmp(data.data(), kKeyword.data(), kKeyword.size()) == 0) {
            if (crc32(b.subspan(pos + 4, 4 + std::size_t{length})) !=
                detail::be32(b, pos + 8 + length)) {
                return broken("png", "Comment chunk fails its CRC");
            }
            std::size_t from = kKeyword.size();
            if (itxt_chunk) {
                // Compression flag and method, then language and translated keyword, each
                // NUL-terminated. Compressed text (flag 1) is not ours: skip it.
                if (data.size() < from + 2 || data[from] != 0) {
                    pos += 12 + std::size_t{length};
                    continue;
                }
                from += 2;
                for (int field = 0; field < 2; ++field) {
                    while (from < data.size() && data[from] != 0) ++from;
                    if (from >= data.size()) return broken("png", "has a malformed iTXt chunk");
                    ++from;
                }
            }
            return std::string(data.begin() + static_cast<std::ptrdiff_t>(from), data.end());
        }
        if (detail::matches(b, pos + 4, "IEND", 4)) break;
        pos += 12 + std::size_t{length};
    }
    return not_found("png");
}

}  // namespace facefuse::image::provenance
