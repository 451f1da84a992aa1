#include "tasks/redis/redis_url.hpp"

#include <charconv>
#include <optional>

namespace facefuse::tasks::redis {
namespace {

Error bad_url(std::string_view why) {
    return make_error(ErrorCode::kUsage,
                      "invalid Redis URL: " + std::string(why) +
                          "; expected redis://[[user]:password@]host[:port][/db]");
}

std::optional<int> parse_int(std::string_view s, int min, int max) {
    int value = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || value < min ||
        value > max) {
        return std::nullopt;
    }
    return value;
}

// Passwords may hold '@', ':' or '/' percent-encoded, as in any URL.
std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out.push_back(s[i]);
            continue;
        }
        int byte = 0;
        if (i + 2 >= s.size()) return std::nullopt;
        const auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, byte, 16);
        if (ec != std::errc() || end != s.data() + i + 3) return std::nullopt;
        out.push_back(static_cast<char>(byte));
        i += 2;
    }
    return out;
}

}  // namespace

Result<RedisUrl> RedisUrl::parse(std::string_view url) {
    constexpr std::string_view kScheme = "redis://";
    if (url.substr(0, kScheme.size()) != kScheme) {
        return bad_url(url.substr(0, 8) == "rediss:/" ? "TLS (rediss://) is not supported"
                                                      : "it must start with redis://");
    }
    std::string_view rest = url.substr(kScheme.size());
    if (rest.find_first_of("?#") != std::string_view::npos) return bad_url("no query or fragment");
    RedisUrl out;
    // The last '@' ends the credentials, so an unencoded '@' in a password still works.
    if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        const size_t colon = userinfo.find(':');
        if (colon == std::string_view::npos) return bad_url("credentials must be [user]:password");
        auto user = percent_decode(userinfo.substr(0, colon));
        auto password = percent_decode(userinfo.substr(colon + 1));
        if (!user || !password) return bad_url("bad percent-encoding in the credentials");
        out.user = std::move(*user);
        out.password = std::move(*password);
    }
    std::string_view hostport = rest;
    if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
        hostport = rest.substr(0, slash);
        const std::string_view db = rest.substr(slash + 1);
        if (!db.empty()) {
            const auto n = parse_int(db, 0, 1 << 20);
            if (!n) return bad_url("the database must be a number");
            out.db = *n;
        }
    }
    std::string_view port;
    if (!hostport.empty() && hostport.front() == '[') {  // [IPv6]:port
        const size_t close = hostport.find(']');
        if (close == std::string_view::npos) return bad_url("unclosed '[' in the host");
        out.host = std::string(hostport.substr(1, close - 1));
        const std::string_view after = hostport.substr(close + 1);
        if (!after.empty() && after.front() != ':') return bad_url("junk after the host");
        if (!after.empty()) port = after.substr(1);
    } else {
        const size_t colon = hostport.rfind(':');
        out.host = std::string(hostport.substr(0, colon));
        if (colon != std::string_view::npos) port = hostport.substr(colon + 1);
    }
    if (out.host.empty()) return bad_url("the host is missing");
    if (!port.empty() || hostport.find(':') != std::string_view::npos) {
        const auto n = parse_int(port, 1, 65535);
        if (!n) return bad_url("the port must be a number from 1 to 65535");
        out.port = *n;
    }
    return out;
}

std::string RedisUrl::endpoint() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" + std::to_string(db);
}

}  // namespace facefuse::tasks::redis
