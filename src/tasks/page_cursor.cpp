#include "tasks/page_cursor.hpp"

#include <charconv>

namespace facefuse::tasks {

std::string encode_page_cursor(std::int64_t created_at_ms, const std::string& id) {
    static constexpr char kHex[] = "0123456789abcdef";
    const std::string plain = std::to_string(created_at_ms) + ":" + id;
    std::string out;
    out.reserve(plain.size() * 2);
    for (unsigned char c : plain) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

bool decode_page_cursor(const std::string& cursor, std::int64_t& created_at_ms, std::string& id) {
    if (cursor.size() % 2 != 0) return false;
    std::string plain;
    for (size_t i = 0; i < cursor.size(); i += 2) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(cursor.data() + i, cursor.data() + i + 2, value, 16);
        if (ec != std::errc() || end != cursor.data() + i + 2) return false;
        plain.push_back(static_cast<char>(value));
    }
    const size_t colon = plain.find(':');
    if (colon == std::string::npos || colon + 1 == plain.size()) return false;
    const auto [end, ec] = std::from_chars(plain.data(), plain.data() + colon, created_at_ms);
    if (ec != std::errc() || end != plain.data() + colon) return false;
    id = plain.substr(colon + 1);
    return true;
}

}  // namespace facefuse::tasks
