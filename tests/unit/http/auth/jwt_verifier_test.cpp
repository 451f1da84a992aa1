// JwtVerifier against tokens made here with libjwt and a key pair made here with OpenSSL: the
// accepted shapes, and every forgery, expiry, confusion and malformation the service must refuse.
#include "http/auth/jwt_verifier.hpp"

#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace facefuse::http::auth {
namespace {

using nlohmann::json;
using Algorithm = JwtConfig::Algorithm;

constexpr std::int64_t kNow = 1'700'000'000;
const std::string kSecret = "0123456789abcdef0123456789abcdef-test-only";  // 42 bytes

struct JwtFree {
    void operator()(jwt_t* j) const { jwt_free(j); }
};
struct CFree {
    void operator()(char* p) const { std::free(p); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string bio_string(BIO* bio) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(n));
}

struct KeyPem {
    std::string private_pem, public_pem;
};

KeyPem pems(const Pkey& key) {
    std::unique_ptr<BIO, BioFree> priv(BIO_new(BIO_s_mem())), pub(BIO_new(BIO_s_mem()));
    EXPECT_EQ(
        PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr), 1);
    EXPECT_EQ(PEM_write_bio_PUBKEY(pub.get(), key.get()), 1);
    return {bio_string(priv.get()), bio_string(pub.get())};
}

// Made once: RSA key generation costs tens of milliseconds.
const KeyPem& rsa_keys() {
    static const KeyPem keys = pems(Pkey(EVP_RSA_gen(2048)));
    return keys;
}
const KeyPem& other_rsa_keys() {
    static const KeyPem keys = pems(Pkey(EVP_RSA_gen(2048)));
    return keys;
}

json good_claims() {
    return {{"sub", "alice@example.com"}, {"tenant", "acme"},  {"role", "user"},
            {"iss", "https://idp.test"},  {"aud", "facefuse"}, {"exp", kNow + 600},
            {"nbf", kNow - 10},           {"iat", kNow - 10}};
}

std::string sign(jwt_alg_t alg, std::string_view key, const json& claims,
                 const json& headers = json::object()) {
    jwt_t* raw = nullptr;
    EXPECT_EQ(jwt_new(&raw), 0);
    std::unique_ptr<jwt_t, JwtFree> jwt(raw);
    EXPECT_EQ(jwt_add_grants_json(jwt.get(), claims.dump().c_str()), 0);
    if (!headers.empty()) {
        EXPECT_EQ(jwt_add_headers_json(jwt.get(), headers.dump().c_str()), 0);
    }
    EXPECT_EQ(jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(key.data()),
                          static_cast<int>(key.size())),
              0);
    std::unique_ptr<char, CFree> token(jwt_encode_str(jwt.get()));
    EXPECT_TRUE(token);
    return token ? std::string(token.get()) : std::string();
}

std::string hs256(const json& claims = good_claims()) {
    return sign(JWT_ALG_HS256, kSecret, claims);
}
std::string rs256(const json& claims = good_claims()) {
    return sign(JWT_ALG_RS256, rsa_keys().private_pem, claims);
}

std::string base64url(std::string_view in) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

JwtConfig config(Algorithm algorithm = Algorithm::kHS256) {
    JwtConfig c;
    c.algorithm = algorithm;
    c.key = algorithm == Algorithm::kHS256 ? kSecret : rsa_keys().public_pem;
    c.issuer = "https://idp.test";
    c.audience = "facefuse";
    c.now_s = [] { return kNow; };
    return c;
}

JwtVerifier verifier(JwtConfig c = config()) {
    auto v = JwtVerifier::create(std::move(c));
    EXPECT_TRUE(v.ok()) << v.error().message;
    return std::move(v).value();
}

