// S3BlobStore without an S3 server: key encoding, URLs, option checks, and how each kind of
// answer (or silence) from the server maps to an error code. A canned-response server stands in
// for S3; the real protocol peer (s3rver) is in tests/integration/s3_blob_store_test.cpp.
#include "storage/s3/s3_blob_store.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <memory>
#include <string>

#include "support/background_process.hpp"
#include "unit/storage/fake_http_server.hpp"

namespace facefuse::storage {
namespace {

using test::CannedResponse;
using test::FakeHttpServer;

constexpr char kSecret[] = "SECRETKEYNEVERINMESSAGES";

S3Options options_for(const std::string& endpoint) {
    S3Options options;
    options.endpoint = endpoint;
    options.bucket = "bkt";
    options.access_key = "AKID";
    options.secret_key = kSecret;
    options.timeout_ms = 2000;
    options.connect_timeout_ms = 1000;
    return options;
}

std::unique_ptr<BlobStore> store_for(const S3Options& options) {
    auto store = make_s3_blob_store(options);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
}

std::string error_xml(const std::string& code, const std::string& message) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
           message + "</Message></Error>";
}

const std::vector<std::uint8_t> kBytes = {0, 1, 2, 255};

TEST(S3EncodeKey, KeepsUnreservedAndSlashEncodesTheRest) {
    EXPECT_EQ(s3_encode_key("tenants/a/tasks/b/source.png"), "tenants/a/tasks/b/source.png");
    EXPECT_EQ(s3_encode_key("AZaz09-._~/"), "AZaz09-._~/");
    EXPECT_EQ(s3_encode_key("a b"), "a%20b");
    EXPECT_EQ(s3_encode_key("test$file.text"), "test%24file.text");
    EXPECT_EQ(s3_encode_key("+=&?#%"), "%2B%3D%26%3F%23%25");
    EXPECT_EQ(s3_encode_key("é✓"), "%C3%A9%E2%9C%93");
}

TEST(S3ObjectUrl, PathStyleIsTheDefaultForACustomEndpoint) {
    S3Options options = options_for("http://127.0.0.1:4569/");
    EXPECT_EQ(s3_object_url(options, "a b/c.png"), "http://127.0.0.1:4569/bkt/a%20b/c.png");
    options.path_style = false;
    EXPECT_EQ(s3_object_url(options, "k"), "http://bkt.127.0.0.1:4569/k");
}

TEST(S3ObjectUrl, AwsDefaultsToVirtualHostStyleInTheRegion) {
    S3Options options = options_for("");
    options.region = "eu-west-1";
    EXPECT_EQ(s3_object_url(options, "k.png"), "https://bkt.s3.eu-west-1.amazonaws.com/k.png");
    options.path_style = true;
    EXPECT_EQ(s3_object_url(options, "k.png"), "https://s3.eu-west-1.amazonaws.com/bkt/k.png");
}

TEST(MakeS3BlobStore, RejectsBadOptionsWithAMessage) {
    auto expect_rejected = [](S3Options options, const std::string& mentions) {
        auto store = make_s3_blob_store(std::move(options));
        ASSERT_FALSE(store.ok());
        EXPECT_EQ(store.error().code, ErrorCode::kInternal);
        EXPECT_NE(store.error().message.find(mentions), std::string::npos) << store.error().message;
        EXPECT_EQ(store.error().message.find(kSecret), std::string::npos);
    };
    S3Options ok = options_for("http://127.0.0.1:1");
    ASSERT_TRUE(make_s3_blob_store(ok).ok());
    S3Options o = ok;
    o.access_key.clear();
    expect_rejected(o, "AWS_ACCESS_KEY_ID");
    o = ok;
    o.secret_key.clear();
    expect_rejected(o, "AWS_SECRET_ACCESS_KEY");
    o = ok;
    o.bucket = "";
    expect_rejected(o, "bucket");
    o.bucket = "a/b";
    expect_rejected(o, "bucket");
    o = ok;
    o.endpoint = "127.0.0.1:4569";
    expect_rejected(o, "http://");
    o = ok;
    o.region = "us:east";
    expect_rejected(o, "region");
}

TEST(S3OptionsFromEnv, ReadsTheStandardAwsVariables) {
    ::setenv("AWS_ACCESS_KEY_ID", "env-access", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    S3Options options = s3_options_from_env();
    EXPECT_EQ(options.access_key, "env-access");
    EXPECT_EQ(options.secret_key, "env-secret");
    EXPECT_EQ(options.session_token, "");
    EXPECT_EQ(options.region, "us-east-1");
    ::setenv("AWS_SESSION_TOKEN", "env-token", 1);
    EXPECT_EQ(s3_options_from_env().session_token, "env-token");
    for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}) {
        ::unsetenv(name);
    }
}

