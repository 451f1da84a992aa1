// crop_source_face: the part of a source photo a swap reads, which the worker's cache keeps in
// place of the photo. A swap from the crop must look like a swap from the whole photo.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "face/analyser.hpp"
#include "face/landmarker.hpp"
#include "fusion/face_geometry.hpp"
#include "fusion/face_swapper.hpp"
#include "fusion/pipeline.hpp"
#include "models/model_spec.hpp"
#include "support/test_support.hpp"

namespace facefuse::fusion {
namespace {

class CropSourceFaceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto model = face::load_dlib_landmarker(models::default_landmark_model());
        ASSERT_TRUE(model) << "the default landmark model did not load: install libdlib-data";
        analyser_ = std::make_unique<face::FaceAnalyser>(*model);
    }

    face::Face first_face(const cv::Mat& image) {
        auto faces = analyser_->analyse(image);
        EXPECT_FALSE(faces.empty());
        return faces.empty() ? face::Face{} : faces.front();
    }

    std::unique_ptr<face::FaceAnalyser> analyser_;
};

TEST_F(CropSourceFaceTest, KeepsTheMeshWithAMarginAndMovesTheFaceWithIt) {
    const cv::Mat source = cv::imread(test::face("mae_jemison_nasa.jpg").string());
    ASSERT_FALSE(source.empty());
    const face::Face face = first_face(source);
    const SourceFace crop = crop_source_face(source, face);

    EXPECT_LT(crop.image.total(), source.total()) << "the crop must be smaller than the photo";
    const cv::Point2f offset(face.box.x - crop.face.box.x, face.box.y - crop.face.box.y);
    EXPECT_EQ(offset.x, std::floor(offset.x)) << "an integer shift: pixels are not resampled";
    for (int i = 0; i < face::kLandmarkCount; ++i) {
        EXPECT_FLOAT_EQ(crop.face.landmarks[i].x + offset.x, face.landmarks[i].x) << i;
        EXPECT_FLOAT_EQ(crop.face.landmarks[i].y + offset.y, face.landmarks[i].y) << i;
    }
    // Every mesh point lies inside the crop, at least the margin (or the photo's own edge) away.
    const cv::Rect mesh = cv::boundingRect(warp_points(crop.face.landmarks));
    const int margin = std::max(mesh.width, mesh.height) / 4;
    const cv::Rect in_photo(-static_cast<int>(offset.x), -static_cast<int>(offset.y), source.cols,
                            source.rows);
    const cv::Rect wanted = cv::Rect(mesh.x - margin, mesh.y - margin, mesh.width + 2 * margin,
                                     mesh.height + 2 * margin) &
                            in_photo;
    EXPECT_EQ(wanted & cv::Rect(0, 0, crop.image.cols, crop.image.rows), wanted);
    // The same pixels, not a copy of something else.
    const cv::Point nose(cvRound(face.landmarks[30].x), cvRound(face.landmarks[30].y));
    EXPECT_EQ(crop.image.at<cv::Vec3b>(nose - cv::Point(offset)), source.at<cv::Vec3b>(nose));
}

TEST_F(CropSourceFaceTest, ASwapFromTheCropMatchesASwapFromThePhoto) {
    const cv::Mat source = cv::imread(test::face("mae_jemison_nasa.jpg").string());
    const cv::Mat portrait = cv::imread(test::face("chris_pratt_2018.jpg").string());
    ASSERT_FALSE(portrait.empty());
    cv::Mat small;
    cv::resize(portrait, small, cv::Size(), 0.3, 0.3, cv::INTER_AREA);
    // A small target face reads the source sparsely and far outside each destination pixel (the
    // faces' size ratio is large); a large one densely. Both must come out the same.
    for (const auto& [target_name, target] :
         {std::pair{"portrait", portrait}, std::pair{"portrait at 0.3", small}}) {
        ASSERT_FALSE(source.empty());
        const face::Face face = first_face(source);
        SwapJob whole{source, target, {}, {"face_swapper"}, face};
        const SourceFace crop = crop_source_face(source, face);
        SwapJob cropped{crop.image, target, {}, {"face_swapper"}, crop.face};

        auto from_whole = run_swap(whole, *analyser_, nullptr);
        auto from_crop = run_swap(cropped, *analyser_, nullptr);
        ASSERT_TRUE(from_whole) << target_name << ": " << from_whole.error().message;
        ASSERT_TRUE(from_crop) << target_name << ": " << from_crop.error().message;
        ASSERT_GT(cv::norm(*from_whole, target, cv::NORM_L1), 0)
            << target_name << ": the swap changed nothing";
        cv::Mat diff;
        cv::absdiff(*from_whole, *from_crop, diff);
        double worst = 0;
        cv::minMaxLoc(diff.reshape(1), nullptr, &worst);
        // Moving the mesh by whole pixels changes the affine maps in their last bits, which can
        // move a bilinear sample by 1/32 px: a level at most, in a few pixels. (With no margin
        // the small face's swap differs by 4 levels: what the margin is for.)
        EXPECT_LE(worst, 1) << target_name;
        EXPECT_LT(cv::countNonZero(diff.reshape(1)), static_cast<int>(diff.total() / 1000))
            << target_name;
    }
}

}  // namespace
}  // namespace facefuse::fusion
