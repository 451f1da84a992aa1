#pragma once
// Secrets (the JWT HMAC secret, key files) come from files or the environment, never from the
// command line, where `ps` and shell history would show them. This reads one such file.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace facefuse::http::auth {

// Far above any HMAC secret or RSA/EC public key PEM; stops `--jwt-secret-file /dev/zero`.
inline constexpr std::size_t kMaxSecretFileBytes = 64 * 1024;

// The bytes of `path`, less one trailing "\n" or "\r\n" (what `echo` and editors add; a PEM
// parser does not care). `what` names the secret in errors, e.g. "JWT secret file"; errors
// name the path, never the contents:
//   kFileNotFound  missing, a directory, not a regular file, unreadable
//   kUsage         empty (after the newline), over kMaxSecretFileBytes
Result<std::string> read_secret_file(const std::string& path, std::string_view what);

}  // namespace facefuse::http::auth
