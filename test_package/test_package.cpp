// The smallest useful consumer of the gift package: column norms with hand-computed values,
// reproducible noise, and the version the package was created with.
#include <gift/gift.hpp>

#include <cstdio>
#include <cstring>
#include <string>

int main() {
  int failures = 0;
  const std::string from_macros = std::to_string(GIFT_VERSION_MAJOR) + "." + std::to_string(GIFT_VERSION_MINOR) +
                                  "." + std::to_string(GIFT_VERSION_PATCH);
  if (from_macros != gift::version_string || std::string(GIFT_EXPECTED_VERSION) != gift::version_string) {
    std::fprintf(stderr, "version mismatch: header %s, macros %s, package %s\n", gift::version_string,
                 from_macros.c_str(), GIFT_EXPECTED_VERSION);
    ++failures;
  }

  // Columns (1, 2, 2) and (0, -3, 4): L2 norms 3 and 5.
  gift::matrix_f m(3, 2);
  m << 1.0f, 0.0f, 2.0f, -3.0f, 2.0f, 4.0f;
  const gift::vector_f norms = gift::column_norms<gift::l2>(m);
  if (norms(0) != 3.0f || norms(1) != 5.0f) {
    std::fprintf(stderr, "column L2 norms: got %g %g, expected 3 5\n", norms(0), norms(1));
    ++failures;
  }

  const gift::noise_key key{1, 2, 3};
  gift::matrix_f noise(2, 3);
  gift::fill_standard_normal(noise, key);
  const float expected = gift::standard_normal(key, 1 * 3 + 2);
  if (std::memcmp(&expected, &noise(1, 2), sizeof(float)) != 0) {
    std::fprintf(stderr, "noise element (1, 2) differs from standard_normal(key, 5)\n");
    ++failures;
  }
  std::printf("gift %s: %s\n", gift::version_string, failures == 0 ? "OK" : "FAILED");
  return failures == 0 ? 0 : 1;
}
