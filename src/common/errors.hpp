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
};

struct ErrorInfo {
    std::string_view code;  // stable snake_case identifier
    int exit_code;          // CLI: 2 usage, 3 input, 4 no face, 5 environment, 1 internal
    int http_status;        // HTTP API
};

// Facts about a code; never fails.
const ErrorInfo& error_info(ErrorCode code);

}  // namespace facefuse