// Refused with 401, and the message leaks neither the token nor any of its segments.
void expect_refused(const JwtVerifier& v, const std::string& token,
                    std::string_view message_part = {}) {
    auto p = v.verify(token);
    ASSERT_FALSE(p.ok()) << "accepted: " << token;
    EXPECT_EQ(p.error().code, ErrorCode::kUnauthenticated) << p.error().message;
    EXPECT_EQ(error_info(p.error().code).http_status, 401);
    if (!message_part.empty()) {
        EXPECT_NE(p.error().message.find(message_part), std::string::npos) << p.error().message;
    }
    std::size_t start = 0;
    while (start < token.size()) {
        const std::size_t dot = std::min(token.find('.', start), token.size());
        const std::string_view segment = std::string_view(token).substr(start, dot - start);
        if (segment.size() >= 8) {
            EXPECT_EQ(p.error().message.find(segment), std::string::npos) << p.error().message;
        }
        start = dot + 1;
    }
}

json with(json claims, const std::string& key, json value) {
    claims[key] = std::move(value);
    return claims;
}
json without(json claims, const std::string& key) {
    claims.erase(key);
    return claims;
}

TEST(JwtVerifierTest, AcceptsValidHs256) {
    auto p = verifier().verify(hs256(with(good_claims(), "role", "vip")));
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->subject, "alice@example.com");
    EXPECT_EQ(p->tenant, "acme");
    EXPECT_EQ(p->role, Role::kVip);
}

TEST(JwtVerifierTest, AcceptsValidRs256) {
    auto p =
        verifier(config(Algorithm::kRS256)).verify(rs256(with(good_claims(), "role", "admin")));
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->role, Role::kAdmin);
    EXPECT_EQ(p->tenant, "acme");
}

TEST(JwtVerifierTest, RefusesAlteredPayload) {
    for (Algorithm alg : {Algorithm::kHS256, Algorithm::kRS256}) {
        const std::string token = alg == Algorithm::kHS256 ? hs256() : rs256();
        const std::size_t first = token.find('.'), second = token.rfind('.');
        const std::string forged = token.substr(0, first + 1) +
                                   base64url(with(good_claims(), "role", "admin").dump()) +
                                   token.substr(second);
        expect_refused(verifier(config(alg)), forged, "signature");
        // One flipped bit in the signature.
        std::string flipped = token;
        flipped[second + 2] = flipped[second + 2] == 'A' ? 'B' : 'A';
        expect_refused(verifier(config(alg)), flipped, "signature");
    }
}

TEST(JwtVerifierTest, RefusesWrongSecretOrKey) {
    expect_refused(verifier(),
                   sign(JWT_ALG_HS256, "another-secret-of-at-least-32-bytes!!", good_claims()),
                   "signature");
    expect_refused(verifier(config(Algorithm::kRS256)),
                   sign(JWT_ALG_RS256, other_rsa_keys().private_pem, good_claims()), "signature");
}

TEST(JwtVerifierTest, ExpiryAndNotBeforeWithLeeway) {
    const JwtVerifier v = verifier();  // leeway 60 s
    expect_refused(v, hs256(with(good_claims(), "exp", kNow - 61)), "expired");
    expect_refused(v, hs256(with(good_claims(), "exp", kNow - 60)), "expired");
    EXPECT_TRUE(v.verify(hs256(with(good_claims(), "exp", kNow - 59))).ok());
    EXPECT_TRUE(v.verify(hs256(with(good_claims(), "exp", kNow - 30))).ok());
    expect_refused(v, hs256(with(good_claims(), "nbf", kNow + 120)), "not valid yet");
    EXPECT_TRUE(v.verify(hs256(with(good_claims(), "nbf", kNow + 60))).ok());
    EXPECT_TRUE(v.verify(hs256(with(good_claims(), "nbf", kNow + 30))).ok());
    EXPECT_TRUE(v.verify(hs256(without(good_claims(), "nbf"))).ok());
    // NumericDate may be a non-integer number; anything else is refused.
    EXPECT_TRUE(v.verify(hs256(with(good_claims(), "exp", kNow + 0.5))).ok());
    expect_refused(v, hs256(with(good_claims(), "exp", std::to_string(kNow + 600))), "exp");
    expect_refused(v, hs256(with(good_claims(), "nbf", "yesterday")), "nbf");

    JwtConfig strict = config();
    strict.leeway = std::chrono::seconds(0);
    expect_refused(verifier(strict), hs256(with(good_claims(), "exp", kNow - 30)), "expired");
    expect_refused(verifier(strict), hs256(with(good_claims(), "exp", kNow)), "expired");
    EXPECT_TRUE(verifier(strict).verify(hs256(with(good_claims(), "exp", kNow + 1))).ok());
}

