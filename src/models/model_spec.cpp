#include "models/model_spec.hpp"

#include <fstream>
#include <system_error>

namespace facefuse::models {

ModelSpec default_landmark_model() {
    return ModelSpec{
        .name = "dlib_68_landmarks",
        .version = "19.24",
        .path = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat",
        .license = "dlib shape_predictor_68 (iBUG 300-W training data: non-commercial use only)",
    };
}

Status check_model_file(const ModelSpec& spec) {
    std::error_code ec;
    const bool regular = std::filesystem::is_regular_file(spec.path, ec);
    if (!regular || !std::ifstream(spec.path).good()) {
        return make_error(ErrorCode::kModelUnavailable,
                          "model '" + spec.name + "' not found at " + spec.path.string() +
                              ": install Debian's libdlib-data (scripts/install-deps.sh does) or "
                              "pass --landmark-model PATH");
    }
    return Status::Ok();
}

}  // namespace facefuse::models
