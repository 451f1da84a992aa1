#pragma once
// Presigned GET URLs for S3 objects: AWS Signature Version 4 in the query string, so a client
// can fetch one result straight from the store for a short while without credentials.
//
// Written here rather than by libcurl: curl's CURLOPT_AWS_SIGV4 signs requests it sends (the
// Authorization header); a presigned URL is a request someone else sends later. The recipe is
// AWS's "Authenticating Requests: Using Query Parameters": canonical request (host the only
// signed header, UNSIGNED-PAYLOAD) -> string to sign -> HMAC-SHA256 key chain; a unit test
// checks it against AWS's published example.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "storage/s3/s3_blob_store.hpp"

namespace facefuse::storage {

// The longest a presigned URL may live: what is handed out to clients must expire soon.
inline constexpr std::chrono::seconds kMaxPresignLifetime{15 * 60};

// A URL that GETs `key` until now_unix_s + expires. kUsage for expires outside 1 s ..
// kMaxPresignLifetime or missing credentials. `options` as accepted by make_s3_blob_store.
Result<std::string> s3_presign_get(const S3Options& options, std::string_view key, std::chrono::seconds expires,
                                   std::int64_t now_unix_s);

// The signing recipe alone, without the lifetime cap (S3 itself allows up to 7 days): for
// tests against AWS's examples. Precondition: credentials present.
std::string s3_presigned_url(const S3Options& options, std::string_view key, std::chrono::seconds expires,
                             std::int64_t now_unix_s);

}  // namespace facefuse::storage
