#pragma once
// SourceFaceCache: the analysed source face per source image, shared by a worker pool's slots.
//
// Apps swap one user's face into many targets (templates, the frames of a clip), so the same
// source bytes come back task after task, and analysing them (a detection and a landmark pass)
// is about a third of a swap. The key is the bytes' SHA-256 with the face position asked for and
// the landmark model's generation, so a hot reload never serves a face from the old model, and
// the tenant: a hit is faster than a miss, and one tenant must not learn by timing which photos
// another one sent. A bounded LRU; an entry is a few hundred bytes (box, score, 68 points), never
// the image.
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

#include "face/face.hpp"

namespace facefuse::worker {

class SourceFaceCache {
  public:
    // capacity 0: nothing is kept (every find misses).
    explicit SourceFaceCache(std::size_t capacity) : capacity_(capacity) {}

    static std::string key_for(const std::string& tenant,
                               std::span<const std::uint8_t> source_bytes, int face_position,
                               std::uint64_t model_generation);

    std::optional<face::Face> find(const std::string& key);
    void insert(const std::string& key, const face::Face& face);

    std::size_t size() const;

  private:
    using Entry = std::pair<std::string, face::Face>;
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::list<Entry> recent_;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace facefuse::worker
