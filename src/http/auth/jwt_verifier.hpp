#pragma once
// Bearer-token authentication: turns an `Authorization: Bearer <JWT>` header into a Principal.
//
// libjwt 1.10 checks the signature only, and with whatever algorithm the token's own header
// names; so this class pins the algorithm (refusing `alg: none` and HS256-with-the-RSA-public-
// key confusion) and checks exp, nbf, iss, aud and the facefuse claims itself. Every failure is
// kUnauthenticated (HTTP 401) with a message that says what to fix and never echoes the token.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "common/result.hpp"
#include "http/auth/principal.hpp"

namespace facefuse::http::auth {

inline constexpr std::size_t kMaxTokenBytes = 8 * 1024;     // longer tokens are refused unparsed
inline constexpr std::size_t kMinHmacSecretBytes = 32;      // RFC 7518 3.2: key >= hash size
inline constexpr std::chrono::seconds kMaxLeeway{300};

struct JwtConfig {
    enum class Algorithm { kHS256, kRS256 };
    Algorithm algorithm = Algorithm::kHS256;
    std::string key;       // HS256: the shared secret bytes; RS256: the RSA public key, PEM
    std::string issuer;    // required `iss`; empty = not checked
    std::string audience;  // required in `aud` (a string or an array of strings); empty = not checked
    std::chrono::seconds leeway{60};   // clock skew allowed on exp and nbf, 0..kMaxLeeway
    std::function<std::int64_t()> now_s;  // seconds since the epoch; empty = the system clock
};

std::string_view algorithm_name(JwtConfig::Algorithm algorithm);  // "HS256", "RS256"

class JwtVerifier {
public:
    // kUsage (naming the problem, never the key) when the key is unusable: an HS256 secret under
    // kMinHmacSecretBytes or that is a PEM file, an RS256 key that is not an RSA public key
    // PEM of at least 2048 bits; or a leeway outside 0..kMaxLeeway.
    static Result<JwtVerifier> create(JwtConfig config);

    // The caller the token speaks for. Needs: the configured alg in the header, a valid
    // signature, `exp` (number; now < exp + leeway), `nbf` if present (nbf <= now + leeway),
    // iss and aud as configured, `sub` (non-empty, printable, <= 256 bytes), `tenant`
    // ([A-Za-z0-9._-]{1,64}, not "." or ".."), `role` ("user", "vip" or "admin").
    // Safe to call from many threads at once (as long as now_s is).
    Result<Principal> verify(std::string_view token) const;

    JwtConfig::Algorithm algorithm() const { return config_.algorithm; }

private:
    explicit JwtVerifier(JwtConfig config) : config_(std::move(config)) {}
    std::int64_t now() const;

    JwtConfig config_;
};

// The token of an `Authorization` header value: scheme "Bearer" (any case), then the token
// (RFC 6750 b64token chars). The view points into `authorization_header`. kUnauthenticated if
// the header is empty, another scheme, or malformed.
Result<std::string_view> bearer_token(std::string_view authorization_header);

}  // namespace facefuse::http::auth
