// libFuzzer target: hostile bearer tokens and Authorization headers. Whatever the bytes: no
// crash, no sanitizer report, and nothing but a well-formed Principal comes out. A fuzzer cannot
// forge an HMAC, so each input is also signed here as a token's payload, to reach libjwt's JSON
// parsing and the claim checks behind the signature.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/auth/jwt_verifier.hpp"

namespace {

using facefuse::http::auth::JwtConfig;
using facefuse::http::auth::JwtVerifier;
using facefuse::http::auth::Principal;

constexpr std::string_view kSecret = "facefuse-jwt-fuzz-secret-32bytes";  // 32 bytes, as the seeds use
constexpr std::int64_t kNow = 1'700'000'000;                             // the seeds expire in 2100

const JwtVerifier& verifier() {
    static const JwtVerifier v = [] {
        JwtConfig c;
        c.algorithm = JwtConfig::Algorithm::kHS256;
        c.key = std::string(kSecret);
        c.issuer = "https://idp.test";
        c.audience = "facefuse";
        c.now_s = [] { return kNow; };
        auto created = JwtVerifier::create(std::move(c));
        if (!created) std::abort();
        return std::move(created).value();
    }();
    return v;
}

std::string base64url(std::string_view in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char c : in) {
        buffer = (buffer << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
        }
    }
    if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
    return out;
}

// A correctly signed HS256 token whose payload is `claims`, whatever its bytes.
std::string signed_token(std::string_view claims) {
    std::string token = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
              reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &mac_len))
        std::abort();
    return token + "." + base64url(std::string_view(reinterpret_cast<const char*>(mac), mac_len));
}

void check(const facefuse::Result<Principal>& p) {
    if (!p) {
        if (p.error().code != facefuse::ErrorCode::kUnauthenticated) std::abort();
        return;
    }
    const std::string& t = p->tenant;
    if (t.empty() || t.size() > 64 || t == "." || t == ".." || p->subject.empty()) std::abort();
    for (char c : t)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    check(verifier().verify(input));
    auto token = facefuse::http::auth::bearer_token(input);
    if (token) {
        if (token->data() < input.data() || token->data() + token->size() > input.data() + input.size()) std::abort();
        check(verifier().verify(*token));
    } else if (token.error().code != facefuse::ErrorCode::kUnauthenticated) {
        std::abort();
    }
    if (size <= 4096) check(verifier().verify(signed_token(input)));
    return 0;
}
