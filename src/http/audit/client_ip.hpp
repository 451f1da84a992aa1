#pragma once
// Which address a request came from, for the audit stream and per-IP decisions.
//
// X-Forwarded-For is written by whoever sends the request, so it is believed only as far as a
// trusted proxy vouches for it: when the TCP peer is a trusted proxy, the header is read from
// the right (each proxy appends the address it saw) past every trusted proxy, and the first
// entry that is not one is the client. Anything to the left of that entry was written by the
// client and is ignored, so a spoofed left-most entry changes nothing. A malformed entry ends
// the walk at the last trusted proxy seen: stepping over it would mean believing entries that
// no trusted proxy vouched for. Answers are canonical text ("::ffff:10.0.0.1" reads
// "10.0.0.1", IPv6 compressed) so one client is one string in the logs.
//
// Pass every X-Forwarded-For field of the request joined with ", " (HTTP's rule for repeated
// fields): a trusted proxy appends to the last one.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace facefuse::http::audit {

// A set of trusted proxy addresses ("10.0.0.5", "::1") and CIDR ranges ("10.0.0.0/8",
// "fd00::/8"). IPv4 entries also match IPv4-mapped IPv6 peers.
class TrustedProxies {
  public:
    TrustedProxies() = default;  // trusts nobody: X-Forwarded-For is never read

    // kUsage naming the first entry that is neither an address nor a CIDR range.
    static Result<TrustedProxies> parse(const std::vector<std::string>& entries);
    // The same, skipping entries that do not parse.
    static TrustedProxies parse_lenient(const std::vector<std::string>& entries);

    // Whether `ip` (an address as client_ip accepts it) is trusted; false when malformed.
    bool contains(std::string_view ip) const;
    bool empty() const { return ranges_.empty(); }

    using Address = std::array<std::uint8_t, 16>;  // IPv4 as IPv4-mapped IPv6
    bool contains(const Address& address) const;

  private:
    struct Range {
        Address base;
        int prefix_bits;
    };
    std::vector<Range> ranges_;
};

// The client's address. `peer_ip` is the TCP peer; `x_forwarded_for` may be empty or
// garbage (at most its last 2 KiB and 32 entries are read; entries may carry a port, and IPv6
// ones brackets). Never throws; a peer that is not an address comes back filtered to address
// characters (at most 64).
std::string client_ip(std::string_view peer_ip, std::string_view x_forwarded_for,
                      const TrustedProxies& trusted_proxies);

// The same with the proxies as text (malformed entries ignored); parse TrustedProxies once at
// start-up instead where requests are many.
std::string client_ip(std::string_view peer_ip, std::string_view x_forwarded_for,
                      const std::vector<std::string>& trusted_proxies);

}  // namespace facefuse::http::audit