TEST(JwtVerifierTest, UsesTheInjectedClock) {
    JwtConfig c = config();
    c.now_s = [] { return kNow + 3600; };
    expect_refused(verifier(c), hs256(), "expired");
}

TEST(JwtVerifierTest, IssuerMustMatchWhenConfigured) {
    expect_refused(verifier(), hs256(with(good_claims(), "iss", "https://evil.test")), "issuer");
    expect_refused(verifier(), hs256(without(good_claims(), "iss")), "issuer");
    expect_refused(verifier(), hs256(with(good_claims(), "iss", json::array({"https://idp.test"}))),
                   "issuer");
    JwtConfig any = config();
    any.issuer.clear();
    EXPECT_TRUE(verifier(any).verify(hs256(with(good_claims(), "iss", "https://other.test"))).ok());
}

TEST(JwtVerifierTest, AudienceStringOrArray) {
    const JwtVerifier v = verifier();
    expect_refused(v, hs256(with(good_claims(), "aud", "someone-else")), "aud");
    expect_refused(v, hs256(without(good_claims(), "aud")), "aud");
    EXPECT_TRUE(
        v.verify(hs256(with(good_claims(), "aud", json::array({"other", "facefuse"})))).ok());
    expect_refused(v, hs256(with(good_claims(), "aud", json::array({"other", "facefuse2"}))),
                   "aud");
    expect_refused(v, hs256(with(good_claims(), "aud", json::array())), "aud");
    expect_refused(v, hs256(with(good_claims(), "aud", json::array({1, true}))), "aud");
    JwtConfig any = config();
    any.audience.clear();
    EXPECT_TRUE(verifier(any).verify(hs256(without(good_claims(), "aud"))).ok());
}

TEST(JwtVerifierTest, RefusesAlgNone) {
    const std::string header = base64url(R"({"alg":"none","typ":"JWT"})");
    const std::string payload = base64url(with(good_claims(), "role", "admin").dump());
    for (Algorithm alg : {Algorithm::kHS256, Algorithm::kRS256}) {
        expect_refused(verifier(config(alg)), header + "." + payload + ".", "none");
        // With some bytes where the signature goes, the pinned alg still refuses it.
        expect_refused(verifier(config(alg)), header + "." + payload + ".c2lnbmF0dXJl",
                       "only algorithm");
        expect_refused(verifier(config(alg)),
                       base64url(R"({"alg":"None"})") + "." + payload + ".c2ln");
        expect_refused(verifier(config(alg)),
                       base64url(R"({"typ":"JWT"})") + "." + payload + ".c2ln", "alg");
    }
}

TEST(JwtVerifierTest, RefusesHs256SignedWithThePublicKeyUnderRs256) {
    // The classic confusion: the attacker knows the public key and uses it as an HMAC secret.
    const std::string forged =
        sign(JWT_ALG_HS256, rsa_keys().public_pem, with(good_claims(), "role", "admin"));
    expect_refused(verifier(config(Algorithm::kRS256)), forged, "RS256");
}

TEST(JwtVerifierTest, RefusesRs256UnderHs256AndOtherAlgorithms) {
    expect_refused(verifier(), rs256(), "HS256");
    expect_refused(verifier(), sign(JWT_ALG_HS512, kSecret, good_claims()), "HS256");
    expect_refused(verifier(config(Algorithm::kRS256)),
                   sign(JWT_ALG_RS512, rsa_keys().private_pem, good_claims()), "RS256");
}

TEST(JwtVerifierTest, RefusesCriticalHeaderExtensions) {
    expect_refused(verifier(),
                   sign(JWT_ALG_HS256, kSecret, good_claims(), {{"crit", json::array({"exp"})}}),
                   "crit");
}

