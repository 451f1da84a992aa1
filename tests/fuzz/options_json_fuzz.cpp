// libFuzzer target: the `options` part of POST /v1/swaps, as hostile JSON. Whatever the bytes:
// no crash, no sanitizer report, and options that parse survive a round trip through their
// canonical form unchanged (the task record stores that form; a worker parses it again).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fusion/options_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    auto options = facefuse::fusion::parse_job_options(input);
    if (!options) return 0;
    const std::string canonical = facefuse::fusion::to_json(*options);
    auto again = facefuse::fusion::parse_job_options(canonical);
    if (!again || facefuse::fusion::to_json(*again) != canonical) std::abort();
    return 0;
}
