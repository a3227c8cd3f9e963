// Inputs shared by the benchmarks: reproducible N(0, scale²) weight matrices, generated once per
// shape and seed and kept for the whole run (generation is not what the benchmarks measure).
#pragma once

#include <gift/fill_standard_normal.hpp>
#include <gift/fwd.hpp>

#include <cstdint>
#include <map>
#include <tuple>

namespace bench {

/// The `rows × cols` matrix with element (i, j) = scale · standard_normal({seed, rows, 0}, i·cols + j).
inline const gift::matrix_f& normal_weights(Eigen::Index rows, Eigen::Index cols, std::uint64_t seed, float scale = 1.0f) {
  static std::map<std::tuple<Eigen::Index, Eigen::Index, std::uint64_t, float>, gift::matrix_f> cache;
  const auto key = std::make_tuple(rows, cols, seed, scale);
  auto found = cache.find(key);
  if (found == cache.end()) {
    gift::matrix_f w(rows, cols);
    gift::fill_standard_normal(w, gift::noise_key{seed, static_cast<std::uint32_t>(rows), 0});
    found = cache.emplace(key, w * scale).first;
  }
  return found->second;
}

}  // namespace bench