TEST(JwtVerifierTest, RefusesMissingClaims) {
    for (const char* claim : {"sub", "tenant", "role", "exp"})
        expect_refused(verifier(), hs256(without(good_claims(), claim)), claim);
    expect_refused(verifier(), hs256(with(good_claims(), "sub", "")), "sub");
    expect_refused(verifier(), hs256(with(good_claims(), "sub", 42)), "sub");
    expect_refused(verifier(), hs256(with(good_claims(), "sub", "alice\nlevel=admin")), "sub");
    expect_refused(verifier(), hs256(with(good_claims(), "sub", std::string(257, 'a'))), "sub");
    EXPECT_TRUE(verifier().verify(hs256(with(good_claims(), "sub", std::string(256, 'a')))).ok());
}

TEST(JwtVerifierTest, RefusesBadRoles) {
    for (const json& role :
         {json("Admin"), json("root"), json(""), json(2), json::array({"admin"}), json(nullptr)})
        expect_refused(verifier(), hs256(with(good_claims(), "role", role)), "role");
    for (const char* role : {"user", "vip", "admin"})
        EXPECT_TRUE(verifier().verify(hs256(with(good_claims(), "role", role))).ok()) << role;
}

TEST(JwtVerifierTest, TenantMustBeSafeInStorageKeys) {
    for (const json& tenant :
         {json("a/b"), json(".."), json("."), json(""), json(std::string(65, 'a')), json("ten ant"),
          json("acme\\x"), json("ümlaut"), json("a%2Fb"), json(7)})
        expect_refused(verifier(), hs256(with(good_claims(), "tenant", tenant)), "tenant");
    for (const std::string& tenant : {std::string("acme.corp_1-X"), std::string(64, 'z'),
                                      std::string("..."), std::string("a")}) {
        auto p = verifier().verify(hs256(with(good_claims(), "tenant", tenant)));
        ASSERT_TRUE(p.ok()) << tenant << ": " << p.error().message;
        EXPECT_EQ(p->tenant, tenant);
    }
}

TEST(JwtVerifierTest, RefusesGarbage) {
    const JwtVerifier v = verifier();
    const std::string good = hs256();
    for (const std::string& garbage : {std::string(),
                                       std::string("abc"),
                                       std::string("a.b"),
                                       std::string("a.b.c"),
                                       std::string(".."),
                                       std::string("..."),
                                       std::string("a..c"),
                                       std::string(".b.c"),
                                       std::string("a.b.c.d"),
                                       std::string("Bearer ") + good,
                                       good + " ",
                                       good + "=",
                                       good + ".",
                                       good + std::string(1, '\0') + "x",
                                       good.substr(0, good.size() - 5),
                                       std::string("eyJhbGciOiJIUzI1NiJ9.e30.x"),
                                       base64url("[1,2]") + ".e30.c2ln",
                                       base64url("{\"alg\":\"HS256\"") + ".e30.c2ln",
                                       std::string("A.e30.c2ln"),
                                       std::string("\xff\xfe.\x80.\x01")})
        expect_refused(v, garbage);
    // A well-signed token whose payload is not a JSON object.
    const std::string header = good.substr(0, good.find('.'));
    expect_refused(v, header + "." + base64url("[1]") + ".c2ln");
}

TEST(JwtVerifierTest, RefusesHugeTokensBeforeParsing) {
    const std::string huge = hs256(with(good_claims(), "pad", std::string(kMaxTokenBytes, 'x')));
    ASSERT_GT(huge.size(), kMaxTokenBytes);
    expect_refused(verifier(), huge, "longer than");
    expect_refused(verifier(), std::string(1 << 20, 'a'), "longer than");
    EXPECT_TRUE(verifier().verify(hs256(with(good_claims(), "pad", std::string(4000, 'x')))).ok());
}

