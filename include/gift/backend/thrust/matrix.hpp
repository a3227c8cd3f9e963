#pragma once
/// \file gift/backend/thrust/matrix.hpp
/// \brief `gift::thrust_matrix<T, System>`: a row-major matrix in a Thrust system's memory, and
/// the conversions to and from Eigen.

#include <gift/backend/thrust/system.hpp>
#include <gift/backend/traits.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <thrust/copy.h>
#include <thrust/functional.h>
#include <thrust/transform.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gift {

/// A dense row-major `rows × cols` matrix stored in a Thrust vector of `System` (a tag from
/// `gift::backend::system`). The same layout as `gift::matrix<T>`, so element (i, j) sits at
/// `i * cols + j` on every backend.
template <class T, class System>
class thrust_matrix {
public:
  /// Element type.
  using value_type = T;
  /// The Thrust system tag whose memory holds the elements.
  using system_type = System;
  /// The Thrust vector that stores the elements, row-major.
  using storage_type = backend::thrust_vector_t<System, T>;

  /// An empty 0 × 0 matrix.
  thrust_matrix() = default;
  /// A `rows × cols` matrix of zeros.
  thrust_matrix(std::size_t rows, std::size_t cols) : rows_(rows), cols_(cols), data_(rows * cols, T(0)) {}

  /// Copies an Eigen matrix or expression (any storage order) into `System`'s memory.
  template <class Derived>
  static thrust_matrix from_eigen(const Eigen::MatrixBase<Derived>& source) {
    const gift::matrix<T> row_major = source.template cast<T>();
    thrust_matrix result;
    result.rows_ = static_cast<std::size_t>(row_major.rows());
    result.cols_ = static_cast<std::size_t>(row_major.cols());
    result.data_.assign(row_major.data(), row_major.data() + row_major.size());
    return result;
  }

  /// Copies back into a row-major Eigen matrix on the host.
  [[nodiscard]] gift::matrix<T> to_eigen() const {
    gift::matrix<T> result(static_cast<Eigen::Index>(rows_), static_cast<Eigen::Index>(cols_));
    ::thrust::copy(data_.begin(), data_.end(), result.data());
    return result;
  }

  /// Makes the matrix `rows × cols`; the elements are unspecified afterwards (kept where the size
  /// did not change, which is what output buffers reused across calls want).
  void resize(std::size_t rows, std::size_t cols) {
    rows_ = rows;
    cols_ = cols;
    data_.resize(rows * cols);
  }

  /// Adds `other` (same shape) element by element, on `System`.
  /// \throws gift::error when the shapes differ.
  thrust_matrix& operator+=(const thrust_matrix& other) {
    gift::detail::require(other.rows_ == rows_ && other.cols_ == cols_, "gift::thrust_matrix::operator+=: shapes ",
                          rows_, " x ", cols_, " and ", other.rows_, " x ", other.cols_, " differ");
    ::thrust::transform(backend::thrust_system_traits<System>::policy(), data_.begin(), data_.end(),
                        other.data_.begin(), data_.begin(), ::thrust::plus<T>());
    return *this;
  }

  /// Number of rows.
  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  /// Number of columns.
  [[nodiscard]] std::size_t cols() const noexcept { return cols_; }
  /// Number of elements.
  [[nodiscard]] std::size_t size() const noexcept { return rows_ * cols_; }
  /// The underlying Thrust vector (row-major).
  [[nodiscard]] storage_type& storage() noexcept { return data_; }
  /// The underlying Thrust vector (row-major), read-only.
  [[nodiscard]] const storage_type& storage() const noexcept { return data_; }
  /// The first element, as a raw pointer into `System`'s memory (a device pointer on CUDA).
  [[nodiscard]] T* data() noexcept { return ::thrust::raw_pointer_cast(data_.data()); }
  /// \copydoc data()
  [[nodiscard]] const T* data() const noexcept { return ::thrust::raw_pointer_cast(data_.data()); }

private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  storage_type data_;
};

/// Thrust matrices run on the Thrust backend of their system.
template <class T, class System>
struct backend_for<thrust_matrix<T, System>> {
  /// Thrust on the matrix's system.
  using type = backend::thrust<System>;
};

/// Thrust matrices rebind to a Thrust matrix of the same system.
template <class T, class System, class U>
struct rebind_matrix<thrust_matrix<T, System>, U> {
  /// The same system's matrix of `U`.
  using type = thrust_matrix<U, System>;
};

/// The Thrust systems compute in `thrust_matrix` and the system's vector.
template <class System, class T>
struct backend_storage<backend::thrust<System>, T> {
  /// Dense row-major matrix in the system's memory.
  using matrix = thrust_matrix<T, System>;
  /// Vector in the system's memory.
  using vector = backend::thrust_vector_t<System, T>;
  /// A copy of a host matrix in the system's memory.
  static matrix from_host(const gift::matrix<T>& m) { return matrix::from_eigen(m); }
  /// A copy of a host vector in the system's memory.
  static vector from_host(const gift::vector<T>& v) { return vector(v.data(), v.data() + v.size()); }
  /// A host copy.
  static gift::matrix<T> to_host(const matrix& m) { return m.to_eigen(); }
  /// A host copy.
  static gift::vector<T> to_host(const vector& v) {
    gift::vector<T> result(static_cast<Eigen::Index>(v.size()));
    ::thrust::copy(v.begin(), v.end(), result.data());
    return result;
  }
  /// A `rows × cols` matrix of zeros.
  static matrix zeros(std::int64_t rows, std::int64_t cols) {
    return matrix(static_cast<std::size_t>(rows), static_cast<std::size_t>(cols));
  }
};

/// Copies a Thrust vector of any system into a host `gift::vector`.
template <class Vector>
gift::vector<typename Vector::value_type> to_eigen_vector(const Vector& source) {
  gift::vector<typename Vector::value_type> result(static_cast<Eigen::Index>(source.size()));
  ::thrust::copy(source.begin(), source.end(), result.data());
  return result;
}

}  // namespace gift
