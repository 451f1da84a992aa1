// LandmarkProvider backed by dlib's shape_predictor (an ensemble of regression trees, Kazemi &
// Sullivan 2014). Inference is ~1 ms a face; loading the 100 MB default is the expensive part.
#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv/cv_image.h>

#include "face/landmarker.hpp"

namespace facefuse::face {
namespace {

class DlibLandmarker final : public LandmarkProvider {
public:
    DlibLandmarker(models::ModelSpec spec, dlib::shape_predictor predictor)
        : spec_(std::move(spec)), predictor_(std::move(predictor)) {}

    Landmarks68 locate(const cv::Mat& gray, const cv::Rect2f& box) const override {
        // shape_predictor::operator() is const and keeps no state, hence thread-safe. cv_image
        // wraps the Mat without copying.
        const dlib::cv_image<unsigned char> image(gray);
        const dlib::rectangle rect(std::lround(box.x), std::lround(box.y),
                                   std::lround(box.x + box.width) - 1,
                                   std::lround(box.y + box.height) - 1);
        const dlib::full_object_detection shape = predictor_(image, rect);
        Landmarks68 points{};
        for (int i = 0; i < kLandmarkCount && i < static_cast<int>(shape.num_parts()); ++i) {
            points[i] = cv::Point2f(static_cast<float>(shape.part(i).x()),
                                    static_cast<float>(shape.part(i).y()));
        }
        return points;
    }

    const models::ModelSpec& spec() const override { return spec_; }

private:
    models::ModelSpec spec_;
    dlib::shape_predictor predictor_;
};

}  // namespace

Result<std::shared_ptr<const LandmarkProvider>> load_dlib_landmarker(const models::ModelSpec& spec) {
    if (Status st = models::check_model_file(spec); !st) return st.error();
    dlib::shape_predictor predictor;
    try {
        dlib::deserialize(spec.path.string()) >> predictor;
    } catch (const std::exception& e) {
        return make_error(ErrorCode::kModelUnavailable,
                          "model '" + spec.name + "' at " + spec.path.string() +
                              " is not a dlib shape predictor (" + e.what() +
                              "); reinstall libdlib-data or pass another --landmark-model");
    }
    if (predictor.num_parts() != static_cast<unsigned long>(kLandmarkCount)) {
        return make_error(ErrorCode::kModelUnavailable,
                          "model '" + spec.name + "' has " + std::to_string(predictor.num_parts()) +
                              " landmarks; facefuse needs the 68-point layout");
    }
    return std::shared_ptr<const LandmarkProvider>(
        std::make_shared<DlibLandmarker>(spec, std::move(predictor)));
}

}  // namespace facefuse::face
