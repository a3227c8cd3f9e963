// Must not compile: the Thrust implementation of column_norms is not included, so no backend in
// thrust<omp>'s chain implements it. With GIFT_SHOULD_COMPILE the header is included and the
// same call compiles.
#include <gift/backend/thrust/matrix.hpp>
#include <gift/column_norms.hpp>
#if defined(GIFT_SHOULD_COMPILE)
#include <gift/backend/thrust/column_norms.hpp>
#endif

int main() {
  const gift::thrust_matrix<float, gift::backend::system::omp> m(4, 4);
  const auto norms = gift::column_norms<gift::l2>(m);
  return static_cast<int>(norms.size()) - 4;
}
