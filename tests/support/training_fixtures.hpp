// Shared helpers of the training tests.
#pragma once

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/random.hpp>
#include <gift/fill_standard_normal.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace training_test {

/// A reproducible N(0, scale²) matrix.
inline gift::matrix_f normal_matrix(Eigen::Index rows, Eigen::Index cols, std::uint32_t layer, float scale = 1.0f) {
  gift::matrix_f m(rows, cols);
  gift::fill_standard_normal(m, gift::noise_key{20240815, layer, 0});
  return m * scale;
}

/// Per-row scales spread over a decade, all positive.
inline gift::vector_f row_scales(Eigen::Index rows) {
  gift::vector_f delta(rows);
  for (Eigen::Index i = 0; i < rows; ++i) delta(i) = 0.01f * (1.0f + static_cast<float>(i % 10));
  return delta;
}

/// Every `stride`-th column starting at `offset`: a spread-out salient set.
inline std::vector<std::int64_t> every_nth(std::int64_t columns, std::int64_t stride, std::int64_t offset) {
  std::vector<std::int64_t> salient;
  for (std::int64_t j = offset; j < columns; j += stride) salient.push_back(j);
  return salient;
}

template <class A, class B>
bool bit_identical(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(typename A::Scalar) * static_cast<std::size_t>(a.size())) == 0;
}

template <class Call>
std::string message_of(const Call& call) {
  try {
    call();
  } catch (const gift::error& e) {
    return e.what();
  }
  return "<no exception>";
}

}  // namespace training_test
