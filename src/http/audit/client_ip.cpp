#include "http/audit/client_ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <optional>

namespace facefuse::http::audit {
namespace {

using Address = TrustedProxies::Address;

constexpr std::size_t kMaxHeaderBytes = 2048;  // tail of X-Forwarded-For that is read
constexpr int kMaxEntries = 32;                // no real proxy chain is longer
constexpr std::size_t kMaxEntryBytes = 64;     // "[v6 address]:port" fits easily

struct Parsed {
    Address address{};
    bool v4 = false;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_port(std::string_view s) {
    return !s.empty() && s.size() <= 5 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// inet_pton on a bounded copy (it wants a NUL-terminated string).
std::optional<Parsed> pton(std::string_view text, bool v4) {
    if (text.empty() || text.size() >= kMaxEntryBytes) return std::nullopt;
    // Only address characters: inet_pton would stop at an embedded NUL and accept the prefix.
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == '.' || c == ':';
    });
    if (!plain) return std::nullopt;
    char buf[kMaxEntryBytes];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    Parsed parsed;
    if (v4) {
        in_addr a{};
        if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
        parsed.address[10] = parsed.address[11] = 0xff;  // ::ffff:a.b.c.d
        std::memcpy(parsed.address.data() + 12, &a, 4);
        parsed.v4 = true;
    } else {
        in6_addr a{};
        if (inet_pton(AF_INET6, buf, &a) != 1) return std::nullopt;
        std::memcpy(parsed.address.data(), &a, 16);
    }
    return parsed;
}

// "1.2.3.4", "1.2.3.4:80", "::1", "[::1]", "[::1]:443".
std::optional<Parsed> parse_ip(std::string_view text, bool allow_port) {
    text = trim(text);
    if (text.empty() || text.size() >= kMaxEntryBytes) return std::nullopt;
    if (text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && !(allow_port && rest.front() == ':' && is_port(rest.substr(1)))) {
            return std::nullopt;
        }
        return pton(text.substr(1, close - 1), false);
    }
    const auto colons = std::count(text.begin(), text.end(), ':');
    if (colons == 0) return pton(text, true);
    if (colons == 1) {
        const std::size_t colon = text.find(':');
        if (!allow_port || !is_port(text.substr(colon + 1))) return std::nullopt;
        return pton(text.substr(0, colon), true);
    }
    return pton(text, false);
}

std::string canonical(const Address& address) {
    char buf[INET6_ADDRSTRLEN] = {};
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(address.data(), kMapped, sizeof kMapped) == 0) {
        if (inet_ntop(AF_INET, address.data() + 12, buf, sizeof buf) == nullptr) return {};
    } else {
        if (inet_ntop(AF_INET6, address.data(), buf, sizeof buf) == nullptr) return {};
    }
    return buf;
}

// What the OS gave as peer should always parse; if not, keep only address-like characters.
std::string filtered(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 64)) {
        const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '.' || c == ':' || c == '[' || c == ']' ||
                        c == '%';
        if (ok) out += c;
    }
    return out;
}

std::optional<std::pair<Address, int>> parse_range(std::string_view entry) {
    entry = trim(entry);
    const std::size_t slash = entry.find('/');
    const auto parsed = parse_ip(entry.substr(0, slash), false);
    if (!parsed) return std::nullopt;
    const int max_bits = parsed->v4 ? 32 : 128;
    int bits = max_bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = entry.substr(slash + 1);
        if (digits.empty() || digits.size() > 3 ||
            !std::all_of(digits.begin(), digits.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
            return std::nullopt;
        }
        bits = 0;
        for (char c : digits) bits = bits * 10 + (c - '0');
        if (bits > max_bits) return std::nullopt;
    }
    return std::pair{parsed->address, parsed->v4 ? bits + 96 : bits};
}

bool in_range(const Address& address, const Address& base, int bits) {
    const int whole = bits / 8;
    if (std::memcmp(address.data(), base.data(), static_cast<std::size_t>(whole)) != 0) {
        return false;
    }
    if (bits % 8 == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits % 8));
    return (address[whole] & mask) == (base[whole] & mask);
}

}  // namespace

Result<TrustedProxies> TrustedProxies::parse(const std::vector<std::string>& entries) {
    TrustedProxies proxies;
    try {
        for (const std::string& entry : entries) {
            const auto range = parse_range(entry);
            if (!range) {
                return make_error(ErrorCode::kUsage,
                                  "Trusted proxy '" + entry.substr(0, 64) +
                                      "' is neither an IP address nor a CIDR range (like "
                                      "10.0.0.5, ::1 or 10.0.0.0/8).");
            }
            proxies.ranges_.push_back(Range{range->first, range->second});
        }
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kInternal, std::string("Out of memory: ") + e.what());
    }
    return proxies;
}

TrustedProxies TrustedProxies::parse_lenient(const std::vector<std::string>& entries) {
    TrustedProxies proxies;
    try {
        for (const std::string& entry : entries) {
            if (const auto range = parse_range(entry)) {
                proxies.ranges_.push_back(Range{range->first, range->second});
            }
        }
    } catch (const std::exception&) {
        // Out of memory: fewer trusted proxies means the peer is believed, the safe side.
    }
    return proxies;
}

bool TrustedProxies::contains(const Address& address) const {
    return std::any_of(ranges_.begin(), ranges_.end(),
                       [&](const Range& r) { return in_range(address, r.base, r.prefix_bits); });
}

bool TrustedProxies::contains(std::string_view ip) const {
    const auto parsed = parse_ip(ip, true);
    return parsed && contains(parsed->address);
}

std::string client_ip(std::string_view peer_ip, std::string_view x_forwarded_for,
                      const TrustedProxies& trusted_proxies) {
    try {
        const auto peer = parse_ip(peer_ip, true);
        if (!peer) return filtered(peer_ip);
        if (!trusted_proxies.contains(peer->address)) return canonical(peer->address);

        std::string_view rest = x_forwarded_for;
        if (rest.size() > kMaxHeaderBytes) rest = rest.substr(rest.size() - kMaxHeaderBytes);
        Address client = peer->address;  // the furthest hop vouched for so far
        for (int n = 0; n < kMaxEntries && !trim(rest).empty(); ++n) {
            const std::size_t comma = rest.rfind(',');
            const std::string_view entry =
                comma == std::string_view::npos ? rest : rest.substr(comma + 1);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
            const auto hop = parse_ip(entry, true);
            if (!hop) break;  // unvouched beyond here: keep the last trusted hop
            client = hop->address;
            if (!trusted_proxies.contains(client)) break;
        }
        return canonical(client);
    } catch (...) {
        return {};  // only out of memory can get here
    }
}

std::string client_ip(std::string_view peer_ip, std::string_view x_forwarded_for,
                      const std::vector<std::string>& trusted_proxies) {
    return client_ip(peer_ip, x_forwarded_for, TrustedProxies::parse_lenient(trusted_proxies));
}

}  // namespace facefuse::http::audit
