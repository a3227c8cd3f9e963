// A program that consumes the installed gift::thrust: Thrust on the host OMP system must agree
// bit for bit with the Eigen backend.
#include "consumer_checks.hpp"

#include <gift/backend/thrust.hpp>

int main() {
  using omp_matrix = gift::thrust_matrix<float, gift::backend::system::omp>;
  const gift::matrix_f host = consumer::hand_matrix();
  const auto on_omp = omp_matrix::from_eigen(host);
  const gift::vector_f l2 = gift::to_eigen_vector(gift::column_norms<gift::l2>(on_omp));
  int failures = consumer::check(l2(0) == 3.0f && l2(1) == 5.0f, "thrust<omp> L2 column norms are 3 and 5");

  const gift::noise_key key{11, 1, 2};
  gift::matrix_f expected(9, 13);
  gift::fill_standard_normal(expected, key);
  omp_matrix noise(9, 13);
  gift::fill_standard_normal(noise, key);
  const gift::matrix_f found = noise.to_eigen();
  failures += consumer::check(std::memcmp(found.data(), expected.data(), sizeof(float) * expected.size()) == 0,
                              "thrust<omp> noise is bit-identical to the Eigen backend's");
  std::printf("%s\n", failures == 0 ? "gift::thrust consumer: OK" : "gift::thrust consumer: FAILED");
  return failures == 0 ? 0 : 1;
}
