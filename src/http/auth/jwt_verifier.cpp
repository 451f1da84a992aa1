// JWT verification on top of libjwt 1.10. The order matters: cheap shape checks first (length,
// characters, three segments), then our own reading of the header's alg before any key is used,
// then libjwt's signature check, and only then the claims, which are untrusted until signed.
#include "http/auth/jwt_verifier.hpp"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

namespace facefuse::http::auth {
namespace {

using nlohmann::json;

struct JwtFree {
    void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
struct CFree {
    void operator()(char* p) const { std::free(p); }
};
struct BioFree {
    void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;
using CString = std::unique_ptr<char, CFree>;

constexpr std::size_t kMaxSubjectBytes = 256;
constexpr std::size_t kMaxTenantBytes = 64;
constexpr int kMinRsaBits = 2048;

Error unauthenticated(std::string message) { return make_error(ErrorCode::kUnauthenticated, std::move(message)); }

Error bad_token(std::string_view what) {
    return unauthenticated("The bearer token " + std::string(what) + ": send a token issued for this service.");
}

Error wrong_algorithm(JwtConfig::Algorithm expected) {
    return unauthenticated("The bearer token is not signed with " + std::string(algorithm_name(expected)) +
                           ", the only algorithm this service accepts: send a token issued for this service.");
}

bool is_base64url(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int base64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '-' ? 62 : 63;  // callers checked is_base64url
}

// Unpadded base64url (RFC 7515 section 2); nullopt for an impossible length.
std::optional<std::string> base64url_decode(std::string_view in) {
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(in.size() * 3 / 4);
    unsigned buffer = 0;
    int bits = 0;
    for (char c : in) {
        if (!is_base64url(c)) return std::nullopt;
        buffer = (buffer << 6) | static_cast<unsigned>(base64url_value(c));
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
        }
    }
    return out;
}

struct Segments {
    std::string_view header, payload, signature;
};

// header.payload.signature, base64url only. This also keeps NUL bytes away from libjwt, which
// reads a C string and would otherwise verify only the part before the NUL.
Result<Segments> split(std::string_view token) {
    if (token.empty()) return unauthenticated("No bearer token: send `Authorization: Bearer <token>`.");
    if (token.size() > kMaxTokenBytes)
        return bad_token("is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
    if (!std::all_of(token.begin(), token.end(), [](char c) { return c == '.' || is_base64url(c); }))
        return bad_token("is not a JWT (only base64url segments separated by dots are allowed)");
    const std::size_t first = token.find('.');
    const std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
    if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
        return bad_token("is not a JWT (it needs exactly three dot-separated segments)");
    Segments s{token.substr(0, first), token.substr(first + 1, second - first - 1), token.substr(second + 1)};
    if (s.header.empty() || s.payload.empty()) return bad_token("is not a JWT (a segment is empty)");
    if (s.signature.empty()) return bad_token("is unsigned (alg \"none\" is never accepted)");
    return s;
}

// Read before the key is used: libjwt would verify with whatever alg the token names, so an
// HS256 token "signed" with our RSA public key as HMAC secret would pass it.
Status check_header(std::string_view encoded, JwtConfig::Algorithm expected) {
    const auto bytes = base64url_decode(encoded);
    if (!bytes) return bad_token("has an undecodable header");
    const json header = json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
    if (!header.is_object()) return bad_token("has a header that is not a JSON object");
    const auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string()) return bad_token("has no `alg` in its header");
    if (alg->get_ref<const std::string&>() != algorithm_name(expected))
        return wrong_algorithm(expected);
    // RFC 7515 4.1.11: extensions we do not understand must make the token invalid.
    if (header.contains("crit")) return bad_token("has a `crit` header this service does not understand");
    return Status::Ok();
}

// A NumericDate (RFC 7519 section 2): any JSON number, integer or not.
std::optional<double> numeric_date(const json& claims, const char* name) {
    const auto it = claims.find(name);
    if (it == claims.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

bool audience_matches(const json& aud, std::string_view audience) {
    if (aud.is_string()) return aud.get_ref<const std::string&>() == audience;
    if (!aud.is_array()) return false;
    return std::any_of(aud.begin(), aud.end(), [&](const json& a) {
        return a.is_string() && a.get_ref<const std::string&>() == audience;
    });
}

const std::string* string_claim(const json& claims, const char* name) {
    const auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

bool valid_subject(std::string_view sub) {
    // Printable: the subject goes into logs and audit lines, where control bytes could forge lines.
    return !sub.empty() && sub.size() <= kMaxSubjectBytes &&
           std::none_of(sub.begin(), sub.end(), [](char c) {
               const auto u = static_cast<unsigned char>(c);
               return u < 0x20 || u == 0x7F;
           });
}

bool valid_tenant(std::string_view tenant) {
    // The tenant becomes part of storage keys and paths: no separators, and no "." or "..".
    if (tenant.empty() || tenant.size() > kMaxTenantBytes || tenant == "." || tenant == "..") return false;
    return std::all_of(tenant.begin(), tenant.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-';
    });
}

Result<Principal> check_claims(const json& claims, const JwtConfig& config, std::int64_t now_s) {
    const double now = static_cast<double>(now_s);
    const double leeway = static_cast<double>(config.leeway.count());
    const auto exp = numeric_date(claims, "exp");
    if (!exp) return bad_token("has no numeric `exp` claim (tokens must expire)");
    if (now >= *exp + leeway) return unauthenticated("The bearer token has expired: get a new one.");
    if (claims.contains("nbf")) {
        const auto nbf = numeric_date(claims, "nbf");
        if (!nbf) return bad_token("has an `nbf` claim that is not a number");
        if (now + leeway < *nbf)
            return unauthenticated("The bearer token is not valid yet (`nbf` is in the future): check the clocks.");
    }
    if (!config.issuer.empty()) {
        const std::string* iss = string_claim(claims, "iss");
        if (!iss || *iss != config.issuer) return bad_token("was not issued by the issuer this service trusts");
    }
    if (!config.audience.empty()) {
        const auto aud = claims.find("aud");
        if (aud == claims.end() || !audience_matches(*aud, config.audience))
            return bad_token("is not meant for this service (`aud` does not name it)");
    }
    const std::string* sub = string_claim(claims, "sub");
    if (!sub || !valid_subject(*sub))
        return bad_token("needs a `sub` claim: a non-empty printable string of at most 256 bytes");
    const std::string* tenant = string_claim(claims, "tenant");
    if (!tenant || !valid_tenant(*tenant))
        return bad_token("needs a `tenant` claim of 1 to 64 characters from A-Z a-z 0-9 . _ - (not \".\" or \"..\")");
    const std::string* role_text = string_claim(claims, "role");
    const std::optional<Role> role = role_text ? parse_role(*role_text) : std::nullopt;
    if (!role) return bad_token("needs a `role` claim of \"user\", \"vip\" or \"admin\"");
    return Principal{*sub, *tenant, *role};
}

jwt_alg_t libjwt_alg(JwtConfig::Algorithm algorithm) {
    return algorithm == JwtConfig::Algorithm::kRS256 ? JWT_ALG_RS256 : JWT_ALG_HS256;
}

Status check_rsa_public_key(std::string_view pem) {
    const std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    const std::unique_ptr<EVP_PKEY, PkeyFree> key(
        bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();  // OpenSSL's per-thread error queue must not leak into unrelated calls
    if (!key)
        return make_error(ErrorCode::kUsage,
                          "The JWT public key is not a PEM public key (\"-----BEGIN PUBLIC KEY-----\"): give the "
                          "issuer's RSA public key, never a private key or certificate.");
    if (EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA)
        return make_error(ErrorCode::kUsage, "The JWT public key is not an RSA key: RS256 needs one.");
    if (EVP_PKEY_get_bits(key.get()) < kMinRsaBits)
        return make_error(ErrorCode::kUsage, "The JWT public key is shorter than 2048 bits: use a stronger RSA key.");
    return Status::Ok();
}

Status check_hmac_secret(std::string_view secret) {
    if (secret.size() < kMinHmacSecretBytes)
        return make_error(ErrorCode::kUsage, "The JWT secret is shorter than " + std::to_string(kMinHmacSecretBytes) +
                                                 " bytes, too weak for HS256: use at least 32 random bytes.");
    // A public key given as the HMAC secret lets anyone who has it forge tokens.
    if (secret.find("-----BEGIN") != std::string_view::npos)
        return make_error(ErrorCode::kUsage,
                          "The JWT secret looks like a PEM key: for RS256 give it as the public key file instead.");
    return Status::Ok();
}

}  // namespace

std::string_view algorithm_name(JwtConfig::Algorithm algorithm) {
    return algorithm == JwtConfig::Algorithm::kRS256 ? "RS256" : "HS256";
}

Result<JwtVerifier> JwtVerifier::create(JwtConfig config) {
    try {
        if (config.leeway < std::chrono::seconds(0) || config.leeway > kMaxLeeway)
            return make_error(ErrorCode::kUsage, "The JWT leeway must be between 0 and " +
                                                     std::to_string(kMaxLeeway.count()) + " seconds.");
        if (config.key.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))  // libjwt takes int
            return make_error(ErrorCode::kUsage, "The JWT key is too large.");
        Status key_ok = config.algorithm == JwtConfig::Algorithm::kRS256 ? check_rsa_public_key(config.key)
                                                                         : check_hmac_secret(config.key);
        if (!key_ok) return key_ok.error();
        return JwtVerifier(std::move(config));
    } catch (const std::exception&) {
        return make_error(ErrorCode::kInternal, "The JWT verifier could not be set up.");
    }
}

std::int64_t JwtVerifier::now() const {
    if (config_.now_s) return config_.now_s();
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Result<Principal> JwtVerifier::verify(std::string_view token) const {
    try {
        auto segments = split(token);
        if (!segments) return segments.error();
        if (Status header = check_header(segments->header, config_.algorithm); !header) return header.error();

        const std::string token_c(token);  // libjwt wants a NUL-terminated string
        jwt_t* raw = nullptr;
        const int rc = jwt_decode(&raw, token_c.c_str(), reinterpret_cast<const unsigned char*>(config_.key.data()),
                                  static_cast<int>(config_.key.size()));
        const JwtPtr jwt(raw);
        ERR_clear_error();
        if (rc != 0 || !jwt) return bad_token("has an invalid signature or is malformed");
        // Our header reading and libjwt's must agree on the alg the signature was checked with.
        if (jwt_get_alg(jwt.get()) != libjwt_alg(config_.algorithm))
            return wrong_algorithm(config_.algorithm);

        const CString grants(jwt_get_grants_json(jwt.get(), nullptr));
        if (!grants) return bad_token("has no claims");
        const json claims = json::parse(grants.get(), nullptr, /*allow_exceptions=*/false);
        if (!claims.is_object()) return bad_token("has claims that are not a JSON object");
        return check_claims(claims, config_, now());
    } catch (const std::exception&) {  // bad_alloc, or a throwing now_s
        return make_error(ErrorCode::kInternal, "The bearer token could not be checked.");
    }
}

Result<std::string_view> bearer_token(std::string_view header) {
    constexpr std::string_view kHint = "send `Authorization: Bearer <token>`.";
    auto is_space = [](char c) { return c == ' ' || c == '\t'; };
    while (!header.empty() && is_space(header.front())) header.remove_prefix(1);
    while (!header.empty() && is_space(header.back())) header.remove_suffix(1);
    if (header.empty()) return unauthenticated("No bearer token: " + std::string(kHint));
    if (header.size() > kMaxTokenBytes + 64)
        return unauthenticated("The Authorization header is too long: " + std::string(kHint));

    constexpr std::string_view kScheme = "bearer";
    const bool scheme_ok =
        header.size() > kScheme.size() && is_space(header[kScheme.size()]) &&
        std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                   [](char a, char b) { return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b); });
    if (!scheme_ok) return unauthenticated("The Authorization header does not use the Bearer scheme: " + std::string(kHint));
    header.remove_prefix(kScheme.size());
    while (!header.empty() && is_space(header.front())) header.remove_prefix(1);

    // RFC 6750 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding.
    const std::size_t body = header.find_first_not_of(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");
    const std::size_t padding = body == std::string_view::npos ? body : header.find_first_not_of('=', body);
    if (header.empty() || body == 0 || padding != std::string_view::npos)
        return unauthenticated("The Authorization header holds no well-formed bearer token: " + std::string(kHint));
    return header;
}

}  // namespace facefuse::http::auth