TEST(S3BlobStoreErrors, NoSuchKeyIsNotFound) {
    FakeHttpServer server(
        CannedResponse{404, error_xml("NoSuchKey", "The specified key does not exist.")});
    auto store = store_for(options_for(server.endpoint()));
    auto got = store->get("k");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
    EXPECT_FALSE(*store->exists("k"));
    EXPECT_TRUE(store->remove("k").ok());
}

TEST(S3BlobStoreErrors, NoSuchBucketIsAConfigurationError) {
    FakeHttpServer server(
        CannedResponse{404, error_xml("NoSuchBucket", "The specified bucket does not exist")});
    auto store = store_for(options_for(server.endpoint()));
    auto got = store->get("k");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kInternal);
    EXPECT_NE(got.error().message.find("bucket does not exist"), std::string::npos);
    EXPECT_EQ(store->put("k", kBytes, "").error().code, ErrorCode::kInternal);
    EXPECT_EQ(store->remove("k").error().code, ErrorCode::kInternal);
}

TEST(S3BlobStoreErrors, ForbiddenSaysCheckCredentialsWithoutLeakingTheSecret) {
    FakeHttpServer server(CannedResponse{
        403,
        error_xml("SignatureDoesNotMatch", "The request signature we calculated does not match")});
    auto store = store_for(options_for(server.endpoint()));
    for (const Status& status : {store->put("k", kBytes, ""), Status(store->get("k").error()),
                                 Status(store->exists("k").error()), store->remove("k")}) {
        ASSERT_FALSE(status.ok());
        EXPECT_EQ(status.error().code, ErrorCode::kInternal);
        EXPECT_NE(status.error().message.find("check credentials"), std::string::npos)
            << status.error().message;
        EXPECT_EQ(status.error().message.find(kSecret), std::string::npos);
    }
    EXPECT_NE(store->get("k").error().message.find("SignatureDoesNotMatch"), std::string::npos);
}

TEST(S3BlobStoreErrors, ServerErrorsAndThrottlingAreUnavailable) {
    for (int status : {500, 502, 503, 429}) {
        SCOPED_TRACE(status);
        FakeHttpServer server(
            CannedResponse{status, error_xml("SlowDown", "Please reduce your request rate.")});
        auto store = store_for(options_for(server.endpoint()));
        EXPECT_EQ(store->put("k", kBytes, "").error().code, ErrorCode::kUnavailable);
        EXPECT_EQ(store->get("k").error().code, ErrorCode::kUnavailable);
        EXPECT_EQ(store->exists("k").error().code, ErrorCode::kUnavailable);
        EXPECT_EQ(store->remove("k").error().code, ErrorCode::kUnavailable);
    }
}

TEST(S3BlobStoreErrors, OtherClientErrorsAreInternal) {
    FakeHttpServer server(
        CannedResponse{400, error_xml("InvalidRequest", "Missing required header")});
    auto store = store_for(options_for(server.endpoint()));
    auto got = store->get("k");
    EXPECT_EQ(got.error().code, ErrorCode::kInternal);
    EXPECT_NE(got.error().message.find("Missing required header"), std::string::npos);
}

