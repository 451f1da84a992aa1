#pragma once
// The one registry of stable error codes.
//
// Every failure that crosses a layer carries one of these codes. The code string is part of
// the public contract (CLI messages, later the HTTP API's {"error":{"code"...}}), so codes are
// only ever added, never renamed. Each code knows its CLI exit code and its HTTP status, so the
// edges translate errors without a switch of their own.
#include <string_view>

namespace facefuse {

enum class ErrorCode {
    kUsage,              // bad flag or option value
    kFileNotFound,       // input path does not exist or cannot be opened
    kEmptyInput,         // zero bytes
    kUnsupportedFormat,  // bytes are not an image format we accept
    kInvalidImage,       // right format, but corrupt or truncated
    kImageTooLarge,      // over the byte or pixel limit
    kNoFaceInSource,
    kNoFaceInTarget,
    kFaceNotFound,       // a requested face position does not exist
    kOutputError,        // cannot write the output
    kModelUnavailable,   // a model file is missing or unreadable
    kCancelled,
    kInternal,
    // Service (HTTP API, queue, storage). Appended: codes are never renumbered or renamed.
    kNotFound,             // no such task for this caller (also another tenant's: no leak)
    kIdempotencyConflict,  // same Idempotency-Key, different request
    kNotFinished,          // result asked for while the task is queued or running
    kGone,                 // task or result expired
    kQueueFull,            // bounded queue of that priority is full: retry after a while
    kRequestTooLarge,      // body or part over its size cap
    kUnsupportedMediaType, // not multipart/form-data where that is required
    kUnavailable,          // a backend (Redis, S3, disk) is unreachable: transient
    kLeaseLost,            // a worker's lease expired and the task went to another worker
    kConflict,             // state transition not allowed (e.g. cancel a finished task)
    // Security and content policy.
    kUnauthenticated,      // no, malformed, expired or wrongly signed bearer token
    kForbidden,            // authenticated, but the role may not do this
    kRateLimited,          // the tenant's request rate is over its limit: retry after a while
    kQuotaExceeded,        // the tenant has too many tasks queued: wait for some to finish
    kContentRejected,      // the moderation classifier rejected an input
    // Operations.
    kOutOfMemory,          // host or accelerator memory ran out: transient, retried in a smaller batch
};

struct ErrorInfo {
    std::string_view code;  // stable snake_case identifier
    int exit_code;          // CLI: 2 usage, 3 input, 4 no face, 5 environment, 6 try again
                            // later (service busy or unreachable), 1 internal
    int http_status;        // HTTP API
};

// Facts about a code; never fails.
const ErrorInfo& error_info(ErrorCode code);

// The code whose stable name is `name` (as stored with a failed task); kInternal if none.
ErrorCode find_error_code(std::string_view name);

}  // namespace facefuse
