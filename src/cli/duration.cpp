#include "cli/duration.hpp"

namespace facefuse::cli {

std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
    size_t used = 0;
    long long value = 0;
    try {
        value = std::stoll(text, &used);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (value < 0) return std::nullopt;
    const std::string unit = text.substr(used);
    if (unit == "ms") return std::chrono::milliseconds(value);
    if (unit == "s" || unit.empty()) return std::chrono::seconds(value);
    if (unit == "m") return std::chrono::minutes(value);
    if (unit == "h") return std::chrono::hours(value);
    return std::nullopt;
}

CLI::Validator duration_validator() {
    return CLI::Validator(
        [](std::string& s) {
            return parse_duration(s) ? std::string() : "'" + s + "' is not a duration: use e.g. 500ms, 30s, 10m, 24h";
        },
        "DURATION");
}

}  // namespace facefuse::cli
