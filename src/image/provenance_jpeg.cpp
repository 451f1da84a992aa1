// Provenance in JPEG: an APP1 XMP segment and a COM segment, inserted after the leading APPn
// segments. JFIF (APP0) and Exif (APP1) must come first for readers that check only the
// start of the file, and ICC profiles (APP2) stay with them; the marker follows.
#include <string>

#include "image/byte_reader.hpp"
#include "image/provenance_detail.hpp"

namespace facefuse::image::provenance {
namespace {

constexpr std::size_t kMaxSegmentData = 65533;  // the 16-bit length counts its own 2 bytes
constexpr std::string_view kXmpNamespace("http://ns.adobe.com/xap/1.0/\0", 29);

bool is_app(std::uint8_t marker) {
    return marker >= 0xE0 && marker <= 0xEF;
}

Status append_segment(Bytes& out, std::uint8_t marker, std::string_view head,
                      std::string_view body) {
    const std::size_t size = head.size() + body.size();
    if (size > kMaxSegmentData) return broken("jpeg", "marker does not fit in one segment");
    const std::size_t length = size + 2;
    out.insert(out.end(), {0xFF, marker, static_cast<std::uint8_t>(length >> 8),
                           static_cast<std::uint8_t>(length & 0xFF)});
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), body.begin(), body.end());
    return Status::Ok();
}

}  // namespace

Status add_jpeg(Bytes& jpeg, std::string_view text) {
    const View b(jpeg);
    // SOI, then segments FF xx LL LL; stop at the first that is not APPn.
    std::size_t pos = 2;
    while (detail::has(b, pos, 4) && b[pos] == 0xFF && is_app(b[pos + 1])) {
        const std::size_t length = detail::be16(b, pos + 2);
        if (length < 2 || !detail::has(b, pos + 2, length)) {
            return broken("jpeg", "has an APP segment running past its end");
        }
        pos += 2 + length;
    }
    if (!detail::has(b, pos, 2) || b[pos] != 0xFF) {
        return broken("jpeg", "has no marker after its APP segments");
    }
    Bytes segments;
    if (Status s = append_segment(segments, 0xE1, kXmpNamespace, xmp_packet(text)); !s.ok()) {
        return s;
    }
    if (Status s = append_segment(segments, 0xFE, {}, text); !s.ok()) return s;
    jpeg.insert(jpeg.begin() + static_cast<std::ptrdiff_t>(pos), segments.begin(), segments.end());
    return Status::Ok();
}

Result<std::string> read_jpeg(View b) {
    std::size_t pos = 2;
    std::uint8_t marker = 0;
    while (detail::next_jpeg_marker(b, pos, marker)) {
        if (detail::is_standalone_marker(marker)) continue;
        if (marker == 0xDA || marker == 0xD9) break;  // image data: no more header segments
        if (!detail::has(b, pos, 2)) break;
        const std::size_t length = detail::be16(b, pos);
        if (length < 2 || !detail::has(b, pos, length)) {
            return broken("jpeg", "has a segment running past its end");
        }
        if (marker == 0xFE) {
            const auto* data = reinterpret_cast<const char*>(b.data() + pos + 2);
            return std::string(data, length - 2);
        }
        pos += length;
    }
    return not_found("jpeg");
}

}  // namespace facefuse::image::provenance
