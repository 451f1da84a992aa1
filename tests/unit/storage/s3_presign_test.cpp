// Presigned GET URLs, checked against AWS's published example ("Authenticating Requests: Using
// Query Parameters (AWS Signature Version 4)", Amazon S3 API reference).
#include "storage/s3/s3_presign.hpp"

#include <gtest/gtest.h>

namespace facefuse::storage {
namespace {

S3Options aws_example() {
    S3Options o;
    o.endpoint = "https://s3.amazonaws.com";
    o.bucket = "examplebucket";
    o.region = "us-east-1";
    o.path_style = false;
    o.access_key = "AKIAIOSFODNN7EXAMPLE";
    o.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    return o;
}

constexpr std::int64_t k20130524 = 1369353600;  // 2013-05-24T00:00:00Z

TEST(S3Presign, MatchesAwsPublishedExample) {
    const std::string url = s3_presigned_url(aws_example(), "test.txt", std::chrono::seconds(86400), k20130524);
    EXPECT_EQ(url,
              "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
              "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
              "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
              "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(S3Presign, LifetimeIsCappedAtFifteenMinutesAndCredentialsAreNeeded) {
    EXPECT_TRUE(s3_presign_get(aws_example(), "k", std::chrono::seconds(900), k20130524).ok());
    for (long s : {0L, -1L, 901L, 86400L})
        EXPECT_EQ(s3_presign_get(aws_example(), "k", std::chrono::seconds(s), k20130524).error().code, ErrorCode::kUsage)
            << s;
    S3Options anonymous = aws_example();
    anonymous.secret_key.clear();
    EXPECT_EQ(s3_presign_get(anonymous, "k", std::chrono::seconds(60), k20130524).error().code, ErrorCode::kUsage);
}

TEST(S3Presign, PathStyleSignsTheBucketInThePathAndASessionToken) {
    S3Options local = aws_example();
    local.endpoint = "http://127.0.0.1:4569";
    local.path_style = true;
    local.session_token = "tok/en+=";
    const std::string url = s3_presigned_url(local, "tenants/acme/tasks/t1/result.png", std::chrono::seconds(60), k20130524);
    EXPECT_EQ(url.rfind("http://127.0.0.1:4569/examplebucket/tenants/acme/tasks/t1/result.png?", 0), 0u) << url;
    EXPECT_NE(url.find("&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-SignedHeaders=host"), std::string::npos) << url;
    // A different key, time or lifetime gives a different signature.
    EXPECT_NE(url, s3_presigned_url(local, "tenants/acme/tasks/t1/result.png", std::chrono::seconds(61), k20130524));
}

}  // namespace
}  // namespace facefuse::storage
