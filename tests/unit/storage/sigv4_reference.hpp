#pragma once
// An independent AWS Signature Version 4 signer, for tests only.
//
// Production requests are signed by libcurl (CURLOPT_AWS_SIGV4); curl 7.88 reproduces AWS's
// published S3 examples (s3_sigv4_test.cpp). But s3rver, the S3 peer of the integration tests,
// does not check V4 signatures at all, so nothing there would notice a request the store signs
// wrongly (a header curl signs but does not send, a key encoded differently in the URL and the
// signature). This signer is checked against all four AWS examples itself and then re-signs the
// store's real requests as captured on the wire; the two must agree. It is deliberately written
// from the AWS documentation, not from curl: canonical request -> string to sign -> HMAC chain.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace facefuse::test::sigv4 {

struct Input {
    std::string method;         // "GET"
    std::string canonical_uri;  // the URI path exactly as sent (S3 does not re-encode it)
    std::string query;          // raw query string without '?', "" if none
    std::vector<std::pair<std::string, std::string>> headers;  // those to sign
    std::string payload_hash;  // hex sha256 of the body (the x-amz-content-sha256 value)
    std::string amz_date;      // "20130524T000000Z"
    std::string region = "us-east-1";
    std::string service = "s3";
    std::string secret_key;
};

inline std::string hex(const unsigned char* data, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(kHex[data[i] >> 4]);
        out.push_back(kHex[data[i] & 0xF]);
    }
    return out;
}

inline std::string sha256_hex(std::string_view s) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(s.data(), s.size(), digest, &n, EVP_sha256(), nullptr);
    return hex(digest, n);
}

inline std::string hmac(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
    return std::string(reinterpret_cast<const char*>(out), n);
}

inline std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Trims and collapses runs of spaces, as the canonical header value requires.
inline std::string canonical_value(std::string_view v) {
    std::string out;
    for (const char c : v) {
        if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
        out.push_back(c);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// Parameters sorted by name, each as "name=value" (an empty value keeps its '=').
inline std::string canonical_query(std::string_view query) {
    std::vector<std::string> params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        std::string param(query.substr(0, amp));
        if (param.find('=') == std::string::npos) param += '=';
        params.push_back(std::move(param));
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
    std::sort(params.begin(), params.end());
    std::string out;
    for (const auto& p : params) out += (out.empty() ? "" : "&") + p;
    return out;
}

inline std::string signed_headers(const Input& in) {
    std::vector<std::string> names;
    for (const auto& h : in.headers) names.push_back(lower(h.first));
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ";") + n;
    return out;
}

inline std::string canonical_request(const Input& in) {
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& [name, value] : in.headers)
        headers.emplace_back(lower(name), canonical_value(value));
    std::sort(headers.begin(), headers.end());
    std::string canonical_headers;
    for (const auto& [name, value] : headers) canonical_headers += name + ":" + value + "\n";
    return in.method + "\n" + in.canonical_uri + "\n" + canonical_query(in.query) + "\n" +
           canonical_headers + "\n" + signed_headers(in) + "\n" + in.payload_hash;
}

inline std::string scope(const Input& in) {
    return in.amz_date.substr(0, 8) + "/" + in.region + "/" + in.service + "/aws4_request";
}

inline std::string string_to_sign(const Input& in) {
    return "AWS4-HMAC-SHA256\n" + in.amz_date + "\n" + scope(in) + "\n" +
           sha256_hex(canonical_request(in));
}

inline std::string signature(const Input& in) {
    std::string key = hmac("AWS4" + in.secret_key, in.amz_date.substr(0, 8));
    key = hmac(key, in.region);
    key = hmac(key, in.service);
    key = hmac(key, "aws4_request");
    const std::string sig = hmac(key, string_to_sign(in));
    return hex(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
}

}  // namespace facefuse::test::sigv4
