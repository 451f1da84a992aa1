// read_secret_file: the trailing newline rule, the bounds, and errors that never carry the secret.
#include "http/auth/secret_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace facefuse::http::auth {
namespace {

namespace fs = std::filesystem;

class SecretFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("facefuse-secret-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override {
        std::error_code ec;
        fs::permissions(dir_ / "locked", fs::perms::owner_all, ec);
        fs::remove_all(dir_, ec);
    }
    std::string write(const std::string& name, const std::string& bytes) {
        const auto path = dir_ / name;
        std::ofstream(path, std::ios::binary) << bytes;
        return path.string();
    }
    fs::path dir_;
};

TEST_F(SecretFileTest, StripsExactlyOneTrailingNewline) {
    EXPECT_EQ(*read_secret_file(write("a", "s3cret\n"), "JWT secret file"), "s3cret");
    EXPECT_EQ(*read_secret_file(write("b", "s3cret\r\n"), "JWT secret file"), "s3cret");
    EXPECT_EQ(*read_secret_file(write("c", "s3cret\n\n"), "JWT secret file"), "s3cret\n");
    EXPECT_EQ(*read_secret_file(write("d", "s3cret"), "JWT secret file"), "s3cret");
    EXPECT_EQ(*read_secret_file(write("e", " s3cret "), "JWT secret file"), " s3cret ");
    const std::string binary("\x00\x01\xff\n", 4);
    EXPECT_EQ(*read_secret_file(write("f", binary + "x"), "JWT secret file"), binary + "x");
}

TEST_F(SecretFileTest, KeepsPemIntact) {
    const std::string pem = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n";
    EXPECT_EQ(*read_secret_file(write("key.pem", pem), "JWT public key file"),
              pem.substr(0, pem.size() - 1));
}

TEST_F(SecretFileTest, EmptyIsAUsageError) {
    for (const char* bytes : {"", "\n", "\r\n"}) {
        auto r = read_secret_file(write("empty", bytes), "JWT secret file");
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::kUsage);
        EXPECT_NE(r.error().message.find("JWT secret file"), std::string::npos);
        EXPECT_NE(r.error().message.find("empty"), std::string::npos);
    }
}

TEST_F(SecretFileTest, MissingDirectoryOrUnreadableIsFileNotFound) {
    auto missing = read_secret_file((dir_ / "nope").string(), "JWT secret file");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kFileNotFound);
    EXPECT_NE(missing.error().message.find((dir_ / "nope").string()), std::string::npos);

    auto directory = read_secret_file(dir_.string(), "JWT secret file");
    ASSERT_FALSE(directory.ok());
    EXPECT_EQ(directory.error().code, ErrorCode::kFileNotFound);

    auto device = read_secret_file("/dev/zero", "JWT secret file");
    ASSERT_FALSE(device.ok());
    EXPECT_EQ(device.error().code, ErrorCode::kFileNotFound);

    const std::string locked = write("locked", "top-secret-value");
    fs::permissions(locked, fs::perms::none);
    if (::geteuid() != 0) {  // root reads anything
        auto r = read_secret_file(locked, "JWT secret file");
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::kFileNotFound);
        EXPECT_EQ(r.error().message.find("top-secret-value"), std::string::npos);
    }
}

TEST_F(SecretFileTest, RefusesOversizedFilesWithoutEchoingThem) {
    const std::string big(kMaxSecretFileBytes + 1, 'k');
    auto r = read_secret_file(write("big", big), "JWT secret file");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
    EXPECT_EQ(r.error().message.find("kkkkkkkk"), std::string::npos);
    EXPECT_TRUE(
        read_secret_file(write("max", std::string(kMaxSecretFileBytes, 'k')), "JWT secret file")
            .ok());
    // The newline is stripped after the size check: a max-size secret plus "\n" is too big.
    EXPECT_FALSE(
        read_secret_file(write("max-nl", std::string(kMaxSecretFileBytes, 'k') + "\n"), "x").ok());
}

}  // namespace
}  // namespace facefuse::http::auth
