#include "models/model_spec.hpp"

#include <fstream>
#include <system_error>

#include "common/sha256.hpp"

namespace facefuse::models {

ModelSpec default_landmark_model() {
    return ModelSpec{
        .name = "dlib_68_landmarks",
        .version = "19.24",
        .kind = kFaceLandmarker,
        .path = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat",
        // Debian 12's libdlib-data 19.24+dfsg-1; the file has not changed since 2018.
        .sha256 = "fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
        .license = "dlib shape_predictor_68 (iBUG 300-W training data: non-commercial use only)",
        .source = "shape_predictor_68_face_landmarks.dat",
    };
}

Status check_model_file(const ModelSpec& spec) {
    std::error_code ec;
    const bool regular = std::filesystem::is_regular_file(spec.path, ec);
    if (!regular || !std::ifstream(spec.path).good()) {
        return make_error(ErrorCode::kModelUnavailable,
                          "model '" + spec.name + "' not found at " + spec.path.string() +
                              ": install Debian's libdlib-data (scripts/install-deps.sh does), run "
                              "`facefuse models pull`, or pass --landmark-model PATH");
    }
    return Status::Ok();
}

Status verify_model(const ModelSpec& spec) {
    if (Status st = check_model_file(spec); !st) return st;
    if (spec.sha256.empty()) return Status::Ok();
    auto digest = sha256_file_hex(spec.path);
    if (!digest) return make_error(ErrorCode::kModelUnavailable, "model '" + spec.name + "': " + digest.error().message);
    if (*digest != spec.sha256) {
        return make_error(ErrorCode::kModelUnavailable,
                          "model '" + spec.name + "' " + spec.version + " at " + spec.path.string() +
                              " has sha256 " + *digest + ", the manifest expects " + spec.sha256 +
                              ": the file is damaged or another version; fetch it again with "
                              "`facefuse models pull` or fix the manifest");
    }
    return Status::Ok();
}

}  // namespace facefuse::models
