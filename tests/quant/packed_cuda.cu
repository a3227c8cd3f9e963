// The packed product's CUDA kernel against the CPU (Eigen) path: the same y = x Wᵀ to fp32
// rounding for every bit-width, token counts inside and across tiles, and a layer wider than
// one warp's stride. Runs where a GPU exists; skipped (exit 77) elsewhere.
#include <boost/test/unit_test.hpp>

#include <gift/backend/cuda.cuh>
#include <gift/fill_standard_normal.hpp>
#include <gift/quant/packed.hpp>
#include <gift/quant/symmetric.hpp>

#include <cstdint>
#include <vector>

// Every case of this file belongs to the CTest test quant_packed_cuda (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(quant_packed_cuda)

namespace {
gift::matrix_f normal(Eigen::Index rows, Eigen::Index cols, std::uint32_t layer, float scale) {
  gift::matrix_f m(rows, cols);
  gift::fill_standard_normal(m, gift::noise_key{2025, layer, 0});
  return m * scale;
}
}  // namespace

BOOST_AUTO_TEST_CASE(cuda_packed_product_matches_the_cpu) {
  for (const int bits : {2, 3, 4, 8}) {
    const gift::matrix_f w = normal(301, 200, static_cast<std::uint32_t>(bits), 0.05f);
    std::vector<std::int64_t> indices;
    for (std::int64_t j = 3; j < 200; j += 11) indices.push_back(j);
    const auto salient = gift::salient_columns::from_indices(indices, 200);
    auto q = gift::quantize_symmetric(w, gift::symmetric_options{bits, gift::alpha_search::max_abs(), 0}, salient);
    gift::matrix_f mixed = q.dequantized;
    gift::restore_salient_columns(mixed, w, salient);
    const auto packed = gift::packed_matrix::pack(mixed, q.delta.col(0), salient, bits);
    for (const Eigen::Index tokens : {1, 8, 9, 70}) {
      const gift::matrix_f x = normal(tokens, 200, 100 + static_cast<std::uint32_t>(tokens), 1.0f);
      gift::matrix_f cpu;
      gift::packed_matmul(packed, x, cpu);
      gift::cuda_matrix<float> y;
      gift::packed_matmul(gift::backend::cuda{}, packed, gift::cuda_matrix<float>::from_eigen(x), y);
      const gift::matrix_f gpu = y.to_eigen();
      BOOST_TEST_REQUIRE(gpu.rows() == cpu.rows());
      BOOST_TEST_REQUIRE(gpu.cols() == cpu.cols());
      const double scale = cpu.cwiseAbs().maxCoeff();
      BOOST_TEST((gpu - cpu).cwiseAbs().maxCoeff() <= 1e-5 * scale, "bits " << bits << " tokens " << tokens);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()  // quant_packed_cuda
