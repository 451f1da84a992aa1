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
};
static_assert(kErrors.size() == static_cast<size_t>(ErrorCode::kInternal) + 1,
              "kErrors must list every ErrorCode in order");
}  // namespace

const ErrorInfo& error_info(ErrorCode code) { return kErrors[static_cast<size_t>(code)]; }

}  // namespace facefuse
