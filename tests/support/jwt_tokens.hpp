#pragma once
// Tokens for tests of authentication, made with libjwt as an issuer would make them.
#include <jwt.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

namespace facefuse::test {

// A secret long enough for HS256 (32 bytes or more) and the issuer/audience the tests use.
inline const std::string kTestJwtSecret = "facefuse-test-secret-0123456789abcdef";
inline const std::string kTestJwtIssuer = "facefuse-test";
inline const std::string kTestJwtAudience = "facefuse";

struct TokenClaims {
    std::string subject = "alice";
    std::string tenant = "acme";
    std::string role = "user";
    std::string issuer = kTestJwtIssuer;
    std::string audience = kTestJwtAudience;
    std::int64_t expires_in_s = 3600;  // negative: already expired
};

inline std::string make_hs256_token(const TokenClaims& claims, const std::string& secret = kTestJwtSecret) {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) return {};
    std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
    jwt_add_grant(jwt.get(), "sub", claims.subject.c_str());
    jwt_add_grant(jwt.get(), "tenant", claims.tenant.c_str());
    jwt_add_grant(jwt.get(), "role", claims.role.c_str());
    jwt_add_grant(jwt.get(), "iss", claims.issuer.c_str());
    jwt_add_grant(jwt.get(), "aud", claims.audience.c_str());
    jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(std::time(nullptr) + claims.expires_in_s));
    jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                static_cast<int>(secret.size()));
    std::unique_ptr<char, decltype(&std::free)> token(jwt_encode_str(jwt.get()), std::free);
    return token ? std::string(token.get()) : std::string();
}

inline std::string bearer(const std::string& token) { return "Authorization: Bearer " + token; }

}  // namespace facefuse::test
