// Must not compile: a std::vector implies no backend. With GIFT_SHOULD_COMPILE an Eigen matrix
// is passed instead.
#include <gift/column_norms.hpp>

#include <vector>

int main() {
#if defined(GIFT_SHOULD_COMPILE)
  const gift::matrix_f m = gift::matrix_f::Ones(2, 2);
#else
  const std::vector<float> m(4, 1.0f);
#endif
  const auto norms = gift::column_norms<gift::l2>(m);
  return static_cast<int>(norms.size()) - 2;
}
