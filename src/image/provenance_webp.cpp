// Provenance in WebP: an "XMP " chunk at the end of the file, flagged in a VP8X header.
//
// WebP has no comment chunk, so the text travels in the XMP's dc:description. Metadata chunks
// exist only in the extended layout, so a simple file (one VP8 or VP8L chunk, which is what
// the encoder writes) is promoted: a VP8X chunk with the canvas size taken from the bitstream
// goes in front of the image chunk. The image chunk itself is not touched.
#include <string>

#include "image/byte_reader.hpp"
#include "image/provenance_detail.hpp"

namespace facefuse::image::provenance {
namespace {

constexpr std::size_t kHeader = 12;  // "RIFF" size "WEBP"
constexpr std::uint8_t kAlphaFlag = 0x10;
constexpr std::uint8_t kXmpFlag = 0x04;

struct Chunk {
    std::size_t offset;  // of the FourCC
    std::string_view fourcc;
    View data;
};

void put_le(Bytes& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// The chunks inside the RIFF size, or an error when one runs past it. Chunk data is padded to
// an even length.
Result<std::vector<Chunk>> chunks_of(View b) {
    const std::size_t end = std::size_t{detail::le32(b, 4)} + 8;  // truncation_reason: <= size
    std::vector<Chunk> chunks;
    for (std::size_t pos = kHeader; pos < end;) {
        if (end - pos < 8) return broken("webp", "has a chunk header cut short");
        const std::size_t size = detail::le32(b, pos + 4);
        if (size > end - pos - 8) return broken("webp", "has a chunk running past its end");
        chunks.push_back({pos, std::string_view(reinterpret_cast<const char*>(b.data() + pos), 4),
                          b.subspan(pos + 8, size)});
        pos += 8 + size + (size & 1);
    }
    if (chunks.empty()) return broken("webp", "has no chunks");
    return chunks;
}

struct Canvas {
    std::uint32_t width = 0, height = 0;
    bool alpha = false;
};

// The canvas size of a simple file from its bitstream header (RFC 9649, sections 2.5-2.6).
Result<Canvas> canvas_of(const Chunk& image) {
    const View d = image.data;
    if (image.fourcc == "VP8 ") {
        // Frame tag (3 bytes), start code 9D 01 2A, then 14-bit width and height.
        if (d.size() < 10 || d[3] != 0x9D || d[4] != 0x01 || d[5] != 0x2A) {
            return broken("webp", "has a malformed VP8 header");
        }
        return Canvas{detail::le16(d, 6) & 0x3FFFu, detail::le16(d, 8) & 0x3FFFu, false};
    }
    if (image.fourcc == "VP8L") {
        // Signature 0x2F, then width-1 (14 bits), height-1 (14 bits), alpha_is_used (1 bit).
        if (d.size() < 5 || d[0] != 0x2F) return broken("webp", "has a malformed VP8L header");
        const std::uint32_t bits = detail::le32(d, 1);
        return Canvas{(bits & 0x3FFFu) + 1, ((bits >> 14) & 0x3FFFu) + 1, ((bits >> 28) & 1u) != 0};
    }
    return broken("webp", "starts with an unexpected chunk");
}

Bytes vp8x_chunk(const Canvas& canvas) {
    Bytes out = {'V', 'P', '8', 'X'};
    put_le(out, 10, 4);
    out.push_back(static_cast<std::uint8_t>(kXmpFlag | (canvas.alpha ? kAlphaFlag : 0)));
    out.insert(out.end(), {0, 0, 0});
    put_le(out, canvas.width - 1, 3);
    put_le(out, canvas.height - 1, 3);
    return out;
}

}  // namespace

Status add_webp(Bytes& webp, std::string_view text) {
    Result<std::vector<Chunk>> chunks = chunks_of(webp);
    if (!chunks.ok()) return chunks.error();
    for (const Chunk& c : *chunks) {
        if (c.fourcc == "XMP ") return broken("webp", "already carries XMP metadata");
    }
    const Chunk first = chunks->front();
    Bytes vp8x;
    if (first.fourcc == "VP8X") {
        if (first.data.size() < 10) return broken("webp", "has a VP8X chunk cut short");
    } else {
        Result<Canvas> canvas = canvas_of(first);
        if (!canvas.ok()) return canvas.error();
        if (canvas->width == 0 || canvas->height == 0) return broken("webp", "has no pixels");
        vp8x = vp8x_chunk(*canvas);
    }
    const std::string xmp = xmp_packet(text);
    Bytes xmp_chunk = {'X', 'M', 'P', ' '};
    put_le(xmp_chunk, static_cast<std::uint32_t>(xmp.size()), 4);
    xmp_chunk.insert(xmp_chunk.end(), xmp.begin(), xmp.end());
    if (xmp.size() & 1) xmp_chunk.push_back(0);

    // Bytes past the RIFF size (trailing junk) are dropped: the new RIFF size must be exact.
    const std::size_t riff_end = std::size_t{detail::le32(webp, 4)} + 8;
    webp.resize(riff_end);
    if (vp8x.empty()) {
        webp[first.offset + 8] |= kXmpFlag;  // the VP8X flags byte
    } else {
        webp.insert(webp.begin() + kHeader, vp8x.begin(), vp8x.end());
    }
    webp.insert(webp.end(), xmp_chunk.begin(), xmp_chunk.end());
    const auto riff_size = static_cast<std::uint32_t>(webp.size() - 8);
    for (int i = 0; i < 4; ++i) webp[4 + i] = static_cast<std::uint8_t>(riff_size >> (8 * i));
    return Status::Ok();
}

Result<std::string> read_webp(View b) {
    Result<std::vector<Chunk>> chunks = chunks_of(b);
    if (!chunks.ok()) return chunks.error();
    for (const Chunk& c : *chunks) {
        if (c.fourcc != "XMP ") continue;
        const std::string_view xmp(reinterpret_cast<const char*>(c.data.data()), c.data.size());
        if (std::optional<std::string> text = xmp_description(xmp)) return *std::move(text);
    }
    return not_found("webp");
}

}  // namespace facefuse::image::provenance
