#pragma once
// Checks shared by the consumer projects: each returns the number of failed checks and prints
// what failed, so a consumer's exit status says whether the installed (or added) gift works.
#include <gift/gift.hpp>

#include <cstdio>
#include <cstring>
#include <string>

namespace consumer {

inline int check(bool ok, const char* what) {
  if (!ok) std::fprintf(stderr, "consumer check failed: %s\n", what);
  return ok ? 0 : 1;
}

// One version: the CMake package's gift_VERSION (passed in by the consumer's CMakeLists), the
// header's macros and gift::version_string must all agree.
inline int check_version(const char* cmake_version) {
  const std::string from_macros = std::to_string(GIFT_VERSION_MAJOR) + "." +
                                  std::to_string(GIFT_VERSION_MINOR) + "." +
                                  std::to_string(GIFT_VERSION_PATCH);
  std::printf("gift %s (CMake package %s)\n", gift::version_string, cmake_version);
  return check(from_macros == gift::version_string, "gift::version_string matches GIFT_VERSION_*") +
         check(std::string(cmake_version) == gift::version_string,
               "the package version CMake found matches gift::version_string");
}

// A matrix whose column norms are exact small integers, worked out by hand:
// column 0 = (1, 2, 2): L1 5, L2 3, Linf 2; column 1 = (0, -3, 4): L1 7, L2 5, Linf 4.
inline gift::matrix_f hand_matrix() {
  gift::matrix_f m(3, 2);
  m << 1.0f, 0.0f, 2.0f, -3.0f, 2.0f, 4.0f;
  return m;
}

inline int check_eigen_backend() {
  const gift::matrix_f m = hand_matrix();
  const gift::vector_f l1 = gift::column_norms<gift::l1>(m);
  const gift::vector_f l2 = gift::column_norms<gift::l2>(m);
  const gift::vector_f linf = gift::column_norms<gift::linf>(m);
  int failures = check(l1(0) == 5.0f && l1(1) == 7.0f, "L1 column norms are 5 and 7") +
                 check(l2(0) == 3.0f && l2(1) == 5.0f, "L2 column norms are 3 and 5") +
                 check(linf(0) == 2.0f && linf(1) == 4.0f, "Linf column norms are 2 and 4");

  // Element (i, j) of a filled matrix is standard_normal(key, i * cols + j), bit for bit.
  const gift::noise_key key{2024, 3, 7};
  gift::matrix_f noise(5, 7);
  gift::fill_standard_normal(noise, key);
  bool same = true;
  for (Eigen::Index i = 0; i < noise.rows(); ++i)
    for (Eigen::Index j = 0; j < noise.cols(); ++j) {
      const float expected = gift::standard_normal(key, static_cast<std::uint64_t>(i * noise.cols() + j));
      same = same && std::memcmp(&expected, &noise(i, j), sizeof(float)) == 0;
    }
  failures += check(same, "fill_standard_normal element (i, j) == standard_normal(key, i * cols + j)");

  // Bad input reaches the consumer as gift::error.
  bool threw = false;
  try {
    (void)gift::column_norms<gift::l2>(gift::matrix_f(0, 3));
  } catch (const gift::error&) {
    threw = true;
  }
  failures += check(threw, "an empty matrix throws gift::error");
  return failures;
}

}  // namespace consumer
