// S3BlobStore against a real S3-protocol server (s3rver, see tests/support/s3_server.hpp).
#include "storage/s3/s3_blob_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/s3_server.hpp"

namespace facefuse::storage {
namespace {

using test::S3Server;

S3Options options_for(const S3Server& server) {
    S3Options options;
    options.endpoint = server.endpoint();
    options.bucket = S3Server::kBucket;
    options.access_key = S3Server::kAccessKey;
    options.secret_key = S3Server::kSecretKey;
    options.timeout_ms = 10000;
    options.connect_timeout_ms = 2000;
    return options;
}

std::unique_ptr<BlobStore> make_store(const S3Options& options) {
    auto store = make_s3_blob_store(options);
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
}

std::vector<std::uint8_t> all_byte_values() {
    std::vector<std::uint8_t> bytes(256);
    for (int i = 0; i < 256; ++i) bytes[i] = static_cast<std::uint8_t>(i);
    return bytes;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<std::uint8_t> bytes(n);
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    return bytes;
}

// One s3rver for the suite (starting node takes about a second), started by the first test so
// that a missing s3rver fails that test with the reason rather than skipping the suite.
class S3BlobStoreTest : public ::testing::Test {
  protected:
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override {
        if (server_ == nullptr) server_ = new S3Server();
        ASSERT_TRUE(server_->ok()) << "s3rver is not running (see the first failure)";
        store_ = make_store(options_for(*server_));
        ASSERT_NE(store_, nullptr);
    }

    static S3Server* server_;
    std::unique_ptr<BlobStore> store_;
};

S3Server* S3BlobStoreTest::server_ = nullptr;

TEST_F(S3BlobStoreTest, RoundTripsAllByteValues) {
    const std::string key = blob_key("acme", "task-1", "source", "bin");
    const auto bytes = all_byte_values();
    ASSERT_TRUE(store_->put(key, bytes, "application/octet-stream").ok());
    auto exists = store_->exists(key);
    ASSERT_TRUE(exists.ok()) << exists.error().message;
    EXPECT_TRUE(*exists);
    auto got = store_->get(key);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(*got, bytes);

    ASSERT_TRUE(store_->remove(key).ok());
    EXPECT_FALSE(*store_->exists(key));
    auto gone = store_->get(key);
    ASSERT_FALSE(gone.ok());
    EXPECT_EQ(gone.error().code, ErrorCode::kNotFound) << gone.error().message;
    EXPECT_TRUE(store_->remove(key).ok()) << "remove must be idempotent";
}

TEST_F(S3BlobStoreTest, RoundTripsAFiveMegabyteBlob) {
    const std::string key = blob_key("acme", "task-big", "result", "png");
    const auto bytes = random_bytes(5 * 1024 * 1024, 42);
    ASSERT_TRUE(store_->put(key, bytes, "image/png").ok());
    auto got = store_->get(key);
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got->size(), bytes.size());
    EXPECT_TRUE(*got == bytes);
}

TEST_F(S3BlobStoreTest, EmptyBlobIsAnObject) {
    ASSERT_TRUE(store_->put("empty/object", {}, "").ok());
    auto got = store_->get("empty/object");
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_TRUE(got->empty());
    EXPECT_TRUE(*store_->exists("empty/object"));
}

TEST_F(S3BlobStoreTest, OverwriteReplacesTheObject) {
    const std::string key = blob_key("acme", "task-2", "result", "png");
    ASSERT_TRUE(store_->put(key, random_bytes(1000, 1), "image/png").ok());
    const auto second = random_bytes(700, 2);
    ASSERT_TRUE(store_->put(key, second, "image/png").ok());
    EXPECT_EQ(*store_->get(key), second);
}

TEST_F(S3BlobStoreTest, MissingKeyIsNotFound) {
    const std::string key = blob_key("acme", "never-written", "result", "png");
    auto got = store_->get(key);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
    auto exists = store_->exists(key);
    ASSERT_TRUE(exists.ok());
    EXPECT_FALSE(*exists);
    EXPECT_TRUE(store_->remove(key).ok());
}

TEST_F(S3BlobStoreTest, KeysWithSpacesAndUnicodeKeepTheirExactName) {
    for (const std::string key :
         {"tenants/a b/tasks/日本語/résumé ✓.png",
          "odd/+plus=equals&amp;?question#hash%percent~tilde", "dots/a..b/.hidden/..../x"}) {
        SCOPED_TRACE(key);
        const auto bytes = random_bytes(300, static_cast<unsigned>(key.size()));
        ASSERT_TRUE(store_->put(key, bytes, "").ok());
        auto got = store_->get(key);
        ASSERT_TRUE(got.ok()) << got.error().message;
        EXPECT_EQ(*got, bytes);
        EXPECT_TRUE(*store_->exists(key));
        // The server stored it under the very same name: the encoding round-trips.
        EXPECT_TRUE(std::filesystem::exists(server_->data_dir() / S3Server::kBucket /
                                            (key + "._S3rver_object")));
        ASSERT_TRUE(store_->remove(key).ok());
        EXPECT_FALSE(*store_->exists(key));
    }
}

TEST_F(S3BlobStoreTest, ConcurrentPutsFromThreads) {
    constexpr int kThreads = 8, kPerThread = 6;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string key =
                    blob_key("acme", std::to_string(t), std::to_string(i), "bin");
                const auto bytes =
                    random_bytes(20000 + 1000 * i, static_cast<unsigned>(t * 100 + i));
                if (!store_->put(key, bytes, "").ok()) ++failures;
                // All threads also hit one shared key: the last write wins, whole.
                if (!store_->put("shared/key", bytes, "").ok()) ++failures;
            }
        });
    }
    for (auto& th : threads) th.join();
    ASSERT_EQ(failures.load(), 0);
    for (int t = 0; t < kThreads; ++t) {
        for (int i = 0; i < kPerThread; ++i) {
            auto got = store_->get(blob_key("acme", std::to_string(t), std::to_string(i), "bin"));
            ASSERT_TRUE(got.ok()) << got.error().message;
            EXPECT_EQ(*got, random_bytes(20000 + 1000 * i, static_cast<unsigned>(t * 100 + i)));
        }
    }
    auto shared = store_->get("shared/key");
    ASSERT_TRUE(shared.ok());
    EXPECT_GE(shared->size(), 20000u);
}

