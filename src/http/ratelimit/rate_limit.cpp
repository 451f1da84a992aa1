#include "http/ratelimit/rate_limit.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace facefuse::http::ratelimit {
namespace {

constexpr double kMaxRate = 1e6;   // beyond this a limit is no limit; a typo more likely
constexpr double kMaxBurst = 1e9;  // keeps token arithmetic exact in a double

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const char x = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
        if (x != b[i]) return false;
    }
    return true;
}

// A plain decimal number ("20", "0.5"); no sign, exponent, inf or nan, all of it consumed.
std::optional<double> parse_number(std::string_view s) {
    if (s.empty()) return std::nullopt;
    double value = 0;
    const auto [end, ec] =
        std::from_chars(s.data(), s.data() + s.size(), value, std::chars_format::fixed);
    if (ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(value) || value < 0) {
        return std::nullopt;
    }
    return value;
}

Error usage(std::string_view text, std::string_view why) {
    return make_error(ErrorCode::kUsage,
                      "Invalid rate limit '" + std::string(text.substr(0, 64)) +
                          "': " + std::string(why) +
                          ". Use RPS:BURST, e.g. '20:40' (20 requests a second, bursts of 40) or "
                          "'0.5:1', or 'off' to disable.");
}

std::string format_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

}  // namespace

Result<RateLimit> parse_rate_limit(std::string_view text) {
    const std::string_view s = trim(text);
    if (equals_ignoring_case(s, "off")) return RateLimit{};
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos) {
        const auto single = parse_number(s);
        if (single && *single == 0) return RateLimit{};
        return usage(text, single ? "the burst is missing" : "not a number");
    }
    const auto rate = parse_number(trim(s.substr(0, colon)));
    const auto burst = parse_number(trim(s.substr(colon + 1)));
    if (!rate) return usage(text, "RPS is not a non-negative decimal number");
    if (!burst) return usage(text, "BURST is not a non-negative decimal number");
    if (*rate == 0) return usage(text, "RPS must be above 0 (write 'off' to disable)");
    if (*rate > kMaxRate) return usage(text, "RPS is over 1000000");
    if (*burst < 1) return usage(text, "BURST must be at least 1 (one request)");
    if (*burst > kMaxBurst) return usage(text, "BURST is over 1000000000");
    return RateLimit{*rate, *burst};
}

std::string format_rate_limit(const RateLimit& limit) {
    if (!limit.enabled()) return "off";
    return format_number(limit.rate_per_s) + ":" + format_number(limit.burst);
}

}  // namespace facefuse::http::ratelimit
