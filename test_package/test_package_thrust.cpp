// gift::thrust from the package: Thrust on the host OMP system agrees with the Eigen backend.
#include <gift/backend/thrust.hpp>
#include <gift/gift.hpp>

#include <cstdio>
#include <cstring>

int main() {
  using omp_matrix = gift::thrust_matrix<float, gift::backend::system::omp>;
  gift::matrix_f host(37, 11);
  gift::fill_standard_normal(host, gift::noise_key{4, 5, 6});
  const gift::vector_f expected = gift::column_norms<gift::l2>(host);
  const gift::vector_f found = gift::to_eigen_vector(gift::column_norms<gift::l2>(omp_matrix::from_eigen(host)));
  const bool same = std::memcmp(found.data(), expected.data(), sizeof(float) * expected.size()) == 0;
  std::printf("gift::thrust (OMP): %s\n", same ? "OK" : "FAILED: column norms differ from the Eigen backend");
  return same ? 0 : 1;
}