TEST_F(S3BlobStoreTest, VirtualHostStyleWorksToo) {
    S3Options options = options_for(*server_);
    const std::string port = std::to_string(server_->port());
    options.endpoint = "http://s3.amazonaws.com:" + port;  // s3rver maps <bucket>.s3.amazonaws.com
    options.path_style = false;
    options.connect_to = {std::string(S3Server::kBucket) + ".s3.amazonaws.com:" + port +
                          ":127.0.0.1:" + port};
    auto store = make_store(options);
    ASSERT_NE(store, nullptr);
    const auto bytes = all_byte_values();
    ASSERT_TRUE(store->put("vhost/object", bytes, "").ok());
    EXPECT_EQ(*store_->get("vhost/object"), bytes);  // read back path-style
}

TEST_F(S3BlobStoreTest, UnknownAccessKeyIsInternalAndSaysCheckCredentials) {
    S3Options options = options_for(*server_);
    options.access_key = "NOT-A-KEY";
    auto store = make_store(options);
    auto got = store->get("anything");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kInternal);
    EXPECT_NE(got.error().message.find("check credentials"), std::string::npos)
        << got.error().message;
    EXPECT_NE(got.error().message.find("InvalidAccessKeyId"), std::string::npos);
}

TEST_F(S3BlobStoreTest, MissingBucketIsInternal) {
    S3Options options = options_for(*server_);
    options.bucket = "no-such-bucket";
    auto store = make_store(options);
    auto got = store->get("k");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kInternal);
    EXPECT_NE(got.error().message.find("does not exist"), std::string::npos) << got.error().message;
}

// Its own server, since it stops it.
TEST(S3BlobStoreOutage, ServerDownIsUnavailableWithoutHangingAndRecoversAfterRestart) {
    S3Server server;
    ASSERT_TRUE(server.ok());
    S3Options options = options_for(server);
    options.timeout_ms = 3000;
    auto store = make_store(options);
    ASSERT_NE(store, nullptr);
    const auto bytes = random_bytes(10000, 7);
    ASSERT_TRUE(store->put("outage/before", bytes, "").ok());  // also leaves a pooled connection

    server.stop();
    const auto start = std::chrono::steady_clock::now();
    auto got = store->get("outage/before");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << got.error().message;
    EXPECT_EQ(store->put("outage/during", bytes, "").error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store->exists("outage/before").error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store->remove("outage/before").error().code, ErrorCode::kUnavailable);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));

    ASSERT_TRUE(server.restart()) << server.log();
    auto again = store->get("outage/before");  // same store object, data kept across restart
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*again, bytes);
    EXPECT_TRUE(store->put("outage/after", bytes, "").ok());
}

TEST(S3BlobStoreOutage, HungServerTimesOutAsUnavailable) {
    S3Server server;
    ASSERT_TRUE(server.ok());
    S3Options options = options_for(server);
    options.timeout_ms = 1000;
    auto store = make_store(options);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->put("hung/k", all_byte_values(), "").ok());

    server.freeze();
    const auto start = std::chrono::steady_clock::now();
    auto got = store->get("hung/k");
    const auto elapsed = std::chrono::steady_clock::now() - start;
    server.thaw();
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code, ErrorCode::kUnavailable) << got.error().message;
    EXPECT_LT(elapsed, std::chrono::seconds(5));

    auto again = store->get("hung/k");
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(*again, all_byte_values());
}

}  // namespace
}  // namespace facefuse::storage
