#pragma once
/// \file gift/backend/thrust/gemm.hpp
/// \brief `gift::backend::thrust_gemm<System>`: the BLAS of a Thrust system — batches of row-major
/// GEMMs on raw pointers into the system's memory. Thrust has no GEMM; the host systems use Eigen
/// on their (host) memory, and `backend/cuda/gemm.cuh` gives the CUDA system cuBLAS.
///
/// The Thrust backend's kernels (the model's attention and output head, `gift::multiply`) are
/// written once against this interface, so they run unchanged on the host systems and the GPU.

#include <gift/backend/tags.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/detail/product.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <span>
#include <type_traits>

namespace gift::backend {

/// The common shape of a batch of products `C = op(A) · op(B)` (or `C += ...`), row-major:
/// op(A) is `m × depth`, op(B) `depth × n`, C `m × n`; `lda`, `ldb`, `ldc` are the row strides
/// of A, B, C as stored (A stored `depth × m` when transposed, B stored `n × depth` when
/// transposed).
struct gemm_shape {
  std::int64_t m = 0;          ///< rows of C
  std::int64_t n = 0;          ///< columns of C
  std::int64_t depth = 0;      ///< the summed dimension
  std::int64_t lda = 0;        ///< row stride of A as stored
  std::int64_t ldb = 0;        ///< row stride of B as stored
  std::int64_t ldc = 0;        ///< row stride of C
  bool transpose_a = false;    ///< read A transposed
  bool transpose_b = false;    ///< read B transposed
  bool accumulate = false;     ///< add into C instead of overwriting it
};

/// The operands of one product of a batch (pointers into the system's memory).
template <class T>
struct gemm_operands {
  const T* a;  ///< first element of A
  const T* b;  ///< first element of B
  T* c;        ///< first element of C
};

/// A Thrust system's GEMM: `run(shape, operands)` for a batch of products of one shape (the
/// attention's per-head products), `run_one(shape, operands)` for one large product (a linear
/// layer, the output head). Specialised for the host systems here and for CUDA in
/// `backend/cuda/gemm.cuh`.
template <class System>
struct thrust_gemm;

namespace detail {
/// Host GEMMs through Eigen maps. A lone product is cut into shape-fixed column blocks
/// (`product_any_threads`); a batch runs its products in parallel (OMP system) or in order (CPP),
/// each a single-threaded Eigen GEMM, as the Eigen backend's attention does. Either way the bits
/// do not depend on the thread count.
struct host_gemm {
  template <class T>
  using map = Eigen::Map<const gift::matrix<T>, 0, Eigen::OuterStride<>>;
  template <class T>
  using mutable_map = Eigen::Map<gift::matrix<T>, 0, Eigen::OuterStride<>>;

  template <class T>
  static void one(const gemm_shape& s, const gemm_operands<T>& o, bool any_threads) {
    const map<T> a(o.a, s.transpose_a ? s.depth : s.m, s.transpose_a ? s.m : s.depth, Eigen::OuterStride<>(s.lda));
    const map<T> b(o.b, s.transpose_b ? s.n : s.depth, s.transpose_b ? s.depth : s.n, Eigen::OuterStride<>(s.ldb));
    mutable_map<T> c(o.c, s.m, s.n, Eigen::OuterStride<>(s.ldc));
    const auto run = [&](const auto& lhs, const auto& rhs) {
      if (any_threads) {
        gift::detail::product_any_threads(c, lhs, rhs, /*accumulate=*/true);
      } else {
        c.noalias() += lhs * rhs;
      }
    };
    if (!s.accumulate) c.setZero();
    if (s.transpose_a && s.transpose_b) {
      run(a.transpose(), b.transpose());
    } else if (s.transpose_a) {
      run(a.transpose(), b);
    } else if (s.transpose_b) {
      run(a, b.transpose());
    } else {
      run(a, b);
    }
  }

  template <class T>
  static void batch(const gemm_shape& s, std::span<const gemm_operands<T>> operands, bool parallel) {
    const auto count = static_cast<std::int64_t>(operands.size());
    if (parallel) {
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1)
#endif
      for (std::int64_t i = 0; i < count; ++i) one(s, operands[static_cast<std::size_t>(i)], false);
    } else {
      for (std::int64_t i = 0; i < count; ++i) one(s, operands[static_cast<std::size_t>(i)], false);
    }
  }
};
}  // namespace detail

/// Thrust's sequential host system: Eigen, the batch in order.
template <>
struct thrust_gemm<system::cpp> {
  /// Runs every product of the batch (all of shape `shape`), each on one thread.
  template <class T>
  static void run(const gemm_shape& shape, std::span<const gemm_operands<T>> operands) {
    detail::host_gemm::batch(shape, operands, false);
  }
  /// Runs one large product on every thread (column blocks fixed by the shape).
  template <class T>
  static void run_one(const gemm_shape& shape, const gemm_operands<T>& operands) {
    detail::host_gemm::one(shape, operands, true);
  }
};

/// Thrust's OpenMP host system: Eigen, the batch spread over the threads.
template <>
struct thrust_gemm<system::omp> {
  /// Runs every product of the batch (all of shape `shape`), each on one thread.
  template <class T>
  static void run(const gemm_shape& shape, std::span<const gemm_operands<T>> operands) {
    detail::host_gemm::batch(shape, operands, true);
  }
  /// Runs one large product on every thread (column blocks fixed by the shape).
  template <class T>
  static void run_one(const gemm_shape& shape, const gemm_operands<T>& operands) {
    detail::host_gemm::one(shape, operands, true);
  }
};

}  // namespace gift::backend
