#pragma once
// The opaque cursor of TaskStore::list() pages: the hex of "<created_at_ms>:<id>" of a page's
// last task. Hex keeps it URL-safe without escaping; both backends page by (created_at, id).
#include <cstdint>
#include <string>

namespace facefuse::tasks {

std::string encode_page_cursor(std::int64_t created_at_ms, const std::string& id);

// False for anything encode_page_cursor did not make (odd length, not hex, no id, bad number).
bool decode_page_cursor(const std::string& cursor, std::int64_t& created_at_ms, std::string& id);

}  // namespace facefuse::tasks