TEST(JwtVerifierTest, CreateRefusesUnusableKeys) {
    auto refused = [](JwtConfig c, std::string_view part) {
        const std::string key = c.key;
        auto v = JwtVerifier::create(std::move(c));
        ASSERT_FALSE(v.ok());
        EXPECT_EQ(v.error().code, ErrorCode::kUsage);
        EXPECT_NE(v.error().message.find(part), std::string::npos) << v.error().message;
        // A slice from the middle: a PEM's "-----BEGIN" line is no secret, its body may be.
        if (key.size() >= 24) {
            EXPECT_EQ(v.error().message.find(key.substr(key.size() / 2, 12)), std::string::npos);
        }
    };
    JwtConfig c = config();
    c.key = "short-secret-1234567890123456789";  // 32 bytes is the minimum: 1 short of it
    c.key.pop_back();
    refused(c, "32 bytes");
    c.key = "";
    refused(c, "32 bytes");
    c.key = rsa_keys().public_pem;  // the public key as an HMAC secret
    refused(c, "PEM");

    c = config(Algorithm::kRS256);
    c.key = "not a pem at all, though long enough to pass any length check";
    refused(c, "PEM public key");
    c.key = rsa_keys().private_pem;  // never a private key
    refused(c, "PEM public key");
    c.key = "";
    refused(c, "PEM public key");
    c.key = pems(Pkey(EVP_EC_gen("P-256"))).public_pem;
    refused(c, "not an RSA key");
    c.key = pems(Pkey(EVP_RSA_gen(1024))).public_pem;
    refused(c, "2048");

    c = config();
    c.leeway = std::chrono::seconds(-1);
    refused(c, "leeway");
    c.leeway = kMaxLeeway + std::chrono::seconds(1);
    refused(c, "leeway");
}

TEST(JwtVerifierTest, DefaultClockIsTheSystemClock) {
    JwtConfig c = config();
    c.now_s = nullptr;
    const JwtVerifier v = verifier(c);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_TRUE(v.verify(hs256(with(with(good_claims(), "exp", now + 600), "nbf", now))).ok());
    expect_refused(v, hs256(), "expired");  // kNow is in 2023
}

TEST(JwtVerifierTest, ConcurrentVerifies) {
    const JwtVerifier hs = verifier();
    const JwtVerifier rs = verifier(config(Algorithm::kRS256));
    const std::string hs_good = hs256(), rs_good = rs256(),
                      bad = hs256(with(good_claims(), "exp", kNow - 3600));
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                if (!hs.verify(hs_good).ok() || !rs.verify(rs_good).ok() || hs.verify(bad).ok() ||
                    rs.verify(hs_good).ok())
                    ++failures[static_cast<std::size_t>(t)];
            }
        });
    for (auto& thread : threads) thread.join();
    for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(BearerTokenTest, ExtractsTheToken) {
    for (const char* header : {"Bearer abc.def.ghi", "bearer abc.def.ghi", "BEARER   abc.def.ghi",
                               " Bearer abc.def.ghi \t"}) {
        auto t = bearer_token(header);
        ASSERT_TRUE(t.ok()) << header;
        EXPECT_EQ(*t, "abc.def.ghi");
    }
    auto padded = bearer_token("Bearer a+b/c~d==");
    ASSERT_TRUE(padded.ok());
    EXPECT_EQ(*padded, "a+b/c~d==");
}

TEST(BearerTokenTest, RefusesOtherSchemesAndMalformedValues) {
    for (const char* header : {"", "   ", "Bearer", "Bearer ", "Bearerabc", "Basic dXNlcjpwYXNz",
                               "Token abc", "Bearer a b", "Bearer abc,def", "Bearer =abc",
                               "Bearer a=b", "Bearer \"abc\"", "Bear abc", "Bearer\tabc\x01"}) {
        auto t = bearer_token(header);
        ASSERT_FALSE(t.ok()) << header;
        EXPECT_EQ(t.error().code, ErrorCode::kUnauthenticated);
        EXPECT_NE(t.error().message.find("Bearer"), std::string::npos);
    }
    EXPECT_FALSE(bearer_token("Bearer " + std::string(kMaxTokenBytes + 100, 'a')).ok());
}

}  // namespace
}  // namespace facefuse::http::auth
