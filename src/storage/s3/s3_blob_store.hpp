#pragma once
// S3BlobStore: blobs as objects in one S3 bucket (AWS S3 or any S3-compatible server: MinIO,
// Ceph RGW, s3rver in tests), key "a/b/c.png" -> object "a/b/c.png".
//
// Requests: PutObject, GetObject, DeleteObject, HeadObject, one HTTP exchange each, signed with
// AWS Signature Version 4 by libcurl (see s3_http.hpp for what curl signs and what we add).
// A PUT carries the SHA-256 of its body in x-amz-content-sha256, so S3 rejects a body damaged
// in transit. S3 replaces an object atomically on PUT, which gives put() its contract.
//
// No retries here: a failed call returns kUnavailable (cannot reach S3, timed out, 5xx/429)
// and the caller decides -- the task queue already retries a whole task with backoff, and a
// second layer of retries inside would multiply the wait while S3 is down.
//
// Timeouts: every exchange is bounded by timeout_ms (connect included, connect itself by
// connect_timeout_ms), so an unreachable or hung server costs at most that long, never a hang.
//
// Errors: 404 -> kNotFound (NoSuchBucket -> kInternal: a configuration problem, not a missing
// blob); 403 -> kInternal with S3's message and "check credentials"; 5xx, 429, connection
// refused, timeouts -> kUnavailable; anything else -> kInternal. Messages never contain the
// secret key or the session token.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/blob_store.hpp"

namespace facefuse::storage {

struct S3Options {
    // "http://127.0.0.1:4569" for a local server; empty means AWS:
    // https://s3.<region>.amazonaws.com
    std::string endpoint;
    std::string bucket;
    std::string region = "us-east-1";
    // Path style http://host/bucket/key, or virtual-host style http://bucket.host/key. Unset:
    // path style for a custom endpoint (local servers rarely have wildcard DNS), virtual-host
    // style for AWS (which is retiring path style).
    std::optional<bool> path_style;
    std::string access_key;
    std::string secret_key;
    std::string session_token;  // temporary credentials only
    long timeout_ms = 30000;    // one request, start to finish
    long connect_timeout_ms = 5000;
    std::uint64_t max_object_bytes = 64ull << 20;  // larger puts and gets fail with kInternal
    // curl CONNECT_TO entries "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" (normally empty): lets
    // a test reach a local server under a real S3 host name, e.g. for virtual-host style.
    std::vector<std::string> connect_to;
};

// Options with the credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN (each empty if unset); everything else at its default.
S3Options s3_options_from_env();

// Checks the options (bucket name, endpoint URL, credentials present); kInternal says what is
// wrong. Contacts nothing: a bad endpoint shows up as kUnavailable on the first call.
Result<std::unique_ptr<BlobStore>> make_s3_blob_store(S3Options options);

// S3's URI encoding of an object key: every byte except A-Z a-z 0-9 - . _ ~ and '/' becomes
// %XX (upper-case hex). The same string is sent and signed, so S3 sees the key unchanged.
std::string s3_encode_key(std::string_view key);

// The object's URL, e.g. "http://127.0.0.1:4569/bucket/a%20b.png" (path style) or
// "https://bucket.s3.us-east-1.amazonaws.com/a%20b.png". Precondition: options were accepted by
// make_s3_blob_store (endpoint has a scheme).
std::string s3_object_url(const S3Options& options, std::string_view key);

}  // namespace facefuse::storage
