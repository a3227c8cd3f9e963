// Quickstart: build a weight matrix, compute its column norms with three norm policies, and draw
// reproducible Philox noise from a (seed, layer, step) key.
#include <gift/gift.hpp>

#include <cstdio>

int main() {
  // A small "weight matrix" W (out × in) with a few loud input columns.
  gift::matrix_f weights(6, 8);
  gift::fill_standard_normal(weights, gift::noise_key{/*seed=*/1, /*layer=*/0, /*step=*/0});
  weights.col(3) *= 10.0f;
  weights.col(6) *= 5.0f;

  std::printf("gift %s quickstart\n\nweights (6 x 8):\n", gift::version_string);
  for (Eigen::Index i = 0; i < weights.rows(); ++i) {
    for (Eigen::Index j = 0; j < weights.cols(); ++j) std::printf("%8.3f", weights(i, j));
    std::printf("\n");
  }

  std::printf("\ncolumn norms:\n  %-5s", "");
  for (Eigen::Index j = 0; j < weights.cols(); ++j) std::printf("  col %-2ld", static_cast<long>(j));
  std::printf("\n");
  gift::for_each_type<gift::type_list<gift::l1, gift::l2, gift::linf>>([&]<class Norm>() {
    const gift::vector_f norms = gift::column_norms<Norm>(weights);
    std::printf("  %-5s", Norm::name().c_str());
    for (Eigen::Index j = 0; j < norms.size(); ++j) std::printf("%8.3f", norms(j));
    std::printf("\n");
  });

  // The same key gives the same noise on every backend and thread count; a new step gives new
  // noise.
  std::printf("\nPhilox4x32-10 normal noise, seed 42, layer 7:\n");
  for (std::uint32_t step = 0; step < 3; ++step) {
    const gift::noise_key key{42, 7, step};
    std::printf("  step %u:", step);
    for (std::uint64_t index = 0; index < 6; ++index) std::printf(" %+.6f", gift::standard_normal(key, index));
    std::printf("\n");
  }
  return 0;
}
