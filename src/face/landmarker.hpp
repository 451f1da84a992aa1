#pragma once
// LandmarkProvider: the seam between face analysis and a landmark model.
//
// The default model (dlib's 68-point predictor) may not be used commercially, so it must be
// replaceable without touching detection, selection or fusion: any model that yields the
// 68-point iBUG layout can sit behind this interface.
#include <memory>
#include <string_view>

#include <opencv2/core.hpp>

#include "common/result.hpp"
#include "face/face.hpp"
#include "models/model_spec.hpp"

namespace facefuse::face {

class LandmarkProvider {
public:
    virtual ~LandmarkProvider() = default;

    // Locates the 68 landmarks of the face inside `box` of the 8-bit single-channel image
    // `gray`, in gray's coordinates. `box` may extend past the image. Never fails: a poor box
    // gives poor points. Safe to call concurrently from many threads on one instance.
    virtual Landmarks68 locate(const cv::Mat& gray, const cv::Rect2f& box) const = 0;

    // The model that serves, for logs and `facefuse --version`.
    virtual const models::ModelSpec& spec() const = 0;
};

// Loads dlib's shape predictor from spec.path (about 0.4 s for the 100 MB default; do it once per
// process and share the instance). Errors: kModelUnavailable (missing, unreadable or corrupt).
Result<std::shared_ptr<const LandmarkProvider>> load_dlib_landmarker(const models::ModelSpec& spec);

}  // namespace facefuse::face
