#pragma once
// Bounds-checked reading of untrusted header bytes, shared by the hand-written header parsers.
// Internal to src/image/.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace facefuse::image::detail {

using Bytes = std::span<const std::uint8_t>;

// True when [offset, offset + n) lies inside b; written so that it cannot overflow.
inline bool has(Bytes b, std::size_t offset, std::size_t n) {
    return offset <= b.size() && n <= b.size() - offset;
}
inline bool matches(Bytes b, std::size_t offset, const char* magic, std::size_t n) {
    return has(b, offset, n) && std::memcmp(b.data() + offset, magic, n) == 0;
}

// The readers have the precondition has(b, o, width); callers check first.
inline std::uint32_t be16(Bytes b, std::size_t o) {
    return (b[o] << 8) | b[o + 1];
}
inline std::uint32_t be32(Bytes b, std::size_t o) {
    return (std::uint32_t{b[o]} << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}
inline std::uint32_t le16(Bytes b, std::size_t o) {
    return b[o] | (b[o + 1] << 8);
}
inline std::uint32_t le24(Bytes b, std::size_t o) {
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16);
}
inline std::uint32_t le32(Bytes b, std::size_t o) {
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (std::uint32_t{b[o + 3]} << 24);
}

// JPEG marker walking. next_jpeg_marker moves pos past the next marker and stores it; false
// when the bytes run out first. Like libjpeg it skips junk between segments and fill bytes.
inline bool next_jpeg_marker(Bytes b, std::size_t& pos, std::uint8_t& marker) {
    while (true) {
        while (pos < b.size() && b[pos] != 0xFF) ++pos;  // junk between segments
        while (pos < b.size() && b[pos] == 0xFF) ++pos;  // fill bytes
        if (pos >= b.size()) return false;
        const std::uint8_t m = b[pos++];
        if (m != 0x00) {  // FF 00 is a stuffed data byte, not a marker
            marker = m;
            return true;
        }
    }
}
inline bool is_standalone_marker(std::uint8_t m) {  // TEM, RST0..7, SOI: no length follows
    return m == 0x01 || (m >= 0xD0 && m <= 0xD8);
}
inline bool is_sof_marker(std::uint8_t m) {  // SOF0..15 minus DHT, JPG, DAC in the same range
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

}  // namespace facefuse::image::detail
