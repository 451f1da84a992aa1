#pragma once
// A detected face: where it is, how sure the detector is, and its 68 landmarks in the iBUG 300-W
// layout (0-16 jaw, 17-26 brows, 27-35 nose, 36-47 eyes, 48-67 mouth), all in the coordinates of
// the image it was found in, at full resolution.
#include <array>

#include <opencv2/core.hpp>

namespace facefuse::face {

inline constexpr int kLandmarkCount = 68;
using Landmarks68 = std::array<cv::Point2f, kLandmarkCount>;

struct Face {
    cv::Rect2f box;
    float score = 0;   // detector confidence; higher is better (dlib HOG: about -0.5..3)
    int rotation = 0;  // 0, 90, 180 or 270: how far the image was turned for the face to be found
    Landmarks68 landmarks{};
};

// Centre of each eye (mean of its six points). "Left" is the image's left.
cv::Point2f left_eye_centre(const Landmarks68& points);
cv::Point2f right_eye_centre(const Landmarks68& points);

// Distance between the eye centres: the unit in which landmark errors are measured.
float inter_ocular_distance(const Landmarks68& points);

// Bounding rectangle of the landmarks.
cv::Rect2f landmark_bounds(const Landmarks68& points);

}  // namespace facefuse::face