TEST(S3BlobStoreErrors, ConnectionRefusedIsUnavailableAndQuick) {
    const int port = test::free_port();  // nothing listens there
    auto store = store_for(options_for("http://127.0.0.1:" + std::to_string(port)));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(store->get("k").error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store->put("k", kBytes, "").error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store->exists("k").error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store->remove("k").error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(S3BlobStoreErrors, AServerThatNeverAnswersTimesOut) {
    FakeHttpServer server(CannedResponse{200, "", "", /*hang=*/true});
    S3Options options = options_for(server.endpoint());
    options.timeout_ms = 300;
    auto store = store_for(options);
    const auto start = std::chrono::steady_clock::now();
    auto got = store->get("k");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << got.error().message;
    EXPECT_GE(elapsed, std::chrono::milliseconds(250));
    EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(S3BlobStoreLimits, OversizedObjectsAreRefusedBothWays) {
    // 2000 bytes: over the limit; 200000: also over what the HTTP layer buffers at all.
    for (std::size_t size : {2000, 200000}) {
        SCOPED_TRACE(size);
        FakeHttpServer server([size](const test::CapturedRequest& req) {
            const bool has_body = req.method == "GET" || req.method == "HEAD";  // HEAD: length only
            return CannedResponse{200, has_body ? std::string(size, 'x') : "",
                                  "application/octet-stream"};
        });
        S3Options options = options_for(server.endpoint());
        options.max_object_bytes = 100;
        auto store = store_for(options);
        EXPECT_EQ(store->put("k", std::vector<std::uint8_t>(101), "").error().code,
                  ErrorCode::kInternal);
        EXPECT_TRUE(server.requests().empty());  // refused before sending
        EXPECT_TRUE(store->put("k", std::vector<std::uint8_t>(100), "").ok());
        auto got = store->get("k");
        ASSERT_FALSE(got.ok());
        EXPECT_EQ(got.error().code, ErrorCode::kInternal);
        EXPECT_NE(got.error().message.find("larger than"), std::string::npos)
            << got.error().message;
        auto exists = store->exists("k");  // the size limit is about bodies, not existence
        ASSERT_TRUE(exists.ok()) << exists.error().message;
        EXPECT_TRUE(*exists);
    }
}

TEST(S3BlobStoreLimits, EmptyKeyAndHeaderInjectionAreRefused) {
    FakeHttpServer server(CannedResponse{});
    auto store = store_for(options_for(server.endpoint()));
    EXPECT_EQ(store->get("").error().code, ErrorCode::kInternal);
    EXPECT_EQ(store->remove("").error().code, ErrorCode::kInternal);
    EXPECT_EQ(store->exists("").error().code, ErrorCode::kInternal);
    EXPECT_EQ(store->put("", kBytes, "").error().code, ErrorCode::kInternal);
    EXPECT_EQ(store->put("k", kBytes, "text/plain\r\nX-Evil: 1").error().code,
              ErrorCode::kInternal);
    EXPECT_TRUE(server.requests().empty());
}

TEST(S3BlobStoreRequests, SendsTheExpectedMethodsUrlsAndHeaders) {
    FakeHttpServer server(CannedResponse{200, "payload", "application/octet-stream"});
    auto store = store_for(options_for(server.endpoint()));
    ASSERT_TRUE(store->put("a b/c.png", kBytes, "image/png").ok());
    ASSERT_TRUE(store->put("d", kBytes, "").ok());
    auto got = store->get("a b/c.png");
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(std::string(got->begin(), got->end()), "payload");
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].method, "PUT");
    EXPECT_EQ(requests[0].target, "/bkt/a%20b/c.png");
    EXPECT_EQ(requests[0].header("Content-Type"), "image/png");
    EXPECT_EQ(requests[0].header("Content-Length"), "4");
    EXPECT_EQ(requests[0].header("x-amz-security-token"), "");  // no session token configured
    EXPECT_EQ(requests[1].header("Content-Type"), "application/octet-stream");
    EXPECT_EQ(requests[2].method, "GET");
    for (const auto& req : requests) {
        EXPECT_EQ(req.header("Host"), "127.0.0.1:" + std::to_string(server.port()));
        EXPECT_EQ(req.head.find(kSecret), std::string::npos);
    }
}

TEST(S3BlobStoreRequests, VirtualHostStylePutsTheBucketInTheHostName) {
    FakeHttpServer server(CannedResponse{});
    S3Options options = options_for("http://s3.example.test");
    options.path_style = false;
    options.connect_to = {"bkt.s3.example.test:80:127.0.0.1:" + std::to_string(server.port())};
    auto store = store_for(options);
    ASSERT_TRUE(store->put("x/y.png", kBytes, "image/png").ok());
    const auto requests = server.requests();
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].header("Host"), "bkt.s3.example.test");
    EXPECT_EQ(requests[0].target, "/x/y.png");
}

}  // namespace
}  // namespace facefuse::storage
