#include "http/multipart.hpp"

#include <algorithm>
#include <cctype>

namespace facefuse::http {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Value of `param` in a header like `form-data; name="source"; filename="a.jpg"`.
std::optional<std::string> header_param(std::string_view header, std::string_view param) {
    size_t pos = 0;
    while (pos < header.size()) {
        size_t semi = header.find(';', pos);
        if (semi == std::string_view::npos) semi = header.size();
        std::string_view item = trim(header.substr(pos, semi - pos));
        pos = semi + 1;
        const size_t eq = item.find('=');
        if (eq == std::string_view::npos) continue;
        if (lower(trim(item.substr(0, eq))) != param) continue;
        std::string_view value = trim(item.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return std::string(value);
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
    const std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
    if (type != "multipart/form-data") return std::nullopt;
    auto boundary = header_param(content_type, "boundary");
    if (!boundary || boundary->empty() || boundary->size() > 70) return std::nullopt;
    return boundary;
}

Result<std::vector<Part>> parse_multipart(std::string_view body, std::string_view boundary, int max_parts) {
    const std::string delimiter = "--" + std::string(boundary);
    size_t pos = body.find(delimiter);
    if (pos == std::string_view::npos)
        return make_error(ErrorCode::kUsage, "multipart body does not start with its boundary");
    std::vector<Part> parts;
    pos += delimiter.size();
    while (true) {
        if (body.substr(pos, 2) == "--") return parts;  // closing delimiter
        if (body.substr(pos, 2) != "\r\n")
            return make_error(ErrorCode::kUsage, "multipart boundary is not followed by CRLF");
        pos += 2;
        const size_t headers_end = body.find("\r\n\r\n", pos);
        if (headers_end == std::string_view::npos)
            return make_error(ErrorCode::kUsage, "multipart part has no end of headers");
        Part part;
        std::string_view headers = body.substr(pos, headers_end - pos);
        while (!headers.empty()) {
            const size_t eol = headers.find("\r\n");
            const std::string_view line = headers.substr(0, eol);
            headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
            const size_t colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            const std::string key = lower(trim(line.substr(0, colon)));
            const std::string_view value = trim(line.substr(colon + 1));
            if (key == "content-disposition") {
                part.name = header_param(value, "name").value_or("");
                part.filename = header_param(value, "filename").value_or("");
            } else if (key == "content-type") {
                part.content_type = std::string(value);
            }
        }
        if (part.name.empty())
            return make_error(ErrorCode::kUsage, "multipart part without a name in Content-Disposition");
        const size_t data_start = headers_end + 4;
        const size_t next = body.find("\r\n" + delimiter, data_start);
        if (next == std::string_view::npos)
            return make_error(ErrorCode::kUsage, "multipart body has no closing boundary (truncated upload?)");
        part.data = body.substr(data_start, next - data_start);
        parts.push_back(std::move(part));
        if (static_cast<int>(parts.size()) > max_parts)
            return make_error(ErrorCode::kUsage, "too many multipart parts (at most " + std::to_string(max_parts) + ")");
        pos = next + 2 + delimiter.size();
    }
}

}  // namespace facefuse::http
