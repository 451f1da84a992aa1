#pragma once
// The audit stream: who did what to which object, and how it ended, one JSON object a line,
// apart from the debug log (which is for operators, may be sampled or silenced, and carries
// free-form fields). Every submit, read, cancel, result fetch, denial and admin action writes
// one record.
//
//   {"ts":"2026-11-25T01:02:03.456Z","request_id":"r-1","client_ip":"203.0.113.7",
//    "tenant":"acme","subject":"alice","role":"user","action":"task.submit",
//    "object":"task/8f1c...","outcome":"denied","reason":"rate_limited"}
//
// Keys always appear, in that order (empty strings when unknown). What may leak is bounded by
// the record type: it has no field that could carry image bytes or a whole request, and every
// field is sanitized on write: control characters (C0, DEL, C1) removed, invalid UTF-8
// replaced by U+FFFD, anything that looks like a bearer token or JWT replaced by "[redacted]",
// and cut to a per-field cap, so a line stays under 4 KiB (PIPE_BUF: atomic even on a pipe).
//
// Lines are appended with one write(2) to a file opened once with O_APPEND, so concurrent
// writers, other processes on the same file included, never interleave within a line.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace facefuse::http::audit {

struct AuditRecord {
    std::string request_id;
    std::string client_ip;  // see client_ip.hpp
    std::string tenant;
    std::string subject;  // who: the token's subject
    std::string role;     // "user", "vip", "admin"
    std::string action;   // e.g. "task.submit", "task.read", "task.cancel", "task.result"
    std::string object;   // e.g. "task/<id>"; never content
    std::string outcome;  // e.g. "allowed", "denied", "error"
    std::string reason;   // an error code ("rate_limited", "forbidden") or a short note
};

class AuditLog {
    struct Key {  // only open() and disabled() construct one (make_unique needs a public ctor)
        explicit Key() = default;
    };

  public:
    // "" gives a disabled log (write() does nothing); "-" writes to stdout; anything else is a
    // file, created (mode 0640) if absent and appended to. kOutputError when it cannot be
    // opened.
    static Result<std::unique_ptr<AuditLog>> open(const std::string& path);
    static std::unique_ptr<AuditLog> disabled();

    AuditLog(Key, int fd, bool owns_fd, std::string path);
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    // Appends one line with the current time. Thread-safe; never throws and never fails the
    // caller: a line that cannot be written is counted (failed_writes()) and reported in the
    // debug log (the first failure, then every 1000th), since refusing service because the
    // audit disk is full would be worse than the gap.
    void write(const AuditRecord& record) noexcept;

    bool enabled() const { return fd_ >= 0; }
    std::uint64_t failed_writes() const { return failed_.load(std::memory_order_relaxed); }

  private:
    int fd_;  // -1: disabled
    bool owns_fd_;
    std::string path_;
    std::mutex mutex_;  // one line at a time from this process (a pipe on stdout needs it)
    std::atomic<std::uint64_t> failed_{0};
};

// The line write() appends (with its trailing '\n') for a record at `unix_ms`; for tests.
std::string format_audit_line(const AuditRecord& record, std::int64_t unix_ms);

// `value` made safe for the audit stream (see above), at most `max_bytes` bytes long.
std::string sanitize_audit_field(std::string_view value, std::size_t max_bytes);

}  // namespace facefuse::http::audit
