#include "storage/s3/s3_presign.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>
#include <string>

#include "common/sha256.hpp"

namespace facefuse::storage {
namespace {

std::string hex(const unsigned char* data, std::size_t size) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(kHex[data[i] >> 4]);
        out.push_back(kHex[data[i] & 15]);
    }
    return out;
}

std::string hmac(std::string_view key, std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), digest, &length);
    return std::string(reinterpret_cast<const char*>(digest), length);
}

// RFC 3986 unreserved characters stay; everything else (including '/') is %XX, as SigV4's
// canonical query string wants.
std::string encode_query_value(std::string_view value) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

}  // namespace

Result<std::string> s3_presign_get(const S3Options& options, std::string_view key, std::chrono::seconds expires,
                                   std::int64_t now_unix_s) {
    if (expires.count() < 1 || expires > kMaxPresignLifetime)
        return make_error(ErrorCode::kUsage, "a presigned URL lives 1 to " + std::to_string(kMaxPresignLifetime.count()) +
                                                 " seconds, not " + std::to_string(expires.count()));
    if (options.access_key.empty() || options.secret_key.empty())
        return make_error(ErrorCode::kUsage, "presigning needs S3 credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)");
    return s3_presigned_url(options, key, expires, now_unix_s);
}

std::string s3_presigned_url(const S3Options& options, std::string_view key, std::chrono::seconds expires,
                             std::int64_t now_unix_s) {
    const std::string url = s3_object_url(options, key);
    const std::size_t host_start = url.find("://") + 3;
    const std::size_t path_start = url.find('/', host_start);
    const std::string host = url.substr(host_start, path_start - host_start);
    const std::string path = url.substr(path_start);

    const std::time_t now = static_cast<std::time_t>(now_unix_s);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char amz_date[17];
    std::strftime(amz_date, sizeof amz_date, "%Y%m%dT%H%M%SZ", &utc);
    const std::string date(amz_date, 8);
    const std::string scope = date + "/" + options.region + "/s3/aws4_request";

    // Parameters in byte order of their names, as the canonical query string requires.
    std::string query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
                        encode_query_value(options.access_key + "/" + scope) + "&X-Amz-Date=" + amz_date +
                        "&X-Amz-Expires=" + std::to_string(expires.count());
    if (!options.session_token.empty()) query += "&X-Amz-Security-Token=" + encode_query_value(options.session_token);
    query += "&X-Amz-SignedHeaders=host";

    const std::string canonical_request =
        "GET\n" + path + "\n" + query + "\nhost:" + host + "\n\nhost\nUNSIGNED-PAYLOAD";
    const std::string string_to_sign =
        std::string("AWS4-HMAC-SHA256\n") + amz_date + "\n" + scope + "\n" + sha256_hex(canonical_request);
    const std::string signing_key =
        hmac(hmac(hmac(hmac("AWS4" + options.secret_key, date), options.region), "s3"), "aws4_request");
    const std::string signature = hmac(signing_key, string_to_sign);
    return url + "?" + query + "&X-Amz-Signature=" +
           hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

}  // namespace facefuse::storage
