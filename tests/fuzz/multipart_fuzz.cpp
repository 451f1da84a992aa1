// libFuzzer target: hostile multipart bodies and Content-Type headers. Whatever the bytes: no
// crash, no sanitizer report, and every part's data lies inside the body it came from.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fusion/options_json.hpp"
#include "http/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    // First line: a Content-Type header; the rest: the body.
    const size_t eol = input.find('\n');
    const std::string_view header = input.substr(0, eol);
    const std::string_view body = eol == std::string_view::npos ? std::string_view() : input.substr(eol + 1);
    const auto boundary = facefuse::http::multipart_boundary(header);
    auto parts = facefuse::http::parse_multipart(body, boundary.value_or("b"));
    if (parts) {
        for (const auto& part : *parts) {
            if (part.data.data() < body.data() || part.data.data() + part.data.size() > body.data() + body.size())
                std::abort();
            // The options part goes through the JSON options parser in the real server.
            if (part.name == "options") (void)facefuse::fusion::parse_job_options(part.data);
        }
    }
    (void)facefuse::fusion::parse_job_options(input);
    return 0;
}
