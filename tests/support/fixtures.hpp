// Fixtures shared by the test areas: reproducible matrices, per-row scales, salient sets, bit
// comparisons and checks of error messages.
#pragma once

// AddressSanitizer builds define GIFT_TEST_UNDER_ASAN: there memory accounting (resident size,
// RLIMIT_DATA) counts the sanitizer's shadow memory and quarantine, so checks of it are skipped.
#if defined(__SANITIZE_ADDRESS__)
#define GIFT_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GIFT_TEST_UNDER_ASAN 1
#endif
#endif

#include <gift/error.hpp>
#include <gift/fill_standard_normal.hpp>
#include <gift/fwd.hpp>
#include <gift/random.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace gift_test {

/// A reproducible N(0, scale²) matrix: the noise stream (seed, layer).
inline gift::matrix_f normal_matrix(Eigen::Index rows, Eigen::Index cols, std::uint32_t layer, float scale = 1.0f,
                                    std::uint64_t seed = 20240815) {
  gift::matrix_f m(rows, cols);
  gift::fill_standard_normal(m, gift::noise_key{seed, layer, 0});
  return m * scale;
}

/// The matrices of the saliency and quantization tests (their own seed).
inline gift::matrix_f normal(Eigen::Index rows, Eigen::Index cols, std::uint32_t layer, float scale = 1.0f) {
  return normal_matrix(rows, cols, layer, scale, 2024);
}

/// Activations with heavy-tailed columns: column j is scaled by 1 + 30·[j % 17 == 3].
inline gift::matrix_f heavy_tailed(Eigen::Index tokens, Eigen::Index cols, std::uint32_t layer) {
  gift::matrix_f x = normal(tokens, cols, layer);
  for (Eigen::Index j = 0; j < cols; ++j)
    if (j % 17 == 3) x.col(j) *= 30.0f;
  return x;
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

/// Same shape and the same bits.
template <class A, class B>
bool bit_identical(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(typename A::Scalar) * static_cast<std::size_t>(a.size())) == 0;
}

/// The message of the gift::error that `call` throws, or "<no exception>".
template <class Call>
std::string message_of(const Call& call) {
  try {
    call();
  } catch (const gift::error& e) {
    return e.what();
  }
  return "<no exception>";
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

}  // namespace gift_test
