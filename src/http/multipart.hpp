#pragma once
// multipart/form-data (RFC 7578) parsing of a body already in memory. Hand-written because
// Boost.Beast parses HTTP but not multipart bodies; it is a small, bounded state machine over
// string_views (no copies of the file bytes) and a fuzz target covers it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace facefuse::http {

struct Part {
    std::string name;          // form field name
    std::string filename;      // empty when not a file
    std::string content_type;  // as the client sent it (never trusted for the format)
    std::string_view data;     // points into the body passed to parse_multipart
};

// The boundary parameter of a multipart/form-data Content-Type, or nullopt if the type is not
// multipart/form-data or has no usable boundary (1..70 chars).
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Splits `body` into parts. Errors (kUsage, saying what is malformed): no opening boundary, a
// part without headers end or without a name, no closing boundary, more than `max_parts`.
Result<std::vector<Part>> parse_multipart(std::string_view body, std::string_view boundary,
                                          int max_parts = 16);

}  // namespace facefuse::http
