#include "worker/source_face_cache.hpp"

#include "common/sha256.hpp"

namespace facefuse::worker {

std::string SourceFaceCache::key_for(const std::string& tenant,
                                     std::span<const std::uint8_t> source_bytes, int face_position,
                                     std::uint64_t model_generation) {
    // Tenant names are [A-Za-z0-9._-] (as storage keys need too), so the parts cannot run together.
    return tenant + "/" + sha256_hex(source_bytes) + "/" + std::to_string(face_position) + "/" +
           std::to_string(model_generation);
}

std::optional<face::Face> SourceFaceCache::find(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto found = index_.find(key);
    if (found == index_.end()) return std::nullopt;
    recent_.splice(recent_.begin(), recent_, found->second);
    return found->second->second;
}

void SourceFaceCache::insert(const std::string& key, const face::Face& face) {
    if (capacity_ == 0) return;
    std::lock_guard lock(mutex_);
    if (auto found = index_.find(key); found != index_.end()) {
        found->second->second = face;
        recent_.splice(recent_.begin(), recent_, found->second);
        return;
    }
    recent_.emplace_front(key, face);
    index_.emplace(key, recent_.begin());
    if (recent_.size() > capacity_) {
        index_.erase(recent_.back().first);
        recent_.pop_back();
    }
}

std::size_t SourceFaceCache::size() const {
    std::lock_guard lock(mutex_);
    return recent_.size();
}

}  // namespace facefuse::worker
