#include "http/audit/audit_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "common/clock.hpp"
#include "obs/log.hpp"

namespace facefuse::http::audit {
namespace {

// Per-field caps: together, escaped at worst (every byte a '"' or '\\'), a line stays under
// PIPE_BUF (4096), which keeps even a pipe's writes atomic.
constexpr std::size_t kIdBytes = 128, kIpBytes = 64, kTenantBytes = 128, kSubjectBytes = 256,
                      kRoleBytes = 32, kActionBytes = 64, kObjectBytes = 256, kOutcomeBytes = 32,
                      kReasonBytes = 512;
// Look-ahead past the cap, so a token that starts under it is still recognised as one.
constexpr std::size_t kLookAhead = 64;
constexpr std::size_t kMinTokenRun = 16;  // "eyJ" and this many more characters: a JWT
constexpr std::string_view kRedacted = "[redacted]";
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";     // U+2026, marks a cut field
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD, for invalid UTF-8

// Length of the valid UTF-8 sequence at s[i] and its code point; 0 if invalid.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    std::size_t len = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) return 0;
    for (std::size_t k = 1; k < len; ++k) {
        if ((b(k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    const bool overlong = (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (overlong || surrogate || cp > 0x10FFFF) return 0;
    return len;
}

// Control characters dropped, invalid UTF-8 replaced; stops a little past `limit` bytes.
std::string clean(std::string_view in, std::size_t limit) {
    std::string out;
    out.reserve(std::min(in.size(), limit));
    for (std::size_t i = 0; i < in.size() && out.size() < limit;) {
        const auto c = static_cast<unsigned char>(in[i]);
        if (c < 0x80) {
            if (c >= 0x20 && c != 0x7F) out += static_cast<char>(c);
            ++i;
            continue;
        }
        char32_t cp = 0;
        const std::size_t len = utf8_sequence(in, i, cp);
        if (len == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        if (cp > 0x9F) out.append(in.substr(i, len));  // U+0080..U+009F: C1 controls
        i += len;
    }
    return out;
}

bool token_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '+' || c == '/' || c == '=';
}

bool starts_with_ignoring_case(std::string_view s, std::size_t i, std::string_view word) {
    if (s.size() - i < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
        char c = s[i + k];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != word[k]) return false;
    }
    return true;
}

// JWTs ("eyJ..." runs) and whatever follows "Bearer " become "[redacted]": a caller that put
// an Authorization header into a reason by mistake must not leak the credential.
std::string redact(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        std::size_t secret_from = std::string_view::npos;
        if (s.compare(i, 3, "eyJ") == 0) {
            secret_from = i;
        } else if (starts_with_ignoring_case(s, i, "bearer ")) {
            std::size_t j = i + 7;
            while (j < s.size() && s[j] == ' ') ++j;
            out.append(s.substr(i, j - i));
            i = j;
            secret_from = i;
        }
        if (secret_from != std::string_view::npos) {
            std::size_t end = secret_from;
            while (end < s.size() && token_char(s[end])) ++end;
            const bool jwt = s.compare(secret_from, 3, "eyJ") == 0;
            if (end > secret_from && (!jwt || end - secret_from >= 3 + kMinTokenRun)) {
                out += kRedacted;
                i = end;
                continue;
            }
        }
        if (i < s.size()) out += s[i++];
    }
    return out;
}

// Cut at a character boundary, marking the cut.
void truncate(std::string& s, std::size_t max_bytes) {
    if (s.size() <= max_bytes) return;
    const bool mark = max_bytes >= kEllipsis.size() + 1;
    std::size_t cut = mark ? max_bytes - kEllipsis.size() : max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    if (mark) s += kEllipsis;
}

// RFC 3339 UTC with milliseconds, as the debug log writes it.
std::string timestamp(std::int64_t unix_ms) {
    const std::int64_t ms = unix_ms < 0 ? 0 : unix_ms;
    const auto secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

void append_field(std::string& line, std::string_view key, std::string_view value,
                  std::size_t max_bytes) {
    line += ",\"";
    line += key;
    line += "\":";
    line += nlohmann::json(sanitize_audit_field(value, max_bytes))
                .dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

// Appends all of `line`, resuming after a short write or a signal.
bool write_all(int fd, std::string_view line, int& error) {
    while (!line.empty()) {
        const ssize_t n = ::write(fd, line.data(), line.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            error = errno;
            return false;
        }
        line.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

}  // namespace

std::string sanitize_audit_field(std::string_view value, std::size_t max_bytes) {
    std::string s = redact(clean(value, max_bytes + kLookAhead));
    truncate(s, max_bytes);
    return s;
}

std::string format_audit_line(const AuditRecord& r, std::int64_t unix_ms) {
    // Built by hand: nlohmann::json sorts keys, and the order here is part of the format.
    std::string line = "{\"ts\":\"" + timestamp(unix_ms) + "\"";
    append_field(line, "request_id", r.request_id, kIdBytes);
    append_field(line, "client_ip", r.client_ip, kIpBytes);
    append_field(line, "tenant", r.tenant, kTenantBytes);
    append_field(line, "subject", r.subject, kSubjectBytes);
    append_field(line, "role", r.role, kRoleBytes);
    append_field(line, "action", r.action, kActionBytes);
    append_field(line, "object", r.object, kObjectBytes);
    append_field(line, "outcome", r.outcome, kOutcomeBytes);
    append_field(line, "reason", r.reason, kReasonBytes);
    line += "}\n";
    return line;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(const std::string& path) {
    if (path.empty()) return disabled();
    if (path == "-") return std::make_unique<AuditLog>(Key{}, STDOUT_FILENO, false, path);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0640);
    if (fd < 0) {
        return make_error(ErrorCode::kOutputError,
                          "Cannot open the audit log '" + path + "' for appending: " +
                              std::error_code(errno, std::generic_category()).message() + ".");
    }
    return std::make_unique<AuditLog>(Key{}, fd, true, path);
}

std::unique_ptr<AuditLog> AuditLog::disabled() {
    return std::make_unique<AuditLog>(Key{}, -1, false, std::string());
}

AuditLog::AuditLog(Key, int fd, bool owns_fd, std::string path)
    : fd_(fd), owns_fd_(owns_fd), path_(std::move(path)) {}

AuditLog::~AuditLog() {
    if (owns_fd_ && fd_ >= 0) ::close(fd_);
}

void AuditLog::write(const AuditRecord& record) noexcept {
    if (fd_ < 0) return;
    int error = 0;
    bool ok = false;
    try {
        const std::string line = format_audit_line(record, unix_now_ms());
        std::lock_guard lock(mutex_);
        ok = write_all(fd_, line, error);
    } catch (...) {
        error = ENOMEM;  // building the line is the only thing that can throw
    }
    if (ok) return;
    const std::uint64_t failed = failed_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (failed == 1 || failed % 1000 == 0) {
        try {
            obs::log_warn("audit_write_failed",
                          {{"path", path_},
                           {"failed_writes", failed},
                           {"error", std::error_code(error, std::generic_category()).message()}});
        } catch (...) {
            // Out of memory for the warning itself: failed_writes() still counts it.
        }
    }
}

}  // namespace facefuse::http::audit
