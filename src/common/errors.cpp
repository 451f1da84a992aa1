#include "common/errors.hpp"

#include <array>

namespace facefuse {
namespace {
// Indexed by ErrorCode; keep in enum order (a static_assert below checks the size).
constexpr std::array kErrors = {
    ErrorInfo{"usage", 2, 400},
    ErrorInfo{"file_not_found", 3, 400},
    ErrorInfo{"empty_input", 3, 400},
    ErrorInfo{"unsupported_format", 3, 415},
    ErrorInfo{"invalid_image", 3, 422},
    ErrorInfo{"image_too_large", 3, 413},
    ErrorInfo{"no_face_in_source", 4, 422},
    ErrorInfo{"no_face_in_target", 4, 422},
    ErrorInfo{"face_not_found", 4, 422},
    ErrorInfo{"output_error", 5, 500},
    ErrorInfo{"model_unavailable", 5, 503},
    ErrorInfo{"cancelled", 1, 409},
    ErrorInfo{"internal", 1, 500},
    ErrorInfo{"not_found", 3, 404},
    ErrorInfo{"idempotency_conflict", 2, 409},
    ErrorInfo{"not_finished", 1, 409},
    ErrorInfo{"gone", 3, 410},
    ErrorInfo{"queue_full", 6, 429},
    ErrorInfo{"request_too_large", 3, 413},
    ErrorInfo{"unsupported_media_type", 2, 415},
    ErrorInfo{"unavailable", 6, 503},
    ErrorInfo{"lease_lost", 1, 409},
    ErrorInfo{"conflict", 1, 409},
    ErrorInfo{"unauthenticated", 2, 401},
    ErrorInfo{"forbidden", 2, 403},
    ErrorInfo{"rate_limited", 6, 429},
    ErrorInfo{"quota_exceeded", 6, 429},
    ErrorInfo{"content_rejected", 3, 422},
    ErrorInfo{"out_of_memory", 6, 503},
};
static_assert(kErrors.size() == static_cast<size_t>(ErrorCode::kOutOfMemory) + 1,
              "kErrors must list every ErrorCode in order");
}  // namespace

const ErrorInfo& error_info(ErrorCode code) { return kErrors[static_cast<size_t>(code)]; }

ErrorCode find_error_code(std::string_view name) {
    for (size_t i = 0; i < kErrors.size(); ++i)
        if (kErrors[i].code == name) return static_cast<ErrorCode>(i);
    return ErrorCode::kInternal;
}

}  // namespace facefuse
