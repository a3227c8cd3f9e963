// Shared helpers of the saliency tests: reproducible random matrices and message checks.
#pragma once

#include <gift/fwd.hpp>
#include <gift/fill_standard_normal.hpp>

#include <cstdint>
#include <cstring>
#include <string>

namespace saliency_test {

/// A reproducible N(0, 1) matrix, scaled.
inline gift::matrix_f normal(Eigen::Index rows, Eigen::Index cols, std::uint32_t layer, float scale = 1.0f) {
  gift::matrix_f m(rows, cols);
  gift::fill_standard_normal(m, gift::noise_key{2024, layer, 0});
  return m * scale;
}

/// Activations with heavy-tailed columns: column j is scaled by 1 + 30·[j % 17 == 3].
inline gift::matrix_f heavy_tailed(Eigen::Index tokens, Eigen::Index cols, std::uint32_t layer) {
  gift::matrix_f x = normal(tokens, cols, layer);
  for (Eigen::Index j = 0; j < cols; ++j)
    if (j % 17 == 3) x.col(j) *= 30.0f;
  return x;
}

/// A predicate for BOOST_CHECK_EXCEPTION: the message contains every fragment.
struct message_has {
  std::string first, second;
  explicit message_has(std::string a, std::string b = {}) : first(std::move(a)), second(std::move(b)) {}
  template <class E>
  bool operator()(const E& e) const {
    const std::string what = e.what();
    return what.find(first) != std::string::npos && what.find(second) != std::string::npos;
  }
};

template <class A, class B>
bool same_bits(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(typename A::Scalar) * static_cast<std::size_t>(a.size())) == 0;
}

}  // namespace saliency_test
