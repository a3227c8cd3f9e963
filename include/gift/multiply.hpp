#pragma once
/// \file gift/multiply.hpp
/// \brief `gift::multiply(a, b, c, how)`: the dense product `c = a · b` or `c = a · bᵀ` of two
/// matrices of one backend, with bits that do not depend on the thread count; its companions
/// `gift::multiply_transposed` (`c = aᵀ · b`, a weight gradient) and `gift::scale` (`c = s · a`).
///
/// The model's frozen layers, its output head and every backend-generic part that multiplies go
/// through here: Eigen on the CPU (`detail::product_any_threads`), the host BLAS (Eigen on host
/// memory) for the Thrust host systems, cuBLAS for CUDA.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/multiply.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/multiply.hpp>
#include <gift/error.hpp>

#include <cstdint>

namespace gift {

/// How `multiply` reads its right factor.
enum class right_factor {
  as_is,      ///< `c = a · b`
  transposed  ///< `c = a · bᵀ` (a linear layer's `y = x Wᵀ` with W stored out × in)
};

/// `c = a · op(b)` with `op` given by `how`; `c` is resized. With `accumulate`, `c += a · op(b)`
/// and `c` must already have the product's shape. All three live on the backend their type
/// implies.
/// \throws gift::error when the inner dimensions differ or an accumulated `c` has another shape.
template <class Matrix>
  requires has_backend<Matrix>
void multiply(const Matrix& a, const Matrix& b, Matrix& c, right_factor how = right_factor::as_is,
              bool accumulate = false) {
  const auto a_cols = static_cast<std::int64_t>(a.cols());
  const auto inner = static_cast<std::int64_t>(how == right_factor::as_is ? b.rows() : b.cols());
  const auto result_cols = static_cast<std::int64_t>(how == right_factor::as_is ? b.cols() : b.rows());
  detail::require(a_cols == inner, "gift::multiply: argument 'a' has ", a_cols, " columns but 'b' gives ", inner,
                  how == right_factor::as_is ? " rows" : " columns (b is read transposed)",
                  "; the inner dimensions of a product must agree");
  detail::require(!accumulate || (static_cast<std::int64_t>(c.rows()) == static_cast<std::int64_t>(a.rows()) &&
                                  static_cast<std::int64_t>(c.cols()) == result_cols),
                  "gift::multiply: with accumulate, argument 'c' must be ", a.rows(), " x ", result_cols,
                  ", but it is ", c.rows(), " x ", c.cols());
  backend::dispatch<ops::multiply>(backend_for_t<Matrix>{}, a, b, c, how == right_factor::transposed, accumulate);
}

/// `c = aᵀ · b` (`c` resized), or `c += aᵀ · b` with `accumulate` (`c` already `a.cols() × b.cols()`):
/// a layer's weight gradient `dW += dyᵀ x` without forming the transpose. Same backends and the
/// same thread-count independent bits as `multiply`.
/// \throws gift::error when `a` and `b` have different row counts or an accumulated `c` has another shape.
template <class Matrix>
  requires has_backend<Matrix>
void multiply_transposed(const Matrix& a, const Matrix& b, Matrix& c, bool accumulate = false) {
  detail::require(static_cast<std::int64_t>(a.rows()) == static_cast<std::int64_t>(b.rows()),
                  "gift::multiply_transposed: arguments 'a' and 'b' must have the same number of rows (the summed "
                  "dimension of aᵀ · b), but have ", a.rows(), " and ", b.rows());
  detail::require(!accumulate || (static_cast<std::int64_t>(c.rows()) == static_cast<std::int64_t>(a.cols()) &&
                                  static_cast<std::int64_t>(c.cols()) == static_cast<std::int64_t>(b.cols())),
                  "gift::multiply_transposed: with accumulate, argument 'c' must be ", a.cols(), " x ", b.cols(),
                  ", but it is ", c.rows(), " x ", c.cols());
  backend::dispatch<ops::multiply_transposed>(backend_for_t<Matrix>{}, a, b, c, accumulate);
}

/// `c = value · a`, element by element, in `a`'s scalar type (`value` is rounded to it first); `c`
/// is resized and may be `a` itself.
template <class Matrix>
  requires has_backend<Matrix>
void scale(const Matrix& a, double value, Matrix& c) {
  backend::dispatch<ops::scale>(backend_for_t<Matrix>{}, a, value, c);
}

}  // namespace gift
